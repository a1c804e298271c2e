"""Playing games over REST: starting, submitting turns, and every refusal."""

import uuid

import pytest

from game.models import GameSession, Turn
from game.tests.conftest import choose, error_of, play_to_end, start_game

pytestmark = pytest.mark.django_db


def test_themes_list_the_builtin_theme(as_ada, theme):
    response = as_ada.get("/api/v1/themes/")
    assert response.status_code == 200
    slugs = [t["slug"] for t in response.json()]
    assert theme.slug in slugs


def test_new_game_starts_at_turn_zero_with_a_scene(as_ada, theme):
    game = start_game(as_ada, theme, seed=11)
    assert game["turn"] == 0
    assert game["status"] == "active"
    assert game["seed"] == 11
    assert game["theme"]["slug"] == theme.slug
    assert len(game["view"]["scene"]["options"]) == 3


def test_new_game_without_seed_gets_a_random_seed(as_ada, theme):
    response = as_ada.post("/api/v1/sessions/", {"theme": theme.slug}, format="json")
    assert response.status_code == 201
    assert 0 <= response.json()["seed"] < 2**63


@pytest.mark.parametrize("seed", [-1, 2**63, "abc", 1.5])
def test_out_of_range_or_non_integer_seed_is_400(as_ada, theme, seed):
    response = as_ada.post(
        "/api/v1/sessions/", {"theme": theme.slug, "seed": seed}, format="json"
    )
    assert response.status_code == 400
    assert "seed" in error_of(response)["details"]


