"""Hostile and odd input on the main endpoints: each gets a clear 4xx and
changes nothing."""

import pytest

from game.models import GameSession, Turn
from game.tests.conftest import error_of, start_game

ODD_STRINGS = [
    "\x00",
    "nul\x00inside",
    "\ud800",  # a lone surrogate: not encodable as UTF-8
    "\u202eright-to-left override",
    "é" * 10_000,
    "😀" * 500,
    "",
    " ",
]


def raw_post(client, path, text, content_type="application/json"):
    return client.generic(
        "POST", path, text.encode("utf-8", "surrogatepass"), content_type
    )


@pytest.mark.django_db
@pytest.mark.parametrize("value", ODD_STRINGS)
def test_odd_strings_as_a_theme_are_refused_cleanly(as_ada, theme, value):
    import json

    body = json.dumps({"theme": value, "seed": 1})
    response = raw_post(as_ada, "/api/v1/sessions/", body)
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] in {
        "invalid_input",
        "malformed_request",
        "theme_unavailable",
    }
    assert not GameSession.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ODD_STRINGS)
def test_odd_strings_as_free_text_orders_are_refused_or_read_never_crash(
    as_ada, theme, value
):
    import json

    game = start_game(as_ada, theme)
    body = json.dumps(
        {"expected_turn": 0, "action": {"type": "free_text", "text": value}}
    )
    response = raw_post(as_ada, f"/api/v1/sessions/{game['id']}/turns/", body)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert Turn.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("value", ODD_STRINGS)
def test_odd_usernames_are_refused_or_stored_faithfully(anonymous, value):
    import json

    body = json.dumps({"username": value, "password": "moat-lantern-19-quill"})
    response = raw_post(anonymous, "/api/v1/auth/register/", body)
    assert response.status_code in (201, 400), response.content


CHOOSE = '{"type": "choose", "option": 0}'
REPAIR = '{"type": "order", "function": "repair_structure"'
BAD_TURN_BODIES = [
    '{"expected_turn": "0", "action": ' + CHOOSE + "}",
    '{"expected_turn": 0.5, "action": ' + CHOOSE + "}",
    '{"expected_turn": 1e400, "action": ' + CHOOSE + "}",
    '{"expected_turn": -1, "action": ' + CHOOSE + "}",
    '{"expected_turn": 99999999999999999999, "action": ' + CHOOSE + "}",
    '{"expected_turn": 0, "action": {"type": "choose", "option": true}}',
    '{"expected_turn": 0, "action": {"type": "choose", "option": "0"}}',
    '{"expected_turn": 0, "action": {"type": "choose", "option": 99999999999}}',
    '{"expected_turn": 0, "action": []}',
    '{"expected_turn": 0, "action": null}',
    '{"expected_turn": 0, "action": {"type": ["choose"]}}',
    '{"expected_turn": 0, "action": {"type": "order", "function": {"a": 1}}}',
    '{"expected_turn": 0, "action": ' + REPAIR + ', "args": "x"}}',
    "[]",
    '"just a string"',
    "null",
    "{",
    # JSON keeps the last of a repeated key: a stale turn here.
    '{"expected_turn": 0, "expected_turn": 1, "action": ' + CHOOSE + "}",
    "NaN",
]


@pytest.mark.django_db
@pytest.mark.parametrize("body", BAD_TURN_BODIES)
def test_wrong_types_in_a_turn_are_400_and_apply_nothing(as_ada, theme, body):
    game = start_game(as_ada, theme)
    response = raw_post(as_ada, f"/api/v1/sessions/{game['id']}/turns/", body)
    if response.status_code == 201:
        pytest.fail(f"accepted {body!r}")
    assert response.status_code in (400, 409), response.content
    error_of(response)
    assert Turn.objects.count() == 0


@pytest.mark.django_db
def test_a_body_that_is_not_json_at_all_is_415_or_400(as_ada, theme):
    game = start_game(as_ada, theme)
    path = f"/api/v1/sessions/{game['id']}/turns/"
    response = as_ada.generic("POST", path, b"\xff\xfe\x00garbage", "application/json")
    assert response.status_code == 400
    response = as_ada.generic("POST", path, b"<xml/>", "application/xml")
    assert response.status_code == 415
    assert Turn.objects.count() == 0
