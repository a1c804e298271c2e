"""How many sockets watch each game, kept in the cache for every server to share.

The count rises as a watcher joins and falls as one leaves. A server that
dies cannot lower it for its own watchers, so each count also lapses a few
hours after it last changed; the figure is a guide for people, not a
measure anything depends on.
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WATCHERS_SECONDS = 6 * 3600


def _key(session_id) -> str:
    return f"watchers:{session_id}"


def watchers_join(session_id) -> int:
    """Count one more watcher; the new count."""
    key = _key(session_id)
    cache.add(key, 0, timeout=WATCHERS_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        # Lapsed between the add and the incr.
        cache.set(key, 1, timeout=WATCHERS_SECONDS)
        count = 1
    cache.touch(key, timeout=WATCHERS_SECONDS)
    return count


def watchers_leave(session_id) -> int:
    """Count one watcher fewer (never below zero); the new count."""
    key = _key(session_id)
    try:
        count = cache.decr(key)
    except ValueError:
        return 0
    if count < 0:
        cache.set(key, 0, timeout=WATCHERS_SECONDS)
        return 0
    cache.touch(key, timeout=WATCHERS_SECONDS)
    return count


def watchers_count(session_id) -> int:
    return max(int(cache.get(_key(session_id)) or 0), 0)


# Telling a game's sockets the count. Each join and leave would otherwise be
# one message to every socket of the game, so a crowd of N arriving at once
# would cost N * N messages. A server process tells a game at once when it
# has not told it for WS_WATCHERS_SECONDS; joins and leaves within that
# window are told together when it ends, with the count as it then stands.


class _Window:
    """A game this process told lately: whether more news waits for its end."""

    __slots__ = ("task", "waiting", "turn")

    def __init__(self, turn: int) -> None:
        self.task: asyncio.Task | None = None
        self.waiting = False
        self.turn = turn


_windows: dict[str, _Window] = {}


async def watchers_announce(
    layer, group: str, session_id: str, turn: int, count: int, sender: str
) -> None:
    """Tell the game's sockets ``count``, now or with the next batch.

    ``sender`` is the channel of the socket that joined or left; a count
    told at once is not sent back to it, as it is no news there.
    """
    window = _windows.get(session_id)
    loop = asyncio.get_running_loop()
    if window is not None and window.task is not None and not window.task.done():
        if window.task.get_loop() is loop:
            window.waiting = True
            window.turn = turn
            return
    window = _Window(turn)
    _windows[session_id] = window
    window.task = loop.create_task(_hold(layer, group, session_id, window))
    await _tell(layer, group, session_id, turn, count, sender)


async def _hold(layer, group: str, session_id: str, window: _Window) -> None:
    try:
        while True:
            await asyncio.sleep(settings.WS_WATCHERS_SECONDS)
            if not window.waiting:
                return
            window.waiting = False
            count = await database_sync_to_async(watchers_count)(session_id)
            await _tell(layer, group, session_id, window.turn, count, None)
    finally:
        if _windows.get(session_id) is window:
            del _windows[session_id]


async def _tell(layer, group, session_id, turn, count, sender) -> None:
    message = {"type": "watchers", "session": session_id, "turn": turn, "count": count}
    event = {"type": "turn.message", "message": message}
    if sender is not None:
        event["from"] = sender
    try:
        await layer.group_send(group, event)
    except Exception:
        logger.exception("watcher count of %s not sent", session_id)
