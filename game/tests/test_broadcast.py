"""Committed turns reach their game's group without holding up the request."""

import asyncio
import logging

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer

from game import broadcast

SESSION = "7f3c2a9e5b4d4e1f8a6b0c2d4e6f8a0b"
MESSAGE = {"type": "turn", "session": SESSION, "turn": 3}


class HeldLayer(InMemoryChannelLayer):
    """Sends only once the test lets it, or fails if told to."""

    def __init__(self, fail=False):
        super().__init__()
        self.release = asyncio.Event()
        self.fail = fail

    async def group_send(self, group, message):
        if self.fail:
            raise ConnectionError("the channel layer is down")
        await self.release.wait()
        await super().group_send(group, message)


def test_a_request_thread_hands_the_send_to_the_event_loop_and_goes_on(monkeypatch):
    async def scenario():
        layer = HeldLayer()
        monkeypatch.setattr(broadcast, "get_channel_layer", lambda: layer)
        channel = await layer.new_channel()
        await layer.group_add(broadcast.session_group(SESSION), channel)

        # As a view does: on a thread the server's event loop started.
        await asyncio.wait_for(sync_to_async(broadcast.broadcast_event)(MESSAGE), 2)
        layer.release.set()
        received = await asyncio.wait_for(layer.receive(channel), 2)

        assert received == {"type": "turn.message", "message": MESSAGE}

    asyncio.run(scenario())


def test_a_send_that_fails_on_the_event_loop_is_logged(monkeypatch, caplog):
    async def scenario():
        layer = HeldLayer(fail=True)
        monkeypatch.setattr(broadcast, "get_channel_layer", lambda: layer)
        await sync_to_async(broadcast.broadcast_event)(MESSAGE)
        for _ in range(100):
            if caplog.records:
                break
            await asyncio.sleep(0.01)

    with caplog.at_level(logging.ERROR, logger="game.broadcast"):
        asyncio.run(scenario())

    [record] = caplog.records
    assert record.getMessage() == f"broadcast of turn for session {SESSION} failed"
    assert "the channel layer is down" in caplog.text


def test_off_the_server_the_send_is_done_before_it_returns(monkeypatch, caplog):
    layer = InMemoryChannelLayer()
    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: layer)
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(broadcast.session_group(SESSION), channel)

    broadcast.broadcast_event(MESSAGE)

    received = async_to_sync(layer.receive)(channel)
    assert received["message"] == MESSAGE


def test_off_the_server_a_failed_send_is_logged_not_raised(monkeypatch, caplog):
    layer = HeldLayer(fail=True)
    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: layer)

    with caplog.at_level(logging.ERROR, logger="game.broadcast"):
        broadcast.broadcast_event(MESSAGE)

    assert "broadcast of turn for session" in caplog.text
    assert "the channel layer is down" in caplog.text
