"""Games that speak through language models, against a fake model server.

Such a game's turns are answered 202 and played by a task; its socket
streams which agent is working, then the turn. Every failure of the model
falls back to the rule-based agent and says so; the game replays and
verifies with no model at all. Tasks run in-process here (see
test_celery_worker.py for a real worker).
"""

import importlib
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from agents.llm import CircuitBreaker
from agents.llm.fake_server import FakeModelServer
from fortress_site.asgi import application
from fortress_site.celery import app
from game import tasks, voices
from game.live_site import PROJECT_ROOT, free_port
from game.models import GameSession, PendingTurn, Turn
from game.tests.conftest import choose, error_of

ORIGIN = [(b"origin", b"http://testserver")]
ALL_AGENTS = {"planner": {}, "characters": {}, "events": {}, "narrator": {}}


@pytest.fixture(scope="module")
def model_server():
    with FakeModelServer() as server:
        yield server


def _profile(base_url, backend="ollama", **defaults):
    return {
        "defaults": {
            "backend": backend,
            "base_url": base_url,
            "model": "fake-voice",
            "timeout": 5,
            **defaults,
        },
        "agents": ALL_AGENTS,
    }


@pytest.fixture(autouse=True)
def voiced_site(settings, model_server, monkeypatch):
    """Profiles on the fake server, a fresh breaker, and tasks run here."""
    model_server.reset()
    settings.FORTRESS_VOICES = {
        "profiles": {
            "fake": _profile(model_server.url),
            "fake-openai": _profile(model_server.url, backend="openai"),
            "garbled": _profile(model_server.url_for("malformed_json")),
            "off-schema": _profile(model_server.url_for("schema_violation")),
            "failing": _profile(model_server.url_for("server_error"), retries=0),
            "slow": _profile(model_server.url_for("slow"), timeout=0.2, retries=0),
            "refusing": _profile(model_server.url_for("refusal"), backend="openai"),
            "down": _profile(f"http://127.0.0.1:{free_port()}", retries=0),
        }
    }
    monkeypatch.setattr(voices, "BREAKER", CircuitBreaker())
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield settings
    app.conf.task_always_eager = eager


