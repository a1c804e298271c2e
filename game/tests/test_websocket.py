"""The live turn stream at /ws/sessions/<id>/, with ticket authentication."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from fortress_site.asgi import application
from game import services
from game.tests.conftest import choose, error_of, start_game

ORIGIN = [(b"origin", b"http://testserver")]


def ticket_for(client) -> str:
    response = client.post("/api/v1/ws-tickets/")
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] > 0
    return body["ticket"]


def connect(session_id, ticket, app=application):
    return WebsocketCommunicator(
        app, f"/ws/sessions/{session_id}/?ticket={ticket}", headers=ORIGIN
    )


@pytest.mark.django_db(transaction=True)
def test_ticket_holder_receives_the_turn_a_rest_call_commits(as_ada, theme):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)

    async def scenario():
        ws = connect(game["id"], ticket)
        connected, _ = await ws.connect()
        assert connected
        hello = await ws.receive_json_from(timeout=5)
        assert hello == {
            "type": "hello",
            "session": game["id"],
            "turn": 0,
            "watchers": 1,
        }

        response = await sync_to_async(choose)(as_ada, game["id"], 0)
        assert response.status_code == 201

        message = await ws.receive_json_from(timeout=5)
        assert message["type"] == "turn"
        assert message["turn"] == 1
        assert message["session"] == game["id"]
        assert message["record"] == response.json()["record"]
        assert message["view"]["turn"] == 1

        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_ticket_works_only_once(as_ada, theme):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)

    async def scenario():
        first = connect(game["id"], ticket)
        assert (await first.connect())[0]
        await first.disconnect()

        second = connect(game["id"], ticket)
        connected, code = await second.connect()
        assert not connected
        assert code == 4401

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_other_players_join_of_a_private_game_is_refused(as_ada, as_bram, theme):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_bram)

    async def scenario():
        ws = connect(game["id"], ticket)
        connected, code = await ws.connect()
        assert not connected
        assert code == 4404

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_spectator_of_a_public_game_receives_turns(as_ada, as_bram, theme):
    game = start_game(as_ada, theme)
    as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"visibility": "public"}, format="json"
    )
    ticket = ticket_for(as_bram)

    async def scenario():
        ws = connect(game["id"], ticket)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        await sync_to_async(choose)(as_ada, game["id"], 0)
        message = await ws.receive_json_from(timeout=5)
        assert (message["type"], message["turn"]) == ("turn", 1)
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_connection_without_credentials_is_refused(as_ada, theme):
    game = start_game(as_ada, theme)

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sessions/{game['id']}/", headers=ORIGIN
        )
        connected, code = await ws.connect()
        assert not connected
        assert code == 4401

    async_to_sync(scenario)()


def test_ticket_request_needs_authentication(anonymous, db):
    assert anonymous.post("/api/v1/ws-tickets/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_api_client_without_origin_header_connects_with_a_ticket(as_ada, theme):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sessions/{game['id']}/?ticket={ticket}"
        )
        connected, _ = await ws.connect()
        assert connected
        hello = await ws.receive_json_from(timeout=5)
        assert hello["turn"] == 0
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_cookie_without_origin_header_is_not_enough(client, ada, theme):
    client.force_login(ada)
    game = services.session_create(owner=ada, theme_slug=theme.slug, seed=2)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sessions/{game.id}/", headers=[(b"cookie", cookie)]
        )
        connected, _ = await ws.connect()
        assert not connected
        with_origin = WebsocketCommunicator(
            application,
            f"/ws/sessions/{game.id}/",
            headers=[(b"cookie", cookie), *ORIGIN],
        )
        connected, _ = await with_origin.connect()
        assert connected
        await with_origin.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_foreign_origin_is_refused_even_with_a_ticket(as_ada, theme):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)

    async def scenario():
        ws = WebsocketCommunicator(
            application,
            f"/ws/sessions/{game['id']}/?ticket={ticket}",
            headers=[(b"origin", b"https://evil.example")],
        )
        connected, _ = await ws.connect()
        assert not connected

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    "path", ["/ws/sessions/not-a-uuid/", "/ws/elsewhere/", "/ws/sessions/x/y/"]
)
def test_unknown_socket_paths_are_refused_not_crashed(path):
    async def scenario():
        ws = WebsocketCommunicator(application, path, headers=ORIGIN)
        connected, _ = await ws.connect()
        assert not connected

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_deeply_nested_frame_gets_an_error_not_a_crash(as_ada, theme):
    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)

    async def scenario():
        ws = connect(game["id"], ticket)
        connected, _ = await ws.connect()
        assert connected
        await ws.receive_json_from(timeout=5)
        # Within the frame size limit, yet too deep for the JSON decoder.
        await ws.send_to(text_data="[" * 2000 + "]" * 2000)
        reply = await ws.receive_json_from(timeout=5)
        assert reply["code"] == "bad_frame"
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_socket_traffic_is_counted_by_direction(as_ada, theme):
    from prometheus_client import REGISTRY

    def count(direction):
        name = "fortress_websocket_messages_total"
        return REGISTRY.get_sample_value(name, {"direction": direction}) or 0.0

    game = start_game(as_ada, theme)
    ticket = ticket_for(as_ada)
    before_in, before_out = count("in"), count("out")

    async def scenario():
        ws = connect(game["id"], ticket)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "ping"})
        await ws.receive_json_from(timeout=5)
        await ws.disconnect()

    async_to_sync(scenario)()
    assert count("in") == before_in + 1
    assert count("out") == before_out + 2


@pytest.mark.django_db(transaction=True)
def test_a_crowd_joining_at_once_is_told_in_one_count(as_ada, as_bram, theme, settings):
    settings.WS_WATCHERS_SECONDS = 0.5
    game = start_game(as_ada, theme)
    as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"visibility": "public"}, format="json"
    )
    owner_ticket = ticket_for(as_ada)
    crowd_tickets = [ticket_for(as_bram) for _ in range(6)]

    async def scenario():
        owner = connect(game["id"], owner_ticket)
        assert (await owner.connect())[0]
        assert (await owner.receive_json_from(timeout=5))["watchers"] == 1
        crowd = [connect(game["id"], ticket) for ticket in crowd_tickets]
        for spectator in crowd:
            assert (await spectator.connect())[0]

        told = await owner.receive_json_from(timeout=5)
        assert (told["type"], told["count"]) == ("watchers", 7)
        assert await owner.receive_nothing(timeout=0.8)
        for spectator in crowd:
            await spectator.disconnect()
        await owner.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_everyone_watching_hears_how_many_are_watching(as_ada, as_bram, theme):
    game = start_game(as_ada, theme)
    as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"visibility": "public"}, format="json"
    )
    owner_ticket, spectator_ticket = ticket_for(as_ada), ticket_for(as_bram)

    async def scenario():
        owner = connect(game["id"], owner_ticket)
        assert (await owner.connect())[0]
        assert (await owner.receive_json_from(timeout=5))["watchers"] == 1

        spectator = connect(game["id"], spectator_ticket)
        assert (await spectator.connect())[0]
        assert (await spectator.receive_json_from(timeout=5))["watchers"] == 2
        joined = await owner.receive_json_from(timeout=5)
        assert (joined["type"], joined["count"], joined["turn"]) == ("watchers", 2, 0)

        await spectator.disconnect()
        left = await owner.receive_json_from(timeout=5)
        assert (left["type"], left["count"]) == ("watchers", 1)
        assert await owner.receive_nothing(timeout=0.2)
        await owner.disconnect()

    async_to_sync(scenario)()


def test_a_ticket_request_takes_no_fields(as_ada):
    response = as_ada.post(
        "/api/v1/ws-tickets/", {"session": "some-game"}, format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["details"] == {"session": ["Unknown field."]}
    assert as_ada.post("/api/v1/ws-tickets/", {}, format="json").status_code == 201
