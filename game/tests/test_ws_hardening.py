"""The live sockets under hostile or careless clients, sign-outs and reconnects."""

import asyncio
import json
import logging

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from autobahn.exception import Disconnected
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from fortress_site.asgi import application
from game.tests.conftest import choose, client_for, start_game
from game.tests.test_auth_hardening import forged_tokens, token_pair
from game.tests.test_websocket import ORIGIN, connect, ticket_for


async def drain(ws, timeout=0.5) -> tuple[list[dict], int | None]:
    """Messages until the socket falls quiet or closes, and the close code.

    Watcher counts come and go as sockets join and leave; they are left out.
    """
    messages = []
    while True:
        # receive_nothing waits without cancelling the consumer, as a timed
        # out receive_output would.
        if await ws.receive_nothing(timeout=timeout):
            return messages, None
        output = await ws.receive_output()
        if output["type"] == "websocket.close":
            return messages, output.get("code")
        message = json.loads(output["text"])
        if message["type"] != "watchers":
            messages.append(message)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "kind", ["forged signature", "alg none", "expired", "refresh used as access"]
)
def test_bad_tokens_get_no_ticket_and_open_no_socket(ada, theme, kind):
    game = start_game(client_for(ada), theme)
    token = forged_tokens(ada)[kind]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post("/api/v1/ws-tickets/").status_code == 401

    async def scenario():
        # Neither as a ticket nor as a header does a token open a socket.
        for ws in (
            WebsocketCommunicator(
                application, f"/ws/sessions/{game['id']}/?ticket={token}"
            ),
            WebsocketCommunicator(
                application,
                f"/ws/sessions/{game['id']}/",
                headers=[(b"authorization", f"Bearer {token}".encode())],
            ),
        ):
            connected, code = await ws.connect()
            assert not connected
            assert code == 4401

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_an_oversized_frame_closes_the_socket(as_ada, theme):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)

    async def scenario():
        ws = connect(game["id"], ticket)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        await ws.send_to(text_data='{"type": "ping", "pad": "' + "x" * 5000 + '"}')
        replies, code = await drain(ws)
        assert replies[-1]["code"] == "too_large"
        assert code == 4413

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_frames_closes_the_socket(as_ada, theme):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)

    async def scenario():
        ws = connect(game["id"], ticket)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        for _ in range(30):
            await ws.send_json_to({"type": "ping"})
        replies, code = await drain(ws)
        assert replies.count({"type": "pong"}) == 20
        assert replies[-1]["code"] == "too_many"
        assert code == 4429

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_silent_socket_is_closed_and_a_pinging_one_is_not(as_ada, theme, settings):
    settings.WS_IDLE_SECONDS = 0.6
    game = start_game(as_ada, theme)
    silent_ticket, busy_ticket = ticket_for(as_ada), ticket_for(as_ada)

    async def scenario():
        silent = connect(game["id"], silent_ticket)
        busy = connect(game["id"], busy_ticket)
        assert (await silent.connect())[0] and (await busy.connect())[0]
        for _ in range(5):
            await busy.send_json_to({"type": "ping"})
            await asyncio.sleep(0.3)
        messages, code = await drain(silent, timeout=1)
        assert messages[-1]["code"] == "idle"
        assert code == 4408
        # The pinging socket outlived the silent one's 0.6 s by far.
        await busy.send_json_to({"type": "ping"})
        messages, code = await drain(busy)
        assert {"type": "pong"} in messages and code is None
        await busy.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_reconnecting_client_is_told_the_turns_it_missed_once_each(as_ada, theme):
    game = start_game(as_ada, theme)
    for turn in range(3):
        assert choose(as_ada, game["id"], turn).status_code == 201
    ticket = ticket_for(as_ada)

    async def scenario():
        ws = connect(game["id"], f"{ticket}&since=1")
        assert (await ws.connect())[0]
        hello = await ws.receive_json_from(timeout=5)
        assert (hello["type"], hello["turn"]) == ("hello", 3)
        missed = [await ws.receive_json_from(timeout=5) for _ in range(2)]
        assert [m["turn"] for m in missed] == [2, 3]
        assert all(m["type"] == "turn" and m["resync"] for m in missed)
        assert "view" in missed[-1] and "record" in missed[0]
        # A turn played now arrives once, after the missed ones.
        response = await sync_to_async(choose)(as_ada, game["id"], 3)
        assert response.status_code == 201
        live, _ = await drain(ws)
        assert [m["turn"] for m in live if m["type"] == "turn"] == [4]
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    "since", ["abc", "-1", "1e5", "1&since=2", "9" * 40, "%EF%BC%91"]
)
@pytest.mark.django_db(transaction=True)
def test_a_malformed_since_is_told_and_the_socket_stays_open(as_ada, theme, since):
    game = start_game(as_ada, theme)
    assert choose(as_ada, game["id"], 0).status_code == 201
    ticket = ticket_for(as_ada)

    async def scenario():
        ws = connect(game["id"], f"{ticket}&since={since}")
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
        told = await ws.receive_json_from(timeout=5)
        assert (told["type"], told["code"]) == ("error", "bad_since")
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_stored_turns_match_what_a_reconnect_tells(as_ada, theme):
    game = start_game(as_ada, theme)
    for turn in range(2):
        assert choose(as_ada, game["id"], turn).status_code == 201
    ticket = ticket_for(as_ada)
    stored = as_ada.get(f"/api/v1/sessions/{game['id']}/turns/").json()["results"]

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sessions/{game['id']}/?ticket={ticket}&since=0"
        )
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        return [await ws.receive_json_from(timeout=5) for _ in range(2)]

    told = async_to_sync(scenario)()
    assert [t["record"] for t in told] == [s["record"] for s in stored]


