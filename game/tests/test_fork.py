"""Forking a game at a turn, undoing the last turn and verifying stored chains."""

import pytest

import agents
from game import selectors, services
from game.errors import ChainCorrupt, InvalidInput, NotFound
from game.models import GameSession, Turn
from game.tests.conftest import choose, client_for, error_of, play_to_end, start_game

pytestmark = pytest.mark.django_db


def played(client, theme, turns, seed=7):
    """A game of the client's with ``turns`` turns played; returns its id."""
    game = start_game(client, theme, seed=seed)
    for number in range(turns):
        response = choose(client, game["id"], number, option=number % 3)
        assert response.status_code == 201, response.content
    return game["id"]


def stored_turns(session_id):
    return list(
        Turn.objects.filter(session_id=session_id)
        .order_by("number")
        .values_list("number", "action", "state_hash", "chain_hash")
    )


def state_after(session_id, turns):
    """The state a game had after ``turns`` turns, played afresh by the engine."""
    source = GameSession.objects.get(pk=session_id)
    theme = selectors.theme_engine(source.theme)
    state = agents.new_game(theme, source.seed, selectors.session_storyteller(source))
    for turn in Turn.objects.filter(session=source).order_by("number")[:turns]:
        state = agents.resolve_turn(state, turn.action).state
    return state.data


def fork(client, session_id, turn):
    return client.post(
        f"/api/v1/sessions/{session_id}/fork/", {"turn": turn}, format="json"
    )


# -- fork ----------------------------------------------------------------------


def test_fork_keeps_the_first_turns_with_the_same_hashes(as_ada, theme):
    source = played(as_ada, theme, 4)

    response = fork(as_ada, source, 2)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] != source
    assert body["turn"] == 2
    assert body["parent"] == source
    assert body["fork_turn"] == 2
    assert body["seed"] == 7
    assert body["visibility"] == "private"
    assert stored_turns(body["id"]) == stored_turns(source)[:2]
    assert body["head_chain_hash"] == stored_turns(source)[1][3]
    assert len(stored_turns(source)) == 4


def test_fork_state_equals_the_source_state_at_that_turn(as_ada, theme):
    source = played(as_ada, theme, 3)

    body = fork(as_ada, source, 2).json()

    forked = GameSession.objects.get(pk=body["id"])
    assert forked.state == state_after(source, 2)
    assert forked.theme_id == GameSession.objects.get(pk=source).theme_id


def test_fork_at_the_current_turn_copies_the_current_state(as_ada, theme):
    source = played(as_ada, theme, 3)

    body = fork(as_ada, source, 3).json()

    assert GameSession.objects.get(pk=body["id"]).state == (
        GameSession.objects.get(pk=source).state
    )


def test_fork_at_turn_zero_is_the_opening_with_no_turns(as_ada, theme):
    source = played(as_ada, theme, 2)

    body = fork(as_ada, source, 0).json()

    assert body["turn"] == 0
    assert stored_turns(body["id"]) == []
    opening = start_game(as_ada, theme, seed=7)
    assert body["head_chain_hash"] == opening["head_chain_hash"]


def test_a_fork_plays_on_like_the_source_would(as_ada, theme):
    source = played(as_ada, theme, 3)
    body = fork(as_ada, source, 2).json()

    response = choose(as_ada, body["id"], 2, option=2)

    assert response.status_code == 201, response.content
    assert stored_turns(body["id"]) == stored_turns(source)


def test_fork_of_a_fork_remembers_its_own_parent(as_ada, theme):
    source = played(as_ada, theme, 3)
    child = fork(as_ada, source, 2).json()

    grandchild = fork(as_ada, child["id"], 1).json()

    assert grandchild["parent"] == child["id"]
    assert stored_turns(grandchild["id"]) == stored_turns(source)[:1]


def test_spectator_forks_a_public_game_into_a_private_copy(as_ada, as_bram, theme):
    source = played(as_ada, theme, 2)
    as_ada.patch(f"/api/v1/sessions/{source}/", {"visibility": "public"}, format="json")

    response = fork(as_bram, source, 1)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == "bram"
    assert body["visibility"] == "private"
    assert stored_turns(body["id"]) == stored_turns(source)[:1]
    # The copy is bram's to play, and ada's game is untouched.
    assert choose(as_bram, body["id"], 1).status_code == 201
    assert GameSession.objects.get(pk=source).turn_number == 2


def test_fork_of_someone_elses_private_game_is_404(as_ada, as_bram, theme):
    source = played(as_ada, theme, 2)

    response = fork(as_bram, source, 1)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert GameSession.objects.filter(owner__username="bram").count() == 0


