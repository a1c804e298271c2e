"""The game master's console in the admin: inspect, intervene, act, audit."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission

from fortress_site.asgi import application
from game import services
from game.errors import Forbidden
from game.models import GameSession, Turn
from game.tests.conftest import choose, start_game

ORIGIN = [(b"origin", b"http://testserver")]


@pytest.fixture
def gm_client(client, gemma):
    client.force_login(gemma)
    return client


@pytest.fixture
def game(as_ada, theme):
    """Ada's game, two turns in."""
    game = start_game(as_ada, theme, seed=21)
    for turn in range(2):
        assert choose(as_ada, game["id"], turn).status_code == 201
    return GameSession.objects.get(pk=game["id"])


def intervene(client, session, **fields):
    data = {"expected_turn": session.turn_number, "function": "", "args": ""}
    data.update(fields)
    return client.post(f"/admin/game/gamesession/{session.pk}/intervene/", data)


@pytest.mark.django_db(transaction=True)
def test_an_intervention_is_a_judged_turn_the_player_sees_live(gm_client, as_ada, game):
    ticket = as_ada.post("/api/v1/ws-tickets/").json()["ticket"]

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sessions/{game.pk}/?ticket={ticket}", headers=ORIGIN
        )
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["turn"] == 2
        response = await sync_to_async(intervene)(
            gm_client,
            game,
            function="spread_disease",
            args='{"amount": 10}',
            text="A fever comes up the river.",
        )
        message = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return response, message

    response, message = async_to_sync(scenario)()

    assert response.status_code == 302
    assert response["Location"] == f"/admin/game/gamesession/{game.pk}/inspect/"
    turn = Turn.objects.get(session=game, number=3)
    assert turn.record["actor"] == "gm"
    assert turn.record["narrative"][0] == "A fever comes up the river."
    ruling = turn.record["proposals"][0]
    assert (ruling["agent"], ruling["function"], ruling["verdict"]) == (
        "gm",
        "spread_disease",
        "accepted",
    )
    assert (message["type"], message["turn"]) == ("turn", 3)
    assert message["record"]["actor"] == "gm"
    assert as_ada.get(f"/api/v1/sessions/{game.pk}/verify/").json()["ok"] is True
    entry = LogEntry.objects.get(object_id=str(game.pk))
    assert "turn 3" in entry.change_message


def test_a_game_master_sets_the_next_scene_from_the_deck(gm_client, as_ada, game):
    scene_id = sorted(game.theme.data["scenes"], key=lambda s: s["id"])[-1]["id"]

    response = intervene(gm_client, game, scene=scene_id, text="Riders come.")

    assert response.status_code == 302
    session = as_ada.get(f"/api/v1/sessions/{game.pk}/").json()
    assert session["turn"] == 3
    assert session["view"]["scene"]["id"] == scene_id
    assert as_ada.get(f"/api/v1/sessions/{game.pk}/verify/").json()["ok"] is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"function": "spread_disease", "args": "{not json"}, "Not JSON"),
        ({"function": "spread_disease", "args": "[1, 2]"}, "Give an object"),
        ({"function": "spread_disease", "args": '{"amount": 9999}'}, "amount"),
        ({"function": "", "args": ""}, "needs a function, a scene or both"),
        ({"scene": "no_such_scene"}, "Select a valid choice"),
        ({"function": "spread_disease", "args": "{}", "expected_turn": 0}, "turn"),
    ],
    ids=["bad json", "not an object", "out of range", "empty", "scene", "stale"],
)
def test_a_bad_intervention_is_explained_and_plays_nothing(
    gm_client, game, fields, message
):
    response = intervene(gm_client, game, **fields)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Turn.objects.filter(session=game).count() == 2