@pytest.mark.django_db(transaction=True)
def test_api_sign_out_closes_the_accounts_api_sockets(ada, theme):
    pair = token_pair("ada")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    game = start_game(client, theme)
    ticket = ticket_for(client)

    async def scenario():
        ws = connect(game["id"], ticket)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        response = await sync_to_async(client.post)(
            "/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json"
        )
        assert response.status_code == 204
        messages, code = await drain(ws, timeout=5)
        assert messages == [{"type": "closed", "reason": "signed_out"}]
        assert code == 4401

    async_to_sync(scenario)()


def browser_socket(client, game_id):
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return WebsocketCommunicator(
        application,
        f"/ws/sessions/{game_id}/",
        headers=[*ORIGIN, (b"cookie", cookie)],
    )


@pytest.mark.django_db(transaction=True)
def test_browser_sign_out_closes_that_browsers_sockets_only(client, ada, theme):
    from django.test import Client

    game = start_game(client_for(ada), theme)
    other = Client()
    for browser in (client, other):
        browser.force_login(ada)

    async def scenario():
        leaving = browser_socket(client, game["id"])
        staying = browser_socket(other, game["id"])
        assert (await leaving.connect())[0] and (await staying.connect())[0]
        await leaving.receive_json_from(timeout=5)
        await staying.receive_json_from(timeout=5)
        response = await sync_to_async(client.post)("/logout/")
        assert response.status_code == 302
        messages, code = await drain(leaving, timeout=5)
        assert messages == [{"type": "closed", "reason": "signed_out"}]
        assert code == 4401
        await staying.send_json_to({"type": "ping"})
        messages, code = await drain(staying)
        assert messages == [{"type": "pong"}] and code is None
        await staying.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_disabling_an_account_closes_all_its_sockets(ada, theme):
    as_ada = client_for(ada)
    game = start_game(as_ada, theme)
    tickets = [ticket_for(as_ada), ticket_for(as_ada)]

    async def scenario():
        sockets = [connect(game["id"], t) for t in tickets]
        for ws in sockets:
            assert (await ws.connect())[0]
            await ws.receive_json_from(timeout=5)

        def disable():
            ada.is_active = False
            ada.save()

        await sync_to_async(disable)()
        for ws in sockets:
            messages, code = await drain(ws, timeout=5)
            assert messages == [{"type": "closed", "reason": "account_disabled"}]
            assert code == 4401

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_making_a_game_private_closes_its_spectators_sockets(as_ada, as_bram, theme):
    game = start_game(as_ada, theme)
    url = f"/api/v1/sessions/{game['id']}/"
    as_ada.patch(url, {"visibility": "public"}, format="json")
    owner_ticket, spectator_ticket = ticket_for(as_ada), ticket_for(as_bram)

    async def scenario():
        owner, spectator = (
            connect(game["id"], owner_ticket),
            connect(game["id"], spectator_ticket),
        )
        for ws in (owner, spectator):
            assert (await ws.connect())[0]
            assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
        await drain(owner)

        closed = await sync_to_async(as_ada.patch)(
            url, {"visibility": "private"}, format="json"
        )
        assert closed.status_code == 200
        told, code = await drain(spectator, timeout=5)
        assert told == [{"type": "closed", "reason": "game_private"}]
        assert code == 4404

        played = await sync_to_async(choose)(as_ada, game["id"], 0)
        assert played.status_code == 201
        seen, code = await drain(owner, timeout=2)
        assert [m["type"] for m in seen] == ["visibility", "turn"]
        assert seen[0]["visibility"] == "private"
        assert code is None
        await owner.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_message_for_a_socket_its_client_just_closed_is_dropped_quietly(
    as_ada, theme, caplog
):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)
    gone = {"now": False}

    async def closed_by_the_client(scope, receive, send):
        # What daphne does when a send reaches a socket already closed.
        async def send_or_fail(message):
            if gone["now"] and message["type"] == "websocket.send":
                raise Disconnected("Attempt to send on a closed protocol")
            await send(message)

        await application(scope, receive, send_or_fail)

    async def scenario():
        ws = connect(game["id"], ticket, app=closed_by_the_client)
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
        gone["now"] = True
        played = await sync_to_async(choose)(as_ada, game["id"], 0)
        assert played.status_code == 201
        assert await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()

    with caplog.at_level(logging.ERROR):
        async_to_sync(scenario)()
    assert "failed" not in caplog.text
