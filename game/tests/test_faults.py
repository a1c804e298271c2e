"""Failures that are not the client's: the database going away mid-turn,
an unexpected error, Redis going down under a running site.

Each must fail cleanly (a short JSON error, no stack trace, no partial turn)
and leave the next request working.
"""

import json
import shutil
import subprocess
import time

import pytest
from django.db import OperationalError, connection
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect as ws_connect

from game.live_site import LiveSite, free_port
from game.models import GameSession, Turn
from game.tests.conftest import choose, error_of, start_game
from game.tests.test_restart import _call


def _fail_when_storing_the_turn(monkeypatch, failure):
    """Make the turn's INSERT fail after the session row was already updated."""
    original = Turn.objects.create
    calls = {"n": 0}

    def create(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            failure()
        return original(**kwargs)

    monkeypatch.setattr(Turn.objects, "create", create)


@pytest.mark.django_db(transaction=True)
def test_a_database_error_mid_turn_is_503_and_applies_nothing(
    as_ada, theme, monkeypatch
):
    game = start_game(as_ada, theme)
    before = GameSession.objects.get(pk=game["id"])

    def fail():
        raise OperationalError("server closed the connection unexpectedly")

    _fail_when_storing_the_turn(monkeypatch, fail)
    response = choose(as_ada, game["id"], 0)

    assert response.status_code == 503
    assert error_of(response)["code"] == "unavailable"
    assert int(response["Retry-After"]) > 0
    assert "Traceback" not in response.content.decode()
    after = GameSession.objects.get(pk=game["id"])
    assert (after.turn_number, after.version, after.head_chain_hash) == (
        before.turn_number,
        before.version,
        before.head_chain_hash,
    )
    assert not Turn.objects.filter(session_id=game["id"]).exists()
    # The same turn goes through on the next request.
    assert choose(as_ada, game["id"], 0).status_code == 201
    assert as_ada.get(f"/api/v1/sessions/{game['id']}/verify/").json()["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_a_postgresql_connection_killed_mid_turn_fails_cleanly(
    as_ada, theme, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs a database server connection to kill; runs in the "
            "PostgreSQL pass of CI (DATABASE_URL=postgres://...)"
        )
    game = start_game(as_ada, theme)

    def kill_own_connection():
        with connection.cursor() as cursor:
            # The server ends this very session, as a restart or a network
            # cut would; the statement itself fails with it.
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    _fail_when_storing_the_turn(monkeypatch, kill_own_connection)
    response = choose(as_ada, game["id"], 0)

    assert response.status_code == 503, response.content
    assert error_of(response)["code"] == "unavailable"
    assert not Turn.objects.filter(session_id=game["id"]).exists()
    assert GameSession.objects.get(pk=game["id"]).turn_number == 0
    assert choose(as_ada, game["id"], 0).status_code == 201
    assert as_ada.get(f"/api/v1/sessions/{game['id']}/verify/").json()["ok"] is True


@pytest.mark.django_db
def test_an_unexpected_error_is_a_bare_500_without_internals(
    as_ada, theme, monkeypatch
):
    from game import selectors

    def broken(**kwargs):
        raise RuntimeError("secret internal detail at /srv/fortress")

    monkeypatch.setattr(selectors, "session_list_for_user", broken)
    response = as_ada.get("/api/v1/sessions/")

    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    text = response.content.decode()
    assert "secret internal detail" not in text
    assert "Traceback" not in text and "/srv/" not in text


# -- Redis going down under a running site -------------------------------------


class PrivateRedis:
    """A Redis server of this test's own, on a free port, that it may stop."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("this test needs redis-server on the PATH")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=1).ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        pytest.fail("the private redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _signed_up(site, username, password) -> str:
    """Register a player on a live site and return an access token."""
    player = {"username": username, "password": password, "email": ""}
    assert _call(site, "POST", "/api/v1/auth/register/", player)[0] == 201
    status, tokens = _call(site, "POST", "/api/v1/auth/token/", player)
    assert status == 200, tokens
    return tokens["access"]


@pytest.fixture
def site_on_private_redis(tmp_path):
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    site = LiveSite(tmp_path / "site")
    try:
        site.prepare()
        site.env["REDIS_URL"] = redis_server.url
        site.start()
        yield site, redis_server
    finally:
        site.cleanup()
        redis_server.stop()


def test_with_redis_down_play_goes_on_readyz_names_it_and_sockets_are_told(
    site_on_private_redis,
):
    site, redis_server = site_on_private_redis
    token = _signed_up(site, "wren", "rampart-lantern-93")
    status, game = _call(
        site, "POST", "/api/v1/sessions/", {"theme": "lornhaven", "seed": 5}, token
    )
    assert status == 201, game
    turns = f"/api/v1/sessions/{game['id']}/turns/"

    def play(expected):
        action = {"type": "choose", "option": 0}
        return _call(
            site, "POST", turns, {"expected_turn": expected, "action": action}, token
        )

    status, ticket = _call(site, "POST", "/api/v1/ws-tickets/", None, token)
    assert status == 201
    url = f"ws://127.0.0.1:{site.port}/ws/sessions/{game['id']}/?ticket={ticket['ticket']}"
    with ws_connect(url, open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        assert play(0)[0] == 201
        assert json.loads(socket.recv(timeout=10))["turn"] == 1

        redis_server.stop()

        # The socket is told, then closed with "try again later".
        told = json.loads(socket.recv(timeout=30))
        assert told["code"] == "live_updates_unavailable", told
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd.code == 4503, site.log_tail()

    # REST play goes on, turn after turn.
    for expected in (1, 2):
        status, body = play(expected)
        assert status == 201, body
    status, body = _call(
        site, "GET", f"/api/v1/sessions/{game['id']}/verify/", None, token
    )
    assert (status, body["ok"]) == (200, True)

    status, ready = _call(site, "GET", "/readyz")
    assert status == 503
    assert {"cache", "channel_layer"} <= set(ready["failed"])
    assert str(redis_server.port) in ready["checks"]["cache"]["error"]

    # A ticket needs Redis: refused clearly rather than handed out unusable.
    status, body = _call(site, "POST", "/api/v1/ws-tickets/", None, token)
    assert status == 503
    assert body["error"]["code"] == "unavailable"

    # Redis back: the site is ready again and sockets open.
    redis_server.start()
    deadline = time.monotonic() + 20
    while _call(site, "GET", "/readyz")[0] != 200:
        assert time.monotonic() < deadline, "readyz did not recover"
        time.sleep(0.5)
    # A client reconnects with backoff, as the browser does; the site's
    # pooled Redis connections recover within a few attempts.
    socket, attempts = None, 0
    while socket is None:
        attempts += 1
        status, ticket = _call(site, "POST", "/api/v1/ws-tickets/", None, token)
        assert status == 201
        url = (
            f"ws://127.0.0.1:{site.port}/ws/sessions/{game['id']}/"
            f"?ticket={ticket['ticket']}&since=1"
        )
        try:
            socket = ws_connect(url, open_timeout=10)
        except InvalidHandshake:
            assert attempts < 10, site.log_tail()
            time.sleep(0.5)
    with socket:
        hello = json.loads(socket.recv(timeout=10))
        assert hello["turn"] == 3
        missed = [json.loads(socket.recv(timeout=10)) for _ in range(2)]
        assert [m["turn"] for m in missed] == [2, 3]


# -- a worker killed in the middle of a turn ----------------------------------

KILLED_WORKER_REDIS_DB = 13
VISIBILITY_SECONDS = 4


@pytest.fixture
def voiced_site(tmp_path):
    from agents.llm.fake_server import FakeModelServer
    from game.live_site import fake_voices, redis_environment, require_redis

    with FakeModelServer() as model_server:
        environment = redis_environment(KILLED_WORKER_REDIS_DB)
        require_redis(environment["REDIS_URL"])
        voices = fake_voices(model_server.url, timeout=20)
        site = LiveSite(tmp_path / "site")
        try:
            site.prepare()
            site.env.update(
                {
                    **environment,
                    "FORTRESS_VOICES": json.dumps(voices),
                    # A message whose worker died goes back to the queue this
                    # soon, instead of after the production hour.
                    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
                }
            )
            site.start()
            yield site, model_server
        finally:
            site.cleanup()


def test_a_worker_killed_mid_turn_has_the_turn_redelivered_and_played_once(
    voiced_site,
):
    import signal

    from game.live_site import Worker

    site, model_server = voiced_site
    token = _signed_up(site, "tamsin", "cistern-beacon-41")
    body = {"theme": "plague", "seed": 4, "voice": "fake"}
    status, game = _call(site, "POST", "/api/v1/sessions/", body, token)
    assert status == 201, game

    model_server.set_mode("slow", delay=1.5)
    doomed = Worker(site)
    doomed.start()
    choice = {"expected_turn": 0, "action": {"type": "choose", "option": 1}}
    turns = f"/api/v1/sessions/{game['id']}/turns/"
    status, queued = _call(site, "POST", turns, choice, token)
    assert status == 202, queued
    pending_url = f"/api/v1/sessions/{game['id']}/pending/{queued['pending']['id']}/"

    def pending_state():
        return _call(site, "GET", pending_url, None, token)[1]

    deadline = time.monotonic() + 60
    while pending_state()["state"] != "running":
        assert time.monotonic() < deadline, doomed.log_tail()
        time.sleep(0.2)
    # Killed while asking its model: no acknowledgement, no clean-up.
    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait()
    doomed.process = None
    assert pending_state()["state"] == "running"

    model_server.set_mode("ok")
    time.sleep(VISIBILITY_SECONDS + 1)
    rescuer = Worker(site)
    rescuer.start()
    try:
        deadline = time.monotonic() + 90
        while (state := pending_state())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, rescuer.log_tail()
            time.sleep(0.3)
        assert state["state"] == "done", (state, rescuer.log_tail())
        # Wait out one more visibility period: a second delivery of the same
        # message must change nothing.
        time.sleep(VISIBILITY_SECONDS + 1)
    finally:
        rescuer.stop()

    status, listed = _call(site, "GET", turns, None, token)
    assert status == 200
    assert [t["number"] for t in listed["results"]] == [1]
    status, verdict = _call(
        site, "GET", f"/api/v1/sessions/{game['id']}/verify/", None, token
    )
    assert verdict["ok"] is True
    status, session = _call(site, "GET", f"/api/v1/sessions/{game['id']}/", None, token)
    assert (session["turn"], session["pending"]) == (1, None)