def test_intervening_needs_its_own_permission(client, make_user, game):
    viewer = make_user("vera", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_gamesession"))
    client.force_login(viewer)

    page = client.get(f"/admin/game/gamesession/{game.pk}/change/")
    assert page.status_code == 200
    assert b"Inspect turn by turn" in page.content
    assert b"/intervene/" not in page.content
    assert (
        client.get(f"/admin/game/gamesession/{game.pk}/intervene/").status_code == 403
    )
    assert intervene(client, game, function="wait").status_code == 403
    with pytest.raises(Forbidden):
        services.turn_submit_gm(
            session_id=game.pk,
            user=viewer,
            event={"function": "wait"},
            expected_turn=2,
        )
    assert Turn.objects.filter(session=game).count() == 2


def test_players_cannot_send_game_master_events(as_ada, game):
    response = as_ada.post(
        f"/api/v1/sessions/{game.pk}/turns/",
        {"expected_turn": 2, "action": {"type": "gm_event", "function": "wait"}},
        format="json",
    )

    assert response.status_code == 400
    assert Turn.objects.filter(session=game).count() == 2


def test_the_inspector_shows_the_timeline_states_and_changes(gm_client, game):
    url = f"/admin/game/gamesession/{game.pk}/inspect/"

    page = gm_client.get(url).content.decode()
    assert 'id="turn-1"' in page and 'id="turn-2"' in page
    assert "accepted" in page
    assert "does not replay" not in page

    state = gm_client.get(url, {"state": 2}).content.decode()
    assert "State after turn 2 (rebuilt by replay)" in state
    assert "&quot;turn&quot;: 2" in state

    diff = gm_client.get(url, {"from": 0, "to": 2}).content.decode()
    assert "Changes from turn 0 to turn 2" in diff
    assert "<code>" in diff

    nonsense = gm_client.get(url, {"state": "99", "from": "x", "to": "-1"})
    assert nonsense.status_code == 200
    told = nonsense.content.decode()
    assert "(rebuilt by replay)" not in told
    assert "There is no turn &#x27;99&#x27; to show (state=)" in told
    assert "There is no turn &#x27;x&#x27; to show (from=)" in told
    assert "There is no turn &#x27;-1&#x27; to show (to=)" in told
    assert "this game has turns 0 to 2." in told


def test_the_inspector_marks_a_tampered_turn(gm_client, game):
    turn = Turn.objects.get(session=game, number=1)
    record = turn.record
    record["narrative"] = ["Nothing happened at all."]
    Turn.objects.filter(pk=turn.pk).update(record=record)

    page = gm_client.get(f"/admin/game/gamesession/{game.pk}/inspect/")

    assert "does not replay" in page.content.decode()


def _act(client, action, *sessions, **extra):
    return client.post(
        "/admin/game/gamesession/",
        {
            "action": action,
            "_selected_action": [str(s.pk) for s in sessions],
            **extra,
        },
    )


def test_game_masters_make_games_public_or_private(gm_client, game):
    _act(gm_client, "make_public", game)
    game.refresh_from_db()
    assert game.visibility == "public"

    _act(gm_client, "make_private", game)
    game.refresh_from_db()
    assert game.visibility == "private"
    assert LogEntry.objects.filter(object_id=str(game.pk)).count() == 2


def test_viewers_may_not_change_games_through_actions(client, make_user, game):
    viewer = make_user("vera", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_gamesession"))
    client.force_login(viewer)

    for action in ("make_public", "abandon", "switch_voice"):
        _act(client, action, game, voice="rule-based")

    game.refresh_from_db()
    assert (game.status, game.visibility) == ("active", "private")
    listing = client.get("/admin/game/gamesession/").content.decode()
    assert 'value="abandon"' not in listing
    assert 'value="verify_chain"' in listing


@pytest.mark.django_db(transaction=True)
def test_an_abandoned_game_says_so_to_its_player_at_once(gm_client, as_ada, game):
    ticket = as_ada.post("/api/v1/ws-tickets/").json()["ticket"]

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sessions/{game.pk}/?ticket={ticket}", headers=ORIGIN
        )
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        await sync_to_async(_act)(gm_client, "abandon", game)
        message = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return message

    message = async_to_sync(scenario)()

    assert (message["type"], message["status"], message["turn"]) == (
        "status",
        "abandoned",
        2,
    )
    gm_client.force_login(game.owner)
    page = gm_client.get(f"/games/{game.pk}/").content.decode()
    assert 'data-status="abandoned"' in page
    assert "A game master has ended this siege here" in page
    assert 'class="option ' not in page


def test_an_abandoned_game_takes_no_more_turns(gm_client, as_ada, game):
    response = _act(gm_client, "abandon", game)

    assert response.status_code == 302
    game.refresh_from_db()
    assert game.status == "abandoned"
    assert choose(as_ada, game.pk, 2).status_code == 409
    refused = gm_client.get(f"/admin/game/gamesession/{game.pk}/intervene/")
    assert refused.status_code == 302
    again = _act(gm_client, "abandon", game)
    assert again.status_code == 302
    assert any(
        "already abandoned" in str(message)
        for message in gm_client.get("/admin/game/gamesession/").context["messages"]
    )


def test_a_transcript_exports_as_a_json_download(gm_client, game, as_ada, theme):
    response = _act(gm_client, "export_transcript", game)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="fortress-{game.pk}.json"'
    )
    document = json.loads(response.content)
    assert [turn["number"] for turn in document["turns"]] == [1, 2]

    other = GameSession.objects.get(pk=start_game(as_ada, theme, seed=3)["id"])
    refused = _act(gm_client, "export_transcript", game, other)
    assert refused.status_code == 302


def test_the_admin_index_shows_todays_figures(gm_client, as_ada, game, theme):
    ended = start_game(as_ada, theme, seed=3)
    game_over = as_ada.get(f"/api/v1/sessions/{ended['id']}/").json()
    turn = 0
    while game_over["status"] == "active":
        assert choose(as_ada, ended["id"], turn).status_code == 201
        turn += 1
        game_over = as_ada.get(f"/api/v1/sessions/{ended['id']}/").json()

    page = gm_client.get("/admin/").content.decode()

    assert "Games started</th><td>2" in page
    assert "Games ended</th><td>1" in page
    assert "Games in play</th><td>1" in page
    assert f"{theme.slug}: {game_over['ending']}</th><td>1</td>" in page


def test_the_admin_history_is_readable_and_not_editable(gm_client, game):
    _act(gm_client, "make_public", game)
    entry = LogEntry.objects.get()

    listing = gm_client.get("/admin/admin/logentry/")
    assert listing.status_code == 200
    assert "Made public." in listing.content.decode()
    detail = gm_client.get(f"/admin/admin/logentry/{entry.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    deleted = gm_client.post(
        f"/admin/admin/logentry/{entry.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()
