"""Exporting a game as a JSON document and importing it back, over the API and
through the export_session and import_session commands."""

import copy
import io
import json

import pytest
from django.core.management import CommandError, call_command

from game import portability
from game.models import GameSession, Turn
from game.tests.conftest import choose, client_for, error_of, play_to_end, start_game

pytestmark = pytest.mark.django_db


def played(client, theme, turns=3, seed=7) -> str:
    game = start_game(client, theme, seed=seed)
    for number in range(turns):
        response = choose(client, game["id"], number, option=number % 3)
        assert response.status_code == 201, response.content
    return game["id"]


def export(client, session_id):
    return client.get(f"/api/v1/sessions/{session_id}/export/")


def import_(client, document):
    return client.post("/api/v1/sessions/import/", document, format="json")


@pytest.fixture
def document(as_ada, theme):
    """The export of a three-turn game of ada's."""
    response = export(as_ada, played(as_ada, theme))
    assert response.status_code == 200, response.content
    return response.json()


def stored():
    return GameSession.objects.count(), Turn.objects.count()


# -- round trip ------------------------------------------------------------------


def test_imported_game_is_a_new_game_that_verifies_and_plays_on(
    as_ada, as_bram, bram, document
):
    response = import_(as_bram, document)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] != document["source"]["id"]
    assert body["owner"] == "bram"
    assert body["turn"] == 3
    assert body["status"] == "active"
    assert body["head_chain_hash"] == document["head_chain_hash"]
    assert body["storyteller"] == document["storyteller"]
    original = GameSession.objects.get(pk=document["source"]["id"])
    imported = GameSession.objects.get(pk=body["id"])
    assert imported.state == original.state
    assert list(imported.turns.values_list("chain_hash", flat=True)) == [
        turn["chain_hash"] for turn in document["turns"]
    ]

    verify = as_bram.get(f"/api/v1/sessions/{body['id']}/verify/").json()
    assert verify["ok"] is True
    assert verify["turns"] == 3

    assert choose(as_bram, body["id"], 3).status_code == 201
    assert choose(as_ada, original.pk, 3).status_code == 201
    imported.refresh_from_db()
    original.refresh_from_db()
    # The same seed, theme and moves lead both copies to the same place.
    assert imported.head_chain_hash == original.head_chain_hash
    assert as_bram.get(f"/api/v1/sessions/{body['id']}/verify/").json()["ok"]


def test_export_document_holds_theme_seed_and_every_turn(as_ada, document, theme):
    assert document["format"] == portability.FORMAT
    assert document["version"] == portability.FORMAT_VERSION
    assert document["theme"] == {
        "slug": theme.slug,
        "version": theme.version,
        "content_hash": theme.content_hash,
    }
    assert document["seed"] == 7
    assert document["turn"] == 3
    assert [turn["number"] for turn in document["turns"]] == [1, 2, 3]
    stored_turns = Turn.objects.filter(session_id=document["source"]["id"])
    for turn, row in zip(
        document["turns"], stored_turns.order_by("number"), strict=True
    ):
        assert turn["action"] == row.action
        assert turn["record"] == row.record
        assert turn["state_hash"] == row.state_hash
        assert turn["chain_hash"] == row.chain_hash


def test_an_ended_game_comes_back_ended_with_its_ending(as_ada, as_bram, theme):
    game = start_game(as_ada, theme, seed=11)
    final = play_to_end(as_ada, game["id"])
    document = export(as_ada, game["id"]).json()

    body = import_(as_bram, document).json()

    assert body["status"] == "ended"
    assert body["ending"] == final["ending"]
    assert body["turn"] == final["turn"]
    assert choose(as_bram, body["id"], body["turn"]).status_code == 409


def test_a_game_at_turn_zero_round_trips(as_ada, theme):
    game = start_game(as_ada, theme, seed=3)
    document = export(as_ada, game["id"]).json()
    assert document["turns"] == []

    body = import_(as_ada, document).json()

    assert body["turn"] == 0
    assert choose(as_ada, body["id"], 0).status_code == 201


