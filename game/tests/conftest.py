"""Shared cast and helpers for the game app's tests.

The cast: ada plays, bram is a second player, gemma is a staff game master.
Games run on the built-in theme loaded the way the site loads it.
"""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from game.services import theme_sync_builtin

PASSWORD = "siege-engine-47-tallow"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix, tmp_path_factory
):
    """Test on a SQLite file rather than shared-cache memory.

    In shared-cache memory a second writer fails at once with "table is
    locked" instead of waiting its turn as it does on the real WAL file, so
    concurrency would be tested against the wrong behaviour.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"].endswith("sqlite3") and not test.get("NAME"):
        test["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache, so throttle counts and tickets
    from one test never leak into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db):
    def make(username, **extra):
        return get_user_model().objects.create_user(
            username=username, password=PASSWORD, **extra
        )

    return make


@pytest.fixture
def ada(make_user):
    return make_user("ada")


@pytest.fixture
def bram(make_user):
    return make_user("bram")


@pytest.fixture
def gemma(make_user):
    return make_user("gemma", is_staff=True, is_superuser=True)


@pytest.fixture
def theme(db):
    """The built-in theme every game in these tests is played on."""
    themes = theme_sync_builtin()
    assert themes, "the engine ships no built-in theme"
    return themes[0]


def client_for(user=None) -> APIClient:
    """An API client carrying a real JWT for user (or none at all)."""
    client = APIClient()
    if user is not None:
        access = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def as_ada(ada):
    return client_for(ada)


@pytest.fixture
def as_bram(bram):
    return client_for(bram)


@pytest.fixture
def anonymous():
    return APIClient()


def start_game(client, theme, seed=7):
    response = client.post(
        "/api/v1/sessions/", {"theme": theme.slug, "seed": seed}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def choose(client, session_id, expected_turn, option=0, **headers):
    return client.post(
        f"/api/v1/sessions/{session_id}/turns/",
        {
            "expected_turn": expected_turn,
            "action": {"type": "choose", "option": option},
        },
        format="json",
        **headers,
    )


def play_to_end(client, session_id, max_turns=200):
    """Choose the first option until the game ends; returns the final session."""
    game = client.get(f"/api/v1/sessions/{session_id}/").json()
    for _ in range(max_turns):
        if game["status"] != "active":
            return game
        response = choose(client, session_id, game["turn"])
        assert response.status_code == 201, response.content
        game = client.get(f"/api/v1/sessions/{session_id}/").json()
    raise AssertionError(f"no ending after {max_turns} turns")


def error_of(response) -> dict:
    """The error object of an error response, checking the one shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"], body
    return body["error"]
