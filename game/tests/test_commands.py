"""The load_themes, play and verify management commands."""

import io

import pytest
from django.core.management import CommandError, call_command

from game.models import GameSession, Theme, Turn

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_load_themes_is_idempotent():
    run("load_themes")
    count = Theme.objects.count()
    assert count >= 1
    run("load_themes")
    assert Theme.objects.count() == count


def test_play_auto_plays_a_stored_game_to_an_ending(theme):
    output = run("play", "--auto", "random", "--seed", "9", "--user", "ada")
    game = GameSession.objects.get(owner__username="ada")
    assert game.status == "ended"
    assert game.turns.count() == game.turn_number > 0
    assert "***" in output
    assert str(game.id) in output


def test_play_reads_choices_from_stdin(theme, monkeypatch):
    answers = iter(["9", "2", "q"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    output = run("play", "--seed", "4", "--user", "bram")
    game = GameSession.objects.get(owner__username="bram")
    assert game.turn_number == 1
    assert game.turns.get().action == {"type": "choose", "option": 1}
    assert "Not one of the options." in output


def _played_game():
    run("play", "--auto", "first", "--seed", "21", "--user", "ada")
    return GameSession.objects.get(owner__username="ada")


def test_verify_accepts_an_untouched_game(theme):
    game = _played_game()
    assert "OK" in run("verify", str(game.id))


def test_verify_names_a_tampered_turn(theme):
    game = _played_game()
    assert game.turn_number >= 3
    tampered = Turn.objects.get(session=game, number=2)
    tampered.state_hash = "0" * 64
    tampered.save()

    with pytest.raises(CommandError, match="turn 2"):
        run("verify", str(game.id))


def test_verify_names_a_turn_whose_action_was_changed(theme):
    game = _played_game()
    tampered = Turn.objects.get(session=game, number=3)
    tampered.action = {"type": "choose", "option": (tampered.action["option"] + 1) % 3}
    tampered.save()

    with pytest.raises(CommandError, match="turn 3"):
        run("verify", str(game.id))


def test_verify_unknown_game_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No game"):
        run("verify", "00000000-0000-0000-0000-000000000000")