def test_import_keeps_visibility_and_storyteller(as_ada, theme):
    response = as_ada.post(
        "/api/v1/sessions/",
        {"theme": theme.slug, "seed": 5, "storyteller": "chaotic"},
        format="json",
    )
    game = response.json()
    as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"visibility": "public"}, format="json"
    )
    choose(as_ada, game["id"], 0)
    document = export(as_ada, game["id"]).json()
    assert document["storyteller"] == "chaotic"

    body = import_(as_ada, document).json()

    assert body["storyteller"] == "chaotic"
    assert body["visibility"] == "public"
    assert as_ada.get(f"/api/v1/sessions/{body['id']}/verify/").json()["ok"]


def test_a_fork_is_linked_to_its_parent_only_where_the_parent_is_visible(
    as_ada, as_bram, theme
):
    source = played(as_ada, theme, turns=3)
    fork = as_ada.post(
        f"/api/v1/sessions/{source}/fork/", {"turn": 2}, format="json"
    ).json()
    document = export(as_ada, fork["id"]).json()
    assert document["parent"] == {"id": source, "fork_turn": 2}

    mine = import_(as_ada, document).json()
    theirs = import_(as_bram, document).json()

    assert (mine["parent"], mine["fork_turn"]) == (source, 2)
    # bram cannot see ada's private game, so the link means nothing to him.
    assert (theirs["parent"], theirs["fork_turn"]) == (None, None)


def test_a_parent_whose_chain_differs_is_not_linked(as_ada, theme):
    source = played(as_ada, theme, turns=3)
    other = played(as_ada, theme, turns=3, seed=8)
    fork = as_ada.post(
        f"/api/v1/sessions/{source}/fork/", {"turn": 2}, format="json"
    ).json()
    document = export(as_ada, fork["id"]).json()
    document["parent"]["id"] = other

    body = import_(as_ada, document).json()

    assert body["parent"] is None


# -- refusals: nothing is written --------------------------------------------------


def _change_action(doc):
    turn = doc["turns"][1]
    turn["action"]["option"] = (turn["action"]["option"] + 1) % 3
    turn["record"]["action"] = copy.deepcopy(turn["action"])


def _change_state_hash(doc):
    doc["turns"][1]["state_hash"] = "0" * 64


def _change_chain_hash(doc):
    doc["turns"][0]["chain_hash"] = "f" * 64
    doc["turns"][0]["record"]["chain_hash"] = "f" * 64


def _drop_middle_turn(doc):
    del doc["turns"][1]


def _drop_last_turn(doc):
    del doc["turns"][-1]


def _drop_last_turn_consistently(doc):
    # Even with the head and count made to agree, the ending is no longer
    # the one the remaining turns reach.
    del doc["turns"][-1]
    doc["turn"] -= 1
    doc["head_chain_hash"] = doc["turns"][-1]["chain_hash"]
    doc["status"] = "ended"
    doc["ending"] = "made_up"


def _change_narrative(doc):
    doc["turns"][2]["record"]["narrative"] = ["The walls held without a fight."]


def _number_as_float(doc):
    # 2.0 equals 2 in Python but not in the canonical JSON the hashes use.
    doc["turns"][1]["record"]["turn"] = 2.0


def _change_seed(doc):
    doc["seed"] += 1


def _change_storyteller(doc):
    doc["storyteller"] = (
        "relentless" if doc["storyteller"] != "relentless" else "steady"
    )


def _claim_an_ending(doc):
    doc["status"] = "ended"
    doc["ending"] = "relief"


TAMPERED = {
    "changed action": (_change_action, "replay_mismatch", 2),
    "changed state hash": (_change_state_hash, "replay_mismatch", 2),
    "changed chain hash": (_change_chain_hash, "replay_mismatch", 1),
    "dropped middle turn": (_drop_middle_turn, "invalid_document", None),
    "dropped last turn": (_drop_last_turn, "invalid_document", None),
    "dropped last turn, head fixed": (
        _drop_last_turn_consistently,
        "replay_mismatch",
        None,
    ),
    "changed narrative": (_change_narrative, "replay_mismatch", 3),
    "number as float in a record": (_number_as_float, "replay_mismatch", 2),
    "changed seed": (_change_seed, "replay_mismatch", 1),
    "changed storyteller": (_change_storyteller, "replay_mismatch", 1),
    "claims an ending": (_claim_an_ending, "replay_mismatch", None),
}