def test_fork_of_an_unknown_game_is_404(as_ada, db):
    response = fork(as_ada, "00000000-0000-0000-0000-000000000000", 0)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("turn", [3, 99, -1, "two", None, 1.5])
def test_fork_at_a_bad_turn_number_is_400(as_ada, theme, turn):
    source = played(as_ada, theme, 2)
    before = GameSession.objects.count()

    response = fork(as_ada, source, turn)

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid_input"
    assert "turn" in error["details"]
    assert GameSession.objects.count() == before


def test_fork_without_a_turn_or_with_extra_fields_is_400(as_ada, theme):
    source = played(as_ada, theme, 1)
    missing = as_ada.post(f"/api/v1/sessions/{source}/fork/", {}, format="json")
    extra = as_ada.post(
        f"/api/v1/sessions/{source}/fork/", {"turn": 1, "tur": 1}, format="json"
    )
    assert missing.status_code == 400
    assert "turn" in error_of(missing)["details"]
    assert extra.status_code == 400
    assert "tur" in error_of(extra)["details"]


def test_fork_needs_authentication(anonymous, as_ada, theme):
    source = played(as_ada, theme, 1)
    response = fork(anonymous, source, 0)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_fork_service_refuses_a_turn_beyond_the_source(ada, theme):
    source = services.session_create(owner=ada, theme_slug=theme.slug, seed=3)
    with pytest.raises(InvalidInput, match="between 0 and 0"):
        services.session_fork(session_id=source.id, user=ada, at_turn=1)


def test_fork_of_a_tampered_game_is_refused_and_creates_nothing(as_ada, theme):
    source = played(as_ada, theme, 3)
    Turn.objects.filter(session_id=source, number=2).update(state_hash="0" * 64)
    before = GameSession.objects.count()

    response = fork(as_ada, source, 3)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "chain_corrupt"
    assert error["details"]["first_bad_turn"] == 2
    assert GameSession.objects.count() == before
    # The turns before the damage still fork cleanly.
    assert fork(as_ada, source, 1).status_code == 201


def test_fork_service_names_the_corrupt_turn(ada, theme):
    source = services.session_create(owner=ada, theme_slug=theme.slug, seed=5)
    for number in range(2):
        services.turn_submit(
            session_id=source.id,
            user=ada,
            action={"type": "choose", "option": 0},
            expected_turn=number,
        )
    turn = Turn.objects.get(session=source, number=1)
    turn.action = {"type": "choose", "option": 1}
    turn.save()

    with pytest.raises(ChainCorrupt, match="Turn 1"):
        services.session_fork(session_id=source.id, user=ada, at_turn=2)


# -- undo ----------------------------------------------------------------------


def undo(client, session_id):
    return client.post(f"/api/v1/sessions/{session_id}/undo/")


def test_undo_is_a_fork_one_turn_back(as_ada, theme):
    source = played(as_ada, theme, 3)

    response = undo(as_ada, source)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["turn"] == 2
    assert body["parent"] == source
    assert body["fork_turn"] == 2
    assert stored_turns(body["id"]) == stored_turns(source)[:2]
    assert GameSession.objects.get(pk=source).turn_number == 3


def test_undo_at_turn_zero_is_refused(as_ada, theme):
    game = start_game(as_ada, theme)

    response = undo(as_ada, game["id"])

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_input"
    assert "Nothing to undo" in error["message"]
    assert GameSession.objects.count() == 1


def test_undo_of_an_ended_game_brings_back_the_turn_before_the_end(as_ada, theme):
    game = start_game(as_ada, theme, seed=13)
    ended = play_to_end(as_ada, game["id"])
    assert ended["status"] == "ended"

    body = undo(as_ada, game["id"]).json()

    assert body["status"] == "active"
    assert body["ending"] is None
    assert body["turn"] == ended["turn"] - 1
    assert body["view"]["scene"] is not None
    assert choose(as_ada, body["id"], body["turn"]).status_code == 201


def test_undo_of_someone_elses_private_game_is_404(as_ada, as_bram, theme):
    source = played(as_ada, theme, 1)
    response = undo(as_bram, source)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# -- verify --------------------------------------------------------------------


def verify(client, session_id):
    response = client.get(f"/api/v1/sessions/{session_id}/verify/")
    assert response.status_code == 200, response.content
    return response.json()


def test_verify_passes_an_untouched_game_and_its_fork(as_ada, theme):
    source = played(as_ada, theme, 4)
    child = fork(as_ada, source, 2).json()["id"]
    choose(as_ada, child, 2, option=1)

    for session_id, turns in ((source, 4), (child, 3)):
        report = verify(as_ada, session_id)
        assert report["ok"] is True
        assert report["turns"] == turns
        assert report["first_bad_turn"] is None
        assert report["detail"] == ""
        assert [item["ok"] for item in report["results"]] == [True] * turns