def start_voiced(client, theme, voice="fake", **extra):
    response = client.post(
        "/api/v1/sessions/",
        {"theme": theme.slug, "seed": 7, "voice": voice, **extra},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def play_voiced(client, game_id, turns):
    for turn in range(turns):
        response = choose(client, game_id, turn)
        assert response.status_code == 202, response.content
        pending = client.get(response["Location"]).json()
        assert pending["state"] == "done", pending


@pytest.mark.django_db(transaction=True)
def test_a_voiced_turn_is_accepted_then_played_by_its_task(as_ada, theme, model_server):
    game = start_voiced(as_ada, theme)
    assert game["voice"] == {
        "profile": "fake",
        "agents": {
            agent: {"backend": "ollama", "model": "fake-voice"} for agent in ALL_AGENTS
        },
    }

    response = choose(as_ada, game["id"], 0)

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["pending"]["turn"] == 1
    # With no broker the task ran before the answer; the body says so.
    assert (body["turn"], body["pending"]["state"]) == (1, "done")
    assert response["Location"] == (
        f"/api/v1/sessions/{game['id']}/pending/{body['pending']['id']}/"
    )
    pending = as_ada.get(response["Location"]).json()
    assert (pending["state"], pending["error"]) == ("done", None)
    session = as_ada.get(f"/api/v1/sessions/{game['id']}/").json()
    assert (session["turn"], session["pending"]) == (1, None)
    record = as_ada.get(f"/api/v1/sessions/{game['id']}/turns/1/").json()["record"]
    exchanges = record["recordings"]
    assert {e["agent"] for e in exchanges} >= {"events", "narrator"}
    assert all(e["outcome"] == "ok" for e in exchanges), exchanges
    assert all(e["model"] == "fake-voice" for e in exchanges)
    assert model_server.count("/api/chat") == len(exchanges)


@pytest.mark.django_db(transaction=True)
def test_the_socket_streams_the_agents_at_work_then_the_turn(as_ada, theme):
    game = start_voiced(as_ada, theme)
    ticket = as_ada.post("/api/v1/ws-tickets/").json()["ticket"]

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sessions/{game['id']}/?ticket={ticket}", headers=ORIGIN
        )
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["type"] == "hello"

        response = await sync_to_async(choose)(as_ada, game["id"], 0)
        assert response.status_code == 202

        messages = []
        while not messages or messages[-1]["type"] != "turn":
            messages.append(await ws.receive_json_from(timeout=10))
        await ws.disconnect()
        return messages

    messages = async_to_sync(scenario)()

    assert messages[0]["type"] == "pending"
    assert messages[0]["pending"]["turn"] == 1
    working = [m["pending"]["agent"] for m in messages if m["type"] == "progress"]
    assert working[-2:] == ["events", "narrator"]
    assert all(m["turn"] == 0 for m in messages[:-1])
    assert messages[-1]["turn"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_voiced_game_verifies_and_forks_with_the_model_gone(
    as_ada, theme, voiced_site, model_server
):
    game = start_voiced(as_ada, theme, voice="fake-openai")
    play_voiced(as_ada, game["id"], 4)
    requests_made = len(model_server.requests)

    voiced_site.FORTRESS_VOICES = {}
    report = as_ada.get(f"/api/v1/sessions/{game['id']}/verify/").json()
    fork = as_ada.post(
        f"/api/v1/sessions/{game['id']}/fork/", {"turn": 3}, format="json"
    ).json()

    assert report["ok"], report
    assert len(model_server.requests) == requests_made, "replay called the model"
    source_turns = Turn.objects.filter(session_id=game["id"]).order_by("number")
    fork_turns = Turn.objects.filter(session_id=fork["id"]).order_by("number")
    assert [(t.chain_hash, t.record) for t in fork_turns] == [
        (t.chain_hash, t.record) for t in source_turns[:3]
    ]
    assert fork_turns[0].record["recordings"], "the fork kept the recordings"
    assert GameSession.objects.get(pk=fork["id"]).voice == {
        "profile": "fake-openai",
        "agents": {},
    }


@pytest.mark.django_db(transaction=True)
def test_a_tampered_recording_is_caught_at_its_turn(as_ada, theme):
    game = start_voiced(as_ada, theme)
    play_voiced(as_ada, game["id"], 3)
    turn = Turn.objects.get(session_id=game["id"], number=2)
    record = turn.record
    narrator = next(e for e in record["recordings"] if e["agent"] == "narrator")
    narrator["reply"]["paragraphs"] = ["The walls turned to gold."]
    Turn.objects.filter(pk=turn.pk).update(record=record)

    report = as_ada.get(f"/api/v1/sessions/{game['id']}/verify/").json()

    assert not report["ok"]
    assert report["first_bad_turn"] == 2


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        ("garbled", "invalid_json"),
        ("off-schema", "schema"),
        ("failing", "http_error"),
        ("slow", "timeout"),
        ("refusing", "refusal"),
        ("down", "connection"),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_a_failing_model_falls_back_and_says_why(
    as_ada, client, theme, profile, reason
):
    game = start_voiced(as_ada, theme, voice=profile)

    play_voiced(as_ada, game["id"], 1)

    record = as_ada.get(f"/api/v1/sessions/{game['id']}/turns/1/").json()["record"]
    reasons = {e["reason"] for e in record["recordings"]}
    assert reasons <= {reason, "circuit_open"}, reasons
    assert reason in reasons
    assert all(e["outcome"] == "fallback" for e in record["recordings"])
    assert record["narrative"], "the rule-based narrator told the turn"
    metrics_text = client.get("/metrics").content.decode()
    assert f'reason="{reason}"' in metrics_text
    assert "fortress_voice_requests_total" in metrics_text


@pytest.mark.django_db(transaction=True)
def test_no_other_turn_is_taken_while_one_is_pending(as_ada, theme, monkeypatch):
    game = start_voiced(as_ada, theme)
    # The message is queued but no worker has taken it yet.
    monkeypatch.setattr(tasks.turn_resolve, "apply_async", _queued_only)

    first = choose(as_ada, game["id"], 0)
    second = choose(as_ada, game["id"], 0, option=1)

    assert first.status_code == 202
    assert second.status_code == 409
    error = error_of(second)
    assert error["code"] == "turn_pending"
    assert error["details"]["current_turn"] == 0
    assert error["details"]["pending"]["id"] == first.json()["pending"]["id"]
    session = as_ada.get(f"/api/v1/sessions/{game['id']}/").json()
    assert session["pending"]["state"] == "queued"

    pending_id = first.json()["pending"]["id"]
    assert tasks.turn_resolve.apply(args=[pending_id]).get()["ran"] is True
    assert tasks.turn_resolve.apply(args=[pending_id]).get()["ran"] is False
    assert Turn.objects.filter(session_id=game["id"]).count() == 1
    assert choose(as_ada, game["id"], 1).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_a_game_switched_to_rule_based_still_waits_for_its_pending_turn(
    as_ada, theme, monkeypatch
):
    game, pending_id = queued_turn(as_ada, theme, monkeypatch)
    assert GameSession.objects.get(pk=game["id"]).check_pending is True

    as_ada.patch(f"/api/v1/sessions/{game['id']}/", {"voice": None}, format="json")
    meanwhile = choose(as_ada, game["id"], 0)

    assert meanwhile.status_code == 409
    assert error_of(meanwhile)["code"] == "turn_pending"
    assert tasks.turn_resolve.apply(args=[pending_id]).get()["ran"] is True
    assert GameSession.objects.get(pk=game["id"]).check_pending is False
    after = choose(as_ada, game["id"], 1)
    assert after.status_code == 201
    assert after.json()["turn"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_failed_pending_turn_leaves_the_game_playable(as_ada, theme, monkeypatch):
    game, pending_id = queued_turn(as_ada, theme, monkeypatch)
    PendingTurn.objects.filter(pk=pending_id).update(
        state="failed", error="The model server went away."
    )

    as_ada.patch(f"/api/v1/sessions/{game['id']}/", {"voice": None}, format="json")
    played = choose(as_ada, game["id"], 0)

    assert played.status_code == 201
    assert GameSession.objects.get(pk=game["id"]).check_pending is False


@pytest.mark.django_db(transaction=True)
def test_the_migration_flags_games_whose_turn_is_already_pending(
    as_ada, theme, monkeypatch
):
    from django.apps import apps

    migration = importlib.import_module("game.migrations.0005_check_pending")
    game = start_voiced(as_ada, theme)
    monkeypatch.setattr(tasks.turn_resolve, "apply_async", _queued_only)
    choose(as_ada, game["id"], 0)
    idle = start_voiced(as_ada, theme)
    GameSession.objects.update(check_pending=False)

    migration.flag_games_with_open_pending_turns(apps, None)

    assert GameSession.objects.get(pk=game["id"]).check_pending is True
    assert GameSession.objects.get(pk=idle["id"]).check_pending is False


def queued_turn(client, theme, monkeypatch):
    """A voiced game with its first turn queued, and no worker to take it."""
    game = start_voiced(client, theme)
    monkeypatch.setattr(tasks.turn_resolve, "apply_async", _queued_only)
    return game, choose(client, game["id"], 0).json()["pending"]["id"]


def _queued_only(*args, **kwargs):
    class Sent:
        id = "queued-but-not-run"

    return Sent()


@pytest.mark.django_db(transaction=True)
def test_a_repeated_idempotency_key_returns_the_same_pending_turn(
    as_ada, theme, monkeypatch
):
    game = start_voiced(as_ada, theme)
    monkeypatch.setattr(tasks.turn_resolve, "apply_async", _queued_only)

    first = choose(as_ada, game["id"], 0, HTTP_IDEMPOTENCY_KEY="voiced-1")
    again = choose(as_ada, game["id"], 0, HTTP_IDEMPOTENCY_KEY="voiced-1")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PendingTurn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_lost_turn_frees_its_game_and_a_redelivered_task_plays_it_once(
    as_ada, theme, settings, monkeypatch
):
    game, lost_id = queued_turn(as_ada, theme, monkeypatch)
    long_ago = timezone.now() - timedelta(seconds=settings.PENDING_TURN_QUEUE_SECONDS)
    PendingTurn.objects.filter(pk=lost_id).update(created=long_ago)

    retry = choose(as_ada, game["id"], 0)

    assert retry.status_code == 202
    lost = PendingTurn.objects.get(pk=lost_id)
    assert lost.state == "failed"
    assert "worker stopped" in lost.error
    assert tasks.turn_resolve.apply(args=[lost_id]).get()["ran"] is False

    # The retry's worker died mid-turn; its message comes back after the lease.
    retry_id = retry.json()["pending"]["id"]
    died = timezone.now() - timedelta(seconds=settings.CELERY_TURN_TIME_LIMIT + 61)
    PendingTurn.objects.filter(pk=retry_id).update(state="running", started=died)
    assert tasks.turn_resolve.apply(args=[retry_id]).get()["ran"] is True
    assert tasks.turn_resolve.apply(args=[retry_id]).get()["ran"] is False
    assert list(
        Turn.objects.filter(session_id=game["id"]).values_list("number", flat=True)
    ) == [1]


@pytest.mark.django_db(transaction=True)
def test_a_turn_whose_worker_died_is_played_by_its_redelivered_message(
    as_ada, theme, monkeypatch
):
    game, pending_id = queued_turn(as_ada, theme, monkeypatch)
    PendingTurn.objects.filter(pk=pending_id).update(
        state="running", started=timezone.now(), task_id="message-1"
    )

    stranger = tasks.turn_resolve.apply(args=[pending_id], task_id="message-2")
    assert stranger.get()["ran"] is False
    again = tasks.turn_resolve.apply(args=[pending_id], task_id="message-1")

    assert again.get()["ran"] is True
    assert PendingTurn.objects.get(pk=pending_id).state == "done"
    assert Turn.objects.filter(session_id=game["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_clean_up_gives_up_lost_turns(as_ada, theme, settings, monkeypatch):
    game, pending_id = queued_turn(as_ada, theme, monkeypatch)
    died = timezone.now() - timedelta(seconds=settings.CELERY_TURN_TIME_LIMIT + 61)
    PendingTurn.objects.filter(pk=pending_id).update(state="running", started=died)

    outcome = tasks.pending_turns_fail_lost.apply().get()

    assert outcome["result"] == {"failed": 1}
    assert PendingTurn.objects.get(pk=pending_id).state == "failed"
    assert as_ada.get(f"/api/v1/sessions/{game['id']}/").json()["pending"] is None


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_queue_fails_the_turn_and_frees_the_game(
    as_ada, theme, monkeypatch
):
    game = start_voiced(as_ada, theme)

    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.turn_resolve, "apply_async", unreachable)
    response = choose(as_ada, game["id"], 0)

    assert response.status_code == 202
    pending = as_ada.get(response["Location"]).json()
    assert pending["state"] == "failed"
    assert "task queue" in pending["error"]
    monkeypatch.undo()
    monkeypatch.setattr(voices, "BREAKER", CircuitBreaker())
    assert choose(as_ada, game["id"], 0).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_a_bad_action_is_refused_at_once_and_queues_nothing(as_ada, theme):
    game = start_voiced(as_ada, theme)

    response = as_ada.post(
        f"/api/v1/sessions/{game['id']}/turns/",
        {"expected_turn": 0, "action": {"type": "choose", "option": 9}},
        format="json",
    )

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "option"
    assert not PendingTurn.objects.exists()


def test_unknown_profiles_and_bad_overrides_are_400s(as_ada, theme):
    cases = [
        ({"voice": "oracle"}, "voice"),
        ({"voice_overrides": {"narrator": {"temperature": 0.1}}, "voice": None}, None),
        ({"voice_overrides": {"narrator": {"temperature": 9}}}, None),
        ({"voice_overrides": {"narrator": {"base_url": "http://evil"}}}, None),
        ({"voice_overrides": {"oracle": {}}}, None),
    ]
    for extra, field in cases:
        body = {"theme": theme.slug, "voice": "fake", **extra}
        response = as_ada.post("/api/v1/sessions/", body, format="json")
        assert response.status_code == 400, (extra, response.content)
        details = error_of(response)["details"]
        if field:
            assert field in details
        else:
            assert any(key.startswith("voice_overrides") for key in details), details
    assert not GameSession.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_overrides_reach_the_model_server(as_ada, theme, model_server):
    game = start_voiced(
        as_ada, theme, voice_overrides={"narrator": {"temperature": 0.1}}
    )

    play_voiced(as_ada, game["id"], 1)

    narrator = [
        r["body"]
        for r in model_server.requests
        if "narrator" in r["body"]["messages"][0]["content"].lower()
    ]
    assert narrator
    assert narrator[-1]["options"]["temperature"] == 0.1


def test_the_site_default_profile_applies_unless_a_game_opts_out(
    as_ada, theme, voiced_site
):
    voiced_site.FORTRESS_VOICES = {**voiced_site.FORTRESS_VOICES, "default": "fake"}

    chosen = as_ada.post("/api/v1/sessions/", {"theme": theme.slug}, format="json")
    opted_out = as_ada.post(
        "/api/v1/sessions/", {"theme": theme.slug, "voice": None}, format="json"
    )

    assert chosen.json()["voice"]["profile"] == "fake"
    assert opted_out.json()["voice"] is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.django_db(transaction=True)
def test_overrides_alone_retune_the_current_profile(as_ada, theme):
    game = start_voiced(as_ada, theme)

    response = as_ada.patch(
        f"/api/v1/sessions/{game['id']}/",
        {"voice_overrides": {"narrator": {"model": "other-voice"}}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["voice"]["agents"]["narrator"]["model"] == "other-voice"
    assert response.json()["voice"]["profile"] == "fake"
    blank = as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"voice": ""}, format="json"
    )
    assert blank.status_code == 400


def test_the_owner_can_switch_a_game_to_the_rule_based_agents(as_ada, theme):
    game = start_voiced(as_ada, theme)

    switched = as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"voice": None}, format="json"
    )

    assert switched.status_code == 200
    assert switched.json()["voice"] is None
    played = choose(as_ada, game["id"], 0)
    assert played.status_code == 201
    assert played.json()["record"]["recordings"] == []


def test_free_text_orders_work_without_a_model(as_ada, theme):
    game = as_ada.post(
        "/api/v1/sessions/", {"theme": theme.slug, "seed": 3}, format="json"
    ).json()

    response = as_ada.post(
        f"/api/v1/sessions/{game['id']}/turns/",
        {"expected_turn": 0, "action": {"type": "free_text", "text": "repair it"}},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["record"]["action"]["type"] == "free_text"


def test_readiness_says_degraded_when_a_model_server_is_down(client, db, voiced_site):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["voices"]
    servers = body["checks"]["voices"]["servers"]
    assert any(state.startswith("unreachable") for state in servers.values())
    assert any(state == "ok" for state in servers.values())

    voiced_site.FORTRESS_VOICES = {
        "profiles": {"fake": voiced_site.FORTRESS_VOICES["profiles"]["fake"]}
    }
    healthy = client.get("/readyz").json()
    assert healthy["status"] == "ok"
    assert healthy["checks"]["voices"]["status"] == "ok"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{bad", "FORTRESS_VOICES is not valid JSON"),
        ('{"profiles": {"x": {"agents": {"narrator": {}}}}}', "profiles.x"),
        ('{"profiles": {}, "default": "x"}', "default names no profile"),
    ],
)
def test_a_broken_voices_setting_stops_the_site_with_its_reason(value, message):
    environment = {**os.environ, "FORTRESS_VOICES": value}
    environment.pop("FORTRESS_VOICES_FILE", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.django_db(transaction=True)
def test_game_masters_see_exchanges_and_switch_voices(client, gemma, as_ada, theme):
    game = start_voiced(as_ada, theme)
    play_voiced(as_ada, game["id"], 1)
    client.force_login(gemma)
    turn = Turn.objects.get(session_id=game["id"])

    page = client.get(f"/admin/game/turn/{turn.pk}/change/").content.decode()
    assert "Model exchanges" in page
    assert "ollama / fake-voice" in page

    def switch(voice):
        return client.post(
            "/admin/game/gamesession/",
            {
                "action": "switch_voice",
                "_selected_action": [game["id"]],
                "voice": voice,
            },
        )

    # Left at its default, the box switches nothing.
    assert switch("").status_code == 302
    assert GameSession.objects.get(pk=game["id"]).voice["profile"] == "fake"
    assert switch("rule-based").status_code == 302
    assert GameSession.objects.get(pk=game["id"]).voice == {}
    listing = client.get("/admin/game/gamesession/").content.decode()
    assert "rule-based" in listing
    assert client.get("/admin/game/pendingturn/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_players_choose_a_voice_when_starting_in_the_browser(client, ada, theme):
    client.force_login(ada)

    lobby = client.get("/lobby/").content.decode()
    assert 'name="voice"' in lobby
    assert "Language model: fake" in lobby

    voiced = client.post(
        "/games/new/", {"theme": theme.slug, "seed": "4", "voice": "fake"}
    )
    plain = client.post(
        "/games/new/", {"theme": theme.slug, "seed": "4", "voice": "rule-based"}
    )
    unknown = client.post(
        "/games/new/", {"theme": theme.slug, "seed": "4", "voice": "oracle"}
    )

    assert voiced.status_code == plain.status_code == 302
    assert unknown.status_code == 400
    voices_by_id = {
        str(session.pk): session.voice for session in GameSession.objects.all()
    }
    assert voices_by_id[voiced["Location"].split("/")[-2]]["profile"] == "fake"
    assert voices_by_id[plain["Location"].split("/")[-2]] == {}
    page = client.get(voiced["Location"]).content.decode()
    assert "voiced by fake" in page


def test_without_voice_profiles_the_lobby_offers_no_voice(client, ada, theme, settings):
    settings.FORTRESS_VOICES = {}
    client.force_login(ada)

    assert 'name="voice"' not in client.get("/lobby/").content.decode()