@pytest.mark.parametrize("tamper", TAMPERED.values(), ids=TAMPERED.keys())
def test_a_tampered_document_is_refused_and_nothing_is_written(
    as_bram, document, tamper
):
    change, code, first_bad_turn = tamper
    change(document)
    before = stored()

    response = import_(as_bram, document)

    assert response.status_code == 400, response.content
    error = error_of(response)
    if code is not None:
        assert error["code"] == code, error
    if first_bad_turn is not None:
        assert error["details"]["first_bad_turn"] == first_bad_turn, error
    assert stored() == before


def test_a_theme_with_other_content_is_refused(as_bram, document):
    document["theme"]["content_hash"] = "a" * 64
    before = stored()

    response = import_(as_bram, document)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "theme_unavailable"
    assert "different content" in error["message"]
    assert stored() == before


def test_a_theme_version_not_installed_is_refused(as_bram, document):
    document["theme"]["version"] = "99.0.0"

    response = import_(as_bram, document)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "theme_unavailable"
    assert "99.0.0 is not installed" in error["message"]


def _more_turns_than_the_theme_allows(doc):
    extra = doc["turns"][-1]
    doc["turns"] += [dict(extra, number=n) for n in range(4, 40)]
    doc["turn"] = len(doc["turns"])
    doc["head_chain_hash"] = doc["turns"][-1]["chain_hash"]


def _deep_recordings(doc):
    nested = []
    for _ in range(100):
        nested = [nested]
    doc["turns"][0]["record"]["recordings"] = nested


GARBAGE = {
    "array": lambda doc: [doc],
    "wrong format": lambda doc: dict(doc, format="something-else"),
    "newer version": lambda doc: dict(doc, version=2),
    "unknown key": lambda doc: dict(doc, cheats=True),
    "missing turns": lambda doc: {k: v for k, v in doc.items() if k != "turns"},
    "seed as float": lambda doc: dict(doc, seed=7.0),
    "negative seed": lambda doc: dict(doc, seed=-1),
    "huge seed": lambda doc: dict(doc, seed=2**70),
    "bad hash": lambda doc: dict(doc, head_chain_hash="not a hash"),
    "turn number as bool": lambda doc: dict(
        doc, turns=[dict(doc["turns"][0], number=True), *doc["turns"][1:]]
    ),
    "unknown storyteller": lambda doc: dict(doc, storyteller="cruel"),
    "turn count disagrees": lambda doc: dict(doc, turn=5),
    "too many turns": lambda doc: _more_turns_than_the_theme_allows(doc) or doc,
    "recordings not a list": lambda doc: (
        doc["turns"][0]["record"].update(recordings="tape") or doc
    ),
    "timings not numbers": lambda doc: (
        doc["turns"][0]["record"].update(timings_us={"planner": "fast"}) or doc
    ),
    "deep nesting": lambda doc: _deep_recordings(doc) or doc,
}


@pytest.mark.parametrize("make", GARBAGE.values(), ids=GARBAGE.keys())
def test_a_malformed_document_is_refused_with_a_clear_message(as_bram, document, make):
    before = stored()

    response = import_(as_bram, make(document))

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid_document", error
    assert stored() == before