def test_verify_passes_a_game_with_no_turns(as_ada, theme):
    game = start_game(as_ada, theme)
    assert verify(as_ada, game["id"]) == {
        "ok": True,
        "turns": 0,
        "first_bad_turn": None,
        "detail": "",
        "results": [],
    }


def _flip_option(turn):
    turn.action = {"type": "choose", "option": (turn.action["option"] + 1) % 3}


def _bad_state_hash(turn):
    turn.state_hash = "1" * 64


def _bad_chain_hash(turn):
    turn.chain_hash = "2" * 64


def _bad_record_state_hash(turn):
    turn.record = {**turn.record, "state_hash": "3" * 64}


def _bad_record_chain_hash(turn):
    turn.record = {**turn.record, "chain_hash": "4" * 64}


def _bad_record_action(turn):
    turn.record = {**turn.record, "action": {"type": "choose", "option": 9}}


def _forged_narrative(turn):
    turn.record = {
        **turn.record,
        "narrative": ["A forged line.", *turn.record["narrative"]],
    }


def _forged_verdict(turn):
    proposals = [dict(p) for p in turn.record["proposals"]]
    proposals[0]["verdict"] = (
        "rejected" if proposals[0]["verdict"] == "accepted" else "accepted"
    )
    turn.record = {**turn.record, "proposals": proposals}


TAMPERING = [
    _forged_narrative,
    _forged_verdict,
    _flip_option,
    _bad_state_hash,
    _bad_chain_hash,
    _bad_record_state_hash,
    _bad_record_chain_hash,
    _bad_record_action,
]


@pytest.mark.parametrize("tamper", TAMPERING, ids=lambda fn: fn.__name__.strip("_"))
@pytest.mark.parametrize("number", [1, 3, 4])
def test_verify_finds_any_altered_turn_at_that_turn(as_ada, theme, tamper, number):
    source = played(as_ada, theme, 4)
    turn = Turn.objects.get(session_id=source, number=number)
    tamper(turn)
    turn.save()

    report = verify(as_ada, source)

    assert report["ok"] is False
    assert report["first_bad_turn"] == number
    assert f"turn {number}" in report["detail"]
    assert [item["ok"] for item in report["results"][: number - 1]] == [True] * (
        number - 1
    )
    assert report["results"][number - 1]["ok"] is False


def test_verify_finds_an_altered_current_state(as_ada, theme):
    source = played(as_ada, theme, 2)
    game = GameSession.objects.get(pk=source)
    game.state = {**game.state, "turn_limit": game.state["turn_limit"] + 1}
    game.save()

    report = verify(as_ada, source)

    assert report["ok"] is False
    assert report["first_bad_turn"] == 2


def test_verify_finds_a_deleted_turn(as_ada, theme):
    source = played(as_ada, theme, 3)
    Turn.objects.filter(session_id=source, number=2).delete()

    report = verify(as_ada, source)

    assert report["ok"] is False
    assert report["first_bad_turn"] == 2