def test_unknown_theme_is_400(as_ada, theme):
    response = as_ada.post("/api/v1/sessions/", {"theme": "atlantis"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "theme_unavailable"


def test_full_game_reaches_an_ending_consistent_with_stored_turns(as_ada, theme):
    game = start_game(as_ada, theme, seed=3)

    final = play_to_end(as_ada, game["id"])

    assert final["status"] == "ended"
    assert final["ending"]
    assert final["view"]["ending"]["id"] == final["ending"]
    assert final["view"]["scene"] is None

    turns = as_ada.get(f"/api/v1/sessions/{game['id']}/turns/?limit=500").json()
    numbers = [t["number"] for t in turns["results"]]
    assert numbers == list(range(1, final["turn"] + 1))
    assert turns["results"][-1]["chain_hash"] == final["head_chain_hash"]

    stored = GameSession.objects.get(pk=game["id"])
    assert stored.turns.count() == final["turn"]

    last = as_ada.get(f"/api/v1/sessions/{game['id']}/turns/{final['turn']}/")
    assert last.status_code == 200
    assert last.json()["record"]["ending"] is not None


def test_turn_response_carries_the_new_turn_and_view(as_ada, theme):
    game = start_game(as_ada, theme)
    response = choose(as_ada, game["id"], 0, option=1)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["turn"] == 1
    assert body["session"] == game["id"]
    assert body["record"]["action"] == {"type": "choose", "option": 1}
    assert body["view"]["turn"] == 1


def test_stale_turn_number_is_409_with_current_turn(as_ada, theme):
    game = start_game(as_ada, theme)
    assert choose(as_ada, game["id"], 0).status_code == 201

    response = choose(as_ada, game["id"], 0)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "stale_turn"
    assert error["details"]["current_turn"] == 1
    assert Turn.objects.filter(session_id=game["id"]).count() == 1


def test_turn_on_ended_game_is_refused(as_ada, theme):
    game = start_game(as_ada, theme, seed=5)
    final = play_to_end(as_ada, game["id"])

    response = choose(as_ada, game["id"], final["turn"])

    assert response.status_code == 409
    assert error_of(response)["code"] == "game_over"
    assert Turn.objects.filter(session_id=game["id"]).count() == final["turn"]


def test_invalid_option_is_400_naming_the_field(as_ada, theme):
    game = start_game(as_ada, theme)
    response = choose(as_ada, game["id"], 0, option=7)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_action"
    assert error["details"]["field"] == "option"
    assert Turn.objects.filter(session_id=game["id"]).count() == 0


def test_unknown_action_key_is_400(as_ada, theme):
    game = start_game(as_ada, theme)
    response = as_ada.post(
        f"/api/v1/sessions/{game['id']}/turns/",
        {"expected_turn": 0, "action": {"type": "choose", "option": 0, "cheat": 1}},
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_action"


def test_player_cannot_send_a_game_master_event(as_ada, theme):
    game = start_game(as_ada, theme)
    before = as_ada.get(f"/api/v1/sessions/{game['id']}/").json()["view"]
    response = as_ada.post(
        f"/api/v1/sessions/{game['id']}/turns/",
        {
            "expected_turn": 0,
            "action": {
                "type": "gm_event",
                "function": "adjust_morale",
                "args": {"amount": 30},
                "text": "free morale",
            },
        },
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "type"
    after = as_ada.get(f"/api/v1/sessions/{game['id']}/").json()["view"]
    assert after == before
    assert Turn.objects.filter(session_id=game["id"]).count() == 0


def test_unknown_field_in_turn_body_is_400(as_ada, theme):
    game = start_game(as_ada, theme)
    response = as_ada.post(
        f"/api/v1/sessions/{game['id']}/turns/",
        {"expected_turn": 0, "action": {"type": "choose", "option": 0}, "x": 1},
        format="json",
    )
    assert response.status_code == 400
    assert "x" in error_of(response)["details"]


def test_action_that_is_not_an_object_is_400(as_ada, theme):
    game = start_game(as_ada, theme)
    response = as_ada.post(
        f"/api/v1/sessions/{game['id']}/turns/",
        {"expected_turn": 0, "action": [0]},
        format="json",
    )
    assert response.status_code == 400
    assert "action" in error_of(response)["details"]


def test_malformed_json_is_400(as_ada, theme):
    game = start_game(as_ada, theme)
    response = as_ada.post(
        f"/api/v1/sessions/{game['id']}/turns/",
        data='{"expected_turn": 0, "action": ',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_request"


def test_wrong_method_is_405_in_the_error_shape(as_ada, theme):
    response = as_ada.delete("/api/v1/themes/")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_another_players_private_game_is_404(as_ada, as_bram, theme):
    game = start_game(as_ada, theme)

    read = as_bram.get(f"/api/v1/sessions/{game['id']}/")
    turns = as_bram.get(f"/api/v1/sessions/{game['id']}/turns/")
    play = choose(as_bram, game["id"], 0)

    for response in (read, turns, play):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert Turn.objects.filter(session_id=game["id"]).count() == 0


def test_spectator_may_read_a_public_game_but_not_play_it(as_ada, as_bram, theme):
    game = start_game(as_ada, theme)
    response = as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"visibility": "public"}, format="json"
    )
    assert response.status_code == 200

    assert as_bram.get(f"/api/v1/sessions/{game['id']}/").status_code == 200
    refused = choose(as_bram, game["id"], 0)
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "watch_only"
    assert "you may watch it, not play it" in error_of(refused)["message"]
    changed = as_bram.patch(
        f"/api/v1/sessions/{game['id']}/", {"visibility": "private"}, format="json"
    )
    assert (changed.status_code, error_of(changed)["code"]) == (403, "watch_only")
    # The site's voice profiles are not named to someone who may not change it.
    guessed = as_bram.patch(
        f"/api/v1/sessions/{game['id']}/", {"voice": "no-such"}, format="json"
    )
    assert (guessed.status_code, error_of(guessed)["code"]) == (403, "watch_only")
    nowhere = as_bram.patch(
        f"/api/v1/sessions/{uuid.uuid4()}/", {"voice": "no-such"}, format="json"
    )
    assert nowhere.status_code == 404
    as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"visibility": "private"}, format="json"
    )
    # Once private again, the game is missing for everyone but its owner.
    assert choose(as_bram, game["id"], 0).status_code == 404


def test_my_games_list_only_mine(as_ada, as_bram, theme):
    mine = start_game(as_ada, theme)
    start_game(as_bram, theme)
    listed = as_ada.get("/api/v1/sessions/").json()["results"]
    assert [g["id"] for g in listed] == [mine["id"]]


def test_unplayed_turn_is_404(as_ada, theme):
    game = start_game(as_ada, theme)
    response = as_ada.get(f"/api/v1/sessions/{game['id']}/turns/1/")
    assert response.status_code == 404
    error_of(response)


def test_idempotency_key_replay_returns_the_stored_response_once(as_ada, theme):
    game = start_game(as_ada, theme)

    first = choose(as_ada, game["id"], 0, HTTP_IDEMPOTENCY_KEY="k-1")
    second = choose(as_ada, game["id"], 0, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Turn.objects.filter(session_id=game["id"]).count() == 1


def test_idempotency_key_reused_for_another_request_is_refused(as_ada, theme):
    game = start_game(as_ada, theme)
    assert choose(as_ada, game["id"], 0, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201

    response = choose(as_ada, game["id"], 1, option=2, HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert Turn.objects.filter(session_id=game["id"]).count() == 1


@pytest.mark.parametrize(
    "path", ["/api/v1/sessions/not-a-uuid/", "/api/v1/nowhere/", "/api/v1/sessions/x"]
)
def test_unknown_api_path_is_a_json_404(as_ada, path):
    response = as_ada.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_unknown_game_id_is_404(as_ada):
    response = as_ada.get("/api/v1/sessions/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
