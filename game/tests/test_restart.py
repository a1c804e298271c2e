"""A game survives a server restart: stored turns, chain and play continue."""

import json
import urllib.error
import urllib.request

import pytest

from game.live_site import LiveSite


def _call(site, method, path, body=None, token=None):
    request = urllib.request.Request(
        site.base_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _play(site, token, session_id, turn):
    return _call(
        site,
        "POST",
        f"/api/v1/sessions/{session_id}/turns/",
        {"expected_turn": turn, "action": {"type": "choose", "option": turn % 3}},
        token,
    )


@pytest.fixture
def site(tmp_path):
    site = LiveSite(tmp_path / "site")
    try:
        site.prepare()
        site.start()
        yield site
    finally:
        site.cleanup()


def test_game_continues_after_the_server_restarts(site):
    credentials = {"username": "restart_ada", "password": "lantern-keep-harbour"}
    assert _call(site, "POST", "/api/v1/auth/register/", credentials)[0] == 201
    status, tokens = _call(site, "POST", "/api/v1/auth/token/", credentials)
    assert status == 200
    token = tokens["access"]
    status, game = _call(
        site, "POST", "/api/v1/sessions/", {"theme": "lornhaven", "seed": 21}, token
    )
    assert status == 201
    for turn in range(3):
        status, body = _play(site, token, game["id"], turn)
        assert status == 201, body

    site.stop()
    site.start()

    status, resumed = _call(site, "GET", f"/api/v1/sessions/{game['id']}/", None, token)
    assert status == 200
    assert resumed["turn"] == 3
    assert resumed["status"] == "active"
    assert _play(site, token, game["id"], 2)[0] == 409
    turn = 3
    while resumed["status"] == "active":
        status, body = _play(site, token, game["id"], turn)
        assert status == 201, body
        turn += 1
        resumed = _call(site, "GET", f"/api/v1/sessions/{game['id']}/", None, token)[1]

    assert resumed["turn"] == turn
    verified = site.manage("verify", game["id"], check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
