"""Schemathesis fuzzes every operation of the served OpenAPI schema.

The schema is read from /api/v1/schema/ of the real WSGI application, and
every request goes through that application in-process, inside the test's
database transaction. Each operation is fuzzed three ways: as a player with
a real JWT (with real ids and numbers swapped into most schema-valid cases:
the player's own games and turns, a game that is over, a queued turn,
someone else's public and private game, a real exported game to import, so
that the fuzzer gets past the 404s and into the engine), as a game master
for the staff-only operations, and with no token of ours at all.

Every answer is held to the fuzzer's default checks: no server error, a
documented status code and content type, a body and headers matching the
schema, invalid input refused, authentication not ignored, an undocumented
method answered 405, and schema-valid input accepted where that can hold
(see _refuses_valid_input). A last test throttles every operation and holds
its 429 to the schema. Bounded: a fixed seed and a few dozen examples per
operation.
"""

import zlib

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fortress_site.wsgi import application
from game import portability, selectors, services
from game.jobs import services as job_services
from game.models import GameSession
from game.pending import pending_turn_queue
from game.tests.conftest import choose, client_for, start_game

pytestmark = pytest.mark.django_db


def _app(environ, start_response):
    """The site's WSGI application, kept inside the test's transaction.

    Django closes "old" database connections when a request starts and
    finishes; inside a test's transaction that would close the test's own
    connection. Its test client steps around this the same way.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return [body]


def _refuses_valid_input(operation) -> bool:
    """Whether the operation refuses some schema-valid requests by design.

    The fuzzer's positive_data_acceptance check expects every schema-valid
    request to succeed, which cannot hold for a request body here: DRF's
    string fields refuse NUL characters and strings left blank once trimmed,
    which no schema states, and most bodies are checked against stored data
    or the game's rules (installed themes, voice profiles, the game's turn
    and what it allows, whether an import replays to its hashes, password
    strength). Nor for an undo at turn 0. Those refusals are 400s in the one
    error shape (InvalidInput, InvalidAction, ThemeUnavailable in
    docs/architecture.md), and every other check still holds them to the
    documented status codes and bodies; the check stays on for the rest.
    """
    return "requestBody" in operation.definition.raw or operation.path.endswith(
        "/undo/"
    )


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 47,
        "generation": {"max-examples": 50, "database": "none"},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", _app, config=CONFIG)
staff_only = schema.include(tag="jobs")

# Each operation's test sets its world up once and lets the examples change
# it (games played on, forked, made public), as a real client would; and a
# busy machine must not fail the fuzz for being slow to generate examples.
FUZZ = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _pick(generated, *real):
    """One of the real values, or now and then the generated one itself.

    Chosen from the generated value, so a fixed seed makes the same choice.
    """
    options = [*real, generated]
    return options[zlib.crc32(repr(generated).encode()) % len(options)]


def _bearer(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture(autouse=True)
def _quick_and_unthrottled(settings, monkeypatch):
    # Password hashing is not under test here, and the fuzzer signs up and
    # signs in a lot.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rates high enough never to be reached, so that no example is throttled
    # by chance; the throttles themselves are tested in test_production.py.
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {scope: "1000000/min" for scope in SimpleRateThrottle.THROTTLE_RATES},
    )


@pytest.fixture
def world(ada, bram, theme):
    """A player's games and turns, and someone else's, to aim the fuzzer at."""
    as_ada, as_bram = client_for(ada), client_for(bram)
    game = start_game(as_ada, theme, seed=7)
    for turn in range(2):
        assert choose(as_ada, game["id"], turn).status_code == 201
    over = start_game(as_ada, theme, seed=3)
    assert choose(as_ada, over["id"], 0).status_code == 201
    services.session_abandon(session_id=over["id"])
    queued = start_game(as_ada, theme, seed=5)
    pending = pending_turn_queue(
        session=GameSession.objects.get(pk=queued["id"]),
        user=ada,
        action={"type": "choose", "option": 0},
    )
    public = start_game(as_bram, theme, seed=11)
    services.session_set_visibility(
        session_id=public["id"], user=bram, visibility="public"
    )
    private = start_game(as_bram, theme, seed=13)
    return {
        "token": _bearer(ada),
        "theme": theme.slug,
        "orders": selectors.theme_engine(theme).player_orders,
        "export": portability.session_export(session_id=game["id"], user=ada),
        # The player's own active game counts twice: most examples go there.
        "sessions": [game["id"], game["id"], over["id"], public["id"], private["id"]],
        "queued": queued["id"],
        "pending": str(pending["pending"]["id"]),
    }


@pytest.fixture
def staff_world(gemma, theme):
    """A game master and a queued job (its task would go out on commit)."""
    job = job_services.simulation_start(
        requested_by=gemma, theme_slug=theme.slug, policy="random", games=1, seed=1
    )
    return {"token": _bearer(gemma), "theme": theme.slug, "job": str(job.pk)}


def _aim(case, world):
    """Replace the ids and numbers of a schema-valid case with real ones."""
    if not case.meta.generation.mode.is_positive:
        return
    path = case.path_parameters
    if "pending_id" in path and "pending" in world:
        path["session_id"] = _pick(path["session_id"], world["queued"])
        path["pending_id"] = _pick(path["pending_id"], world["pending"])
    elif "session_id" in path and "sessions" in world:
        path["session_id"] = _pick(path["session_id"], *world["sessions"])
    if "number" in path:
        path["number"] = _pick(path["number"], 1, 2)
    if "job_id" in path and "job" in world:
        path["job_id"] = _pick(path["job_id"], world["job"])

    if case.path == "/api/v1/sessions/import/" and "export" in world:
        case.body = _pick(case.body, world["export"])
    body = case.body
    if not isinstance(body, dict):
        return
    if isinstance(body.get("theme"), str):
        body["theme"] = _pick(body["theme"], world["theme"])
    if "voice" in body:
        # No voice profiles are configured here: only null starts a game.
        body["voice"] = _pick(body["voice"], None)
    session = GameSession.objects.filter(pk=path.get("session_id")).first()
    if session is None:
        return
    if "expected_turn" in body:
        body["expected_turn"] = _pick(body["expected_turn"], session.turn_number)
    if case.path.endswith("/fork/") and "turn" in body:
        body["turn"] = _pick(body["turn"], 0, session.turn_number)
    action = body.get("action")
    if isinstance(action, dict) and action.get("type") == "choose":
        action["option"] = _pick(action.get("option"), 0, 1, 2)
    if isinstance(action, dict) and action.get("type") == "order":
        action["function"] = _pick(action.get("function"), *world["orders"])


def _call_and_validate(case, token=None):
    """Send the case and run every default check on the answer."""
    excluded = []
    if _refuses_valid_input(case.operation):
        excluded.append(positive_data_acceptance)
    headers = {"Authorization": token} if token else None
    case.call_and_validate(headers=headers, excluded_checks=excluded)


@schema.parametrize()
@FUZZ
def test_every_operation_as_a_player(case, world):
    _aim(case, world)
    _call_and_validate(case, world["token"])


@staff_only.parametrize()
@FUZZ
def test_staff_operations_as_a_game_master(case, staff_world):
    _aim(case, staff_world)
    _call_and_validate(case, staff_world["token"])


@schema.parametrize()
@FUZZ
def test_every_operation_without_credentials(case):
    # No token of ours: what the fuzzer sends for the security schemes, a
    # forged bearer token or session cookie, or nothing.
    _call_and_validate(case)


def test_every_operation_documents_its_throttled_answer(
    world, staff_world, monkeypatch
):
    """With every rate at zero, each operation answers 429 as documented."""
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {scope: "0/min" for scope in SimpleRateThrottle.THROTTLE_RATES},
    )
    cache.clear()  # no counts left from setting the world up
    ids = {
        "session_id": world["queued"],
        "pending_id": world["pending"],
        "number": 1,
        "job_id": staff_world["job"],
    }
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        token = staff_world["token"] if "jobs" in operation.tags else world["token"]
        names = {p.name for p in operation.path_parameters}
        case = operation.Case(path_parameters={n: ids[n] for n in names})
        response = case.call(headers={"Authorization": token})
        assert response.status_code == 429, operation.label
        assert int(response.headers["retry-after"][0]) > 0, operation.label
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
                response_headers_conformance,
            ],
            headers={"Authorization": token},
        )