def test_verify_of_someone_elses_private_game_is_404(as_ada, as_bram, theme):
    source = played(as_ada, theme, 1)
    response = as_bram.get(f"/api/v1/sessions/{source}/verify/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_spectator_may_verify_a_public_game(as_ada, as_bram, theme):
    source = played(as_ada, theme, 2)
    as_ada.patch(f"/api/v1/sessions/{source}/", {"visibility": "public"}, format="json")
    assert verify(as_bram, source)["ok"] is True


# -- storyteller ---------------------------------------------------------------


@pytest.mark.parametrize("profile", ["steady", "relentless", "chaotic"])
def test_game_starts_with_the_chosen_storyteller(as_ada, theme, profile):
    response = as_ada.post(
        "/api/v1/sessions/",
        {"theme": theme.slug, "seed": 7, "storyteller": profile},
        format="json",
    )
    assert response.status_code == 201, response.content
    game = GameSession.objects.get(pk=response.json()["id"])
    assert game.state["director"]["profile"] == profile


def test_without_a_storyteller_the_theme_default_is_used(as_ada, theme):
    game = GameSession.objects.get(pk=start_game(as_ada, theme)["id"])
    assert game.state["director"]["profile"] == theme.data["storyteller"]


def test_unknown_storyteller_is_400_and_creates_nothing(as_ada, theme):
    response = as_ada.post(
        "/api/v1/sessions/",
        {"theme": theme.slug, "storyteller": "gentle"},
        format="json",
    )
    assert response.status_code == 400
    assert "storyteller" in error_of(response)["details"]
    assert GameSession.objects.count() == 0


def test_service_refuses_an_unknown_storyteller(ada, theme):
    with pytest.raises(InvalidInput) as caught:
        services.session_create(owner=ada, theme_slug=theme.slug, storyteller="x")
    assert "storyteller" in caught.value.details


def test_storyteller_survives_fork_undo_and_verify(as_ada, theme):
    other = "chaotic" if theme.data["storyteller"] != "chaotic" else "relentless"
    game = as_ada.post(
        "/api/v1/sessions/",
        {"theme": theme.slug, "seed": 8, "storyteller": other},
        format="json",
    ).json()
    for number in range(3):
        assert choose(as_ada, game["id"], number).status_code == 201

    assert verify(as_ada, game["id"])["ok"] is True
    child = fork(as_ada, game["id"], 2).json()
    undone = undo(as_ada, game["id"]).json()

    for body in (child, undone):
        forked = GameSession.objects.get(pk=body["id"])
        assert forked.state["director"]["profile"] == other
        assert forked.state == state_after(game["id"], 2)
        assert verify(as_ada, body["id"])["ok"] is True


def test_replay_rebuilds_a_game_started_with_another_storyteller(ada, theme):
    game = services.session_create(
        owner=ada, theme_slug=theme.slug, seed=4, storyteller="relentless"
    )
    for number in range(2):
        services.turn_submit(
            session_id=game.id,
            user=ada,
            action={"type": "choose", "option": 0},
            expected_turn=number,
        )
    turns = list(Turn.objects.filter(session=game).order_by("number"))
    engine_theme = selectors.theme_engine(game.theme)

    again = agents.replay(
        engine_theme, 4, [t.action for t in turns], storyteller="relentless"
    )

    assert [item["chain_hash"] for item in again] == [t.chain_hash for t in turns]


def test_fork_by_a_stranger_of_an_unlisted_id_does_not_leak(bram, ada, theme):
    source = services.session_create(owner=ada, theme_slug=theme.slug, seed=2)
    with pytest.raises(NotFound):
        services.session_fork(session_id=source.id, user=bram, at_turn=0)
    with pytest.raises(NotFound):
        services.session_undo(session_id=source.id, user=bram)


def test_api_schema_documents_fork_undo_and_verify(as_ada):
    schema = as_ada.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "post" in paths["/api/v1/sessions/{session_id}/fork/"]
    assert "post" in paths["/api/v1/sessions/{session_id}/undo/"]
    assert "get" in paths["/api/v1/sessions/{session_id}/verify/"]


# -- admin ---------------------------------------------------------------------


@pytest.fixture
def gm_client(client, gemma):
    client.force_login(gemma)
    return client


def admin_action(gm_client, action, ids, **extra):
    return gm_client.post(
        "/admin/game/gamesession/",
        {"action": action, "_selected_action": [str(i) for i in ids], **extra},
        follow=True,
    )


def admin_notices(response):
    return [str(message) for message in response.context["messages"]]


def test_admin_verify_reports_ok_and_the_first_bad_turn(gm_client, ada, theme):
    good = played(client_for(ada), theme, 2, seed=1)
    bad = played(client_for(ada), theme, 3, seed=2)
    Turn.objects.filter(session_id=bad, number=2).update(chain_hash="5" * 64)

    response = admin_action(gm_client, "verify_chain", [good, bad])

    assert response.status_code == 200
    notes = admin_notices(response)
    assert any(note.startswith(f"OK {good}: 2 turn(s)") for note in notes), notes
    assert any(
        note.startswith(f"MISMATCH {bad}: first bad turn 2") for note in notes
    ), notes


def test_admin_forks_any_game_at_a_turn_for_the_game_master(
    gm_client, gemma, ada, theme
):
    source = played(client_for(ada), theme, 3)

    response = admin_action(gm_client, "fork_at_turn", [source], turn="2")

    fork = GameSession.objects.get(owner=gemma)
    assert fork.parent_id is not None and str(fork.parent_id) == source
    assert stored_turns(fork.id) == stored_turns(source)[:2]
    assert any(f"Forked {source} at turn 2" in n for n in admin_notices(response))


@pytest.mark.parametrize("turn", ["", "9"])
def test_admin_fork_with_a_bad_turn_explains_and_forks_nothing(
    gm_client, gemma, ada, theme, turn
):
    source = played(client_for(ada), theme, 1)

    response = admin_action(gm_client, "fork_at_turn", [source], turn=turn)

    assert not GameSession.objects.filter(owner=gemma).exists()
    assert admin_notices(response)