def test_a_body_that_is_not_json_is_refused(as_bram):
    response = as_bram.post(
        "/api/v1/sessions/import/", "not json {", content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_request"


def test_a_form_body_is_refused(as_bram, document):
    response = as_bram.post("/api/v1/sessions/import/", {"format": "x"})
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_a_body_over_the_request_size_limit_is_413(as_bram, document, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = stored()

    response = import_(as_bram, document)

    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    assert stored() == before


# -- who may export and import ------------------------------------------------------


def test_another_player_cannot_export_my_private_game(as_ada, as_bram, theme):
    game = played(as_ada, theme, turns=1)

    response = export(as_bram, game)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_another_player_may_watch_but_not_export_my_public_game(as_ada, as_bram, theme):
    game = played(as_ada, theme, turns=1)
    as_ada.patch(f"/api/v1/sessions/{game}/", {"visibility": "public"}, format="json")
    assert as_bram.get(f"/api/v1/sessions/{game}/").status_code == 200

    response = export(as_bram, game)

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_staff_may_export_any_game(as_ada, gemma, theme):
    game = played(as_ada, theme, turns=1)

    response = export(client_for(gemma), game)

    assert response.status_code == 200
    assert response.json()["source"]["id"] == game


def test_export_and_import_need_a_login(as_ada, anonymous, document):
    game = document["source"]["id"]
    assert export(anonymous, game).status_code == 401
    response = import_(anonymous, document)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_export_of_an_unknown_game_is_404(as_ada, db):
    response = export(as_ada, "00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404


def test_api_schema_documents_export_and_import(as_ada):
    paths = as_ada.get("/api/v1/schema/?format=json").json()["paths"]
    export_op = paths["/api/v1/sessions/{session_id}/export/"]["get"]
    import_op = paths["/api/v1/sessions/import/"]["post"]
    assert {"200", "403", "404"} <= set(export_op["responses"])
    assert {"201", "400", "413"} <= set(import_op["responses"])
    assert "requestBody" in import_op


# -- the commands -------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_commands_round_trip_a_game_through_a_file(as_ada, bram, theme, tmp_path):
    game = played(as_ada, theme, turns=4)
    path = tmp_path / "game.json"

    run("export_session", game, "-o", str(path))
    output = run("import_session", str(path), "--owner", "bram")

    imported = GameSession.objects.exclude(pk=game).get()
    assert imported.owner == bram
    assert imported.turn_number == 4
    assert str(imported.id) in output
    assert "OK" in run("verify", str(imported.id))


def test_export_command_writes_to_stdout_without_a_file(as_ada, theme):
    game = played(as_ada, theme, turns=1)
    document = json.loads(run("export_session", game))
    assert document["turn"] == 1


def test_import_command_refuses_a_tampered_file_and_writes_nothing(
    bram, document, tmp_path
):
    _change_action(document)
    path = tmp_path / "game.json"
    path.write_text(json.dumps(document))
    before = stored()

    with pytest.raises(CommandError, match="Import refused: Turn 2"):
        run("import_session", str(path), "--owner", "bram")
    assert stored() == before


def test_import_command_refuses_garbage(bram, tmp_path):
    path = tmp_path / "game.json"
    path.write_bytes(b"\x00\xff not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import_session", str(path), "--owner", "bram")


def test_import_command_refuses_a_huge_file_unread(bram, tmp_path, monkeypatch):
    monkeypatch.setattr(
        "game.management.commands.import_session.MAX_DOCUMENT_BYTES", 1000
    )
    path = tmp_path / "game.json"
    path.write_text(json.dumps({"padding": "x" * 5000}))
    with pytest.raises(CommandError, match="larger than the 1000 bytes"):
        run("import_session", str(path), "--owner", "bram")


def test_import_command_needs_a_known_owner(document, tmp_path):
    path = tmp_path / "game.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="No user named nobody"):
        run("import_session", str(path), "--owner", "nobody")


def test_export_command_names_an_unknown_game(db):
    with pytest.raises(CommandError, match="No game"):
        run("export_session", "00000000-0000-0000-0000-000000000000")


def test_a_parent_in_the_wrong_form_is_told_what_form_it_takes(as_bram, document):
    response = import_(as_bram, dict(document, parent=document["source"]["id"]))

    assert error_of(response)["message"] == (
        "document.parent: must be null or an object with id, fork_turn"
    )


def test_a_huge_value_is_not_repeated_back_in_full(as_bram, document):
    document["source"]["id"] = "x" * 5000

    message = error_of(import_(as_bram, document))["message"]

    assert message.startswith("document.source.id: 'xxxxxxxxxx")
    # The value is cut short, the reason after it is kept.
    assert message.split("…(shortened) ")[1].startswith(("does not match", "is too"))
    assert len(message) < 200
