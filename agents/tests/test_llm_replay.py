"""Games played with a model voice replay exactly from their recordings, offline.

Also: without a voice nothing changed (records match those committed before
voices existed), and recordings that do not fit their turn are refused.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import agents
from agents import policies
from agents.llm import CircuitBreaker, LiveVoice
from agents.llm.fake_server import FakeModelServer

from .conftest import redoubt_raw

ROOT = Path(__file__).resolve().parents[2]
RECORDS_GOLDEN = Path(__file__).parent / "fixtures" / "redoubt_records_golden.json"
SEED = 4
TURNS = 20
FREE_TEXTS = [
    "repair the gate",
    "let Cora rest, then ration the grain to half",
    "loose 3 volleys at them",
    "sing a song of the sea",
]
# Failures mixed into the game: every tenth answer of each kind goes wrong.
CYCLE = ["ok", "malformed_json", "ok", "ok", "server_error", "ok", "ok"]
CYCLE += ["schema_violation", "ok", "refusal", "ok"]


def long_theme():
    raw = redoubt_raw()
    raw["turn_limit"] = 24
    return agents.load_theme(raw)


def action_for(state, turn):
    if turn % 5 == 2:
        return {"type": "free_text", "text": FREE_TEXTS[(turn // 5) % len(FREE_TEXTS)]}
    return policies.choose("scripted", state)


def without_timings(record):
    return {k: v for k, v in record.items() if k != "timings_us"}


@pytest.fixture(scope="module")
def voiced_game():
    """A 20-turn game with every agent voiced over both protocols, failures mixed in.

    The server is stopped before any test sees the game, so replays have no
    backend to call.
    """
    theme = long_theme()
    with FakeModelServer() as server:
        server.set_cycle(CYCLE)
        configs = {
            **server.configs("ollama", ["planner", "narrator"], retries=0),
            **server.configs("openai", ["characters", "events"], retries=0),
        }
        live = LiveVoice(configs, CircuitBreaker(threshold=100), sleep=lambda s: 0)
        state = agents.new_game(theme, SEED)
        actions, records = [], []
        for turn in range(TURNS):
            action = action_for(state, turn)
            outcome = agents.resolve_turn(state, action, voice=live)
            actions.append(action)
            records.append(outcome.record)
            state = outcome.state
        live.close()
    return theme, actions, records


def test_a_voiced_game_mixes_model_words_and_fallbacks(voiced_game):
    _, actions, records = voiced_game
    assert len(records) == TURNS
    exchanges = [e for r in records for e in r["recordings"]]
    reasons = {e["reason"] for e in exchanges}
    assert {None, "invalid_json", "http_error", "schema", "refusal"} <= reasons
    assert {e["agent"] for e in exchanges} == {
        "planner",
        "characters",
        "events",
        "narrator",
    }
    assert sum(a["type"] == "free_text" for a in actions) == 4


def test_the_voiced_game_replays_to_identical_hashes_with_no_backend(voiced_game):
    theme, actions, records = voiced_game
    hashes = agents.replay(theme, SEED, actions, [r["recordings"] for r in records])
    keys = ("turn", "state_hash", "chain_hash")
    assert hashes == [{key: r[key] for key in keys} for r in records]


def test_each_replayed_turn_gives_back_the_same_record(voiced_game):
    theme, actions, records = voiced_game
    state = agents.new_game(theme, SEED)
    for action, record in zip(actions, records, strict=True):
        outcome = agents.resolve_turn(state, action, record["recordings"])
        assert without_timings(outcome.record) == without_timings(record)
        state = outcome.state


def test_the_voiced_game_replays_the_same_in_another_process(voiced_game, tmp_path):
    theme, actions, records = voiced_game
    game = tmp_path / "game.json"
    game.write_text(
        json.dumps(
            {
                "theme": theme.data,
                "actions": actions,
                "recordings": [r["recordings"] for r in records],
            }
        ),
        encoding="utf-8",
    )
    script = (
        "import json, sys, agents\n"
        "g = json.load(open(sys.argv[1]))\n"
        "t = agents.load_theme(g['theme'])\n"
        f"h = agents.replay(t, {SEED}, g['actions'], g['recordings'])\n"
        "print(h[-1]['chain_hash'])\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(game)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == records[-1]["chain_hash"]


@pytest.fixture(scope="module")
def clean_turn():
    """One free-text turn in which all four agents answered well."""
    theme = long_theme()
    state = agents.new_game(theme, SEED)
    action = {"type": "free_text", "text": "mend the curtain wall"}
    with FakeModelServer() as server:
        live = LiveVoice(server.configs("openai"))
        record = agents.resolve_turn(state, action, voice=live).record
        live.close()
    asked = [(e["agent"], e["outcome"]) for e in record["recordings"]]
    assert asked == [
        ("planner", "ok"),
        ("characters", "ok"),
        ("events", "ok"),
        ("narrator", "ok"),
    ]
    return state, action, record


def _swap(tape):
    tape[0], tape[1] = tape[1], tape[0]


def _rename(tape):
    tape[2]["agent"] = "narrator"


def _drop(tape):
    tape.pop()


def _extra(tape):
    tape.append(copy.deepcopy(tape[-1]))


def _bad_options(tape):
    tape[2]["reply"]["options"] = tape[2]["reply"]["options"][:2]


def _bad_call(tape):
    tape[0]["reply"]["calls"] = [{"function": "sortie", "args": {}}]


def _no_reply(tape):
    tape[3]["reply"] = None


def _junk(tape):
    tape[1] = "a line of dialogue"


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        (_swap, "answers the characters"),
        (_rename, "answers the narrator"),
        (_drop, "has no exchange 4"),
        (_extra, "never asked for"),
        (_bad_options, "fails its checks"),
        (_bad_call, "fails its checks"),
        (_no_reply, "an ok exchange has a reply"),
        (_junk, "must be an object"),
    ],
)
def test_tampered_recordings_are_refused(clean_turn, tamper, words):
    state, action, record = clean_turn
    tape = copy.deepcopy(record["recordings"])
    tamper(tape)
    with pytest.raises(agents.RecordingError, match=words) as info:
        agents.resolve_turn(state, action, tape)
    # Callers that treat stored data problems as ValueError or EngineError
    # catch it either way.
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, agents.EngineError)


def test_replay_names_the_turn_whose_recordings_do_not_fit(voiced_game):
    theme, actions, records = voiced_game
    tapes = [copy.deepcopy(r["recordings"]) for r in records]
    tapes[6].pop()
    with pytest.raises(agents.RecordingError) as info:
        agents.replay(theme, SEED, actions, tapes)
    assert info.value.turn == 7


def test_a_reworded_scene_changes_the_hashes_so_verification_notices(clean_turn):
    state, action, record = clean_turn
    tape = copy.deepcopy(record["recordings"])
    tape[2]["reply"]["text"] = "Nothing happens at all."
    outcome = agents.resolve_turn(state, action, tape)
    assert outcome.record["state_hash"] != record["state_hash"]


def test_recordings_and_a_voice_together_are_refused(clean_turn):
    state, action, record = clean_turn
    with pytest.raises(ValueError, match="not both"):
        agents.resolve_turn(state, action, record["recordings"], voice=LiveVoice({}))


def test_without_a_voice_records_are_exactly_those_committed_before_voices():
    expected = json.loads(RECORDS_GOLDEN.read_text(encoding="utf-8"))
    theme = agents.load_theme(redoubt_raw())
    assert theme.content_hash == expected["theme_content_hash"]
    for game in expected["games"]:
        state = agents.new_game(theme, game["seed"])
        for action, record in zip(game["actions"], game["records"], strict=True):
            outcome = agents.resolve_turn(state, action)
            assert without_timings(outcome.record) == record
            state = outcome.state


@pytest.mark.parametrize("kind", ["nothing configured", "server gone"])
def test_a_voice_that_never_answers_changes_nothing_but_the_recordings(kind):
    theme = long_theme()
    if kind == "nothing configured":
        live = LiveVoice({})
        reason = "disabled"
    else:
        gone = FakeModelServer().start()
        gone.stop()
        live = LiveVoice(gone.configs("ollama", retries=0), sleep=lambda s: 0)
        reason = None  # connection first, then the breaker rests the server
    plain_state = voiced_state = agents.new_game(theme, SEED)
    for turn in range(12):
        action = action_for(plain_state, turn)
        plain = agents.resolve_turn(plain_state, action)
        voiced = agents.resolve_turn(voiced_state, action, voice=live)
        assert voiced.record["recordings"]
        for exchange in voiced.record["recordings"]:
            assert exchange["outcome"] == "fallback"
            assert reason is None or exchange["reason"] == reason
        assert without_timings({**voiced.record, "recordings": []}) == without_timings(
            plain.record
        )
        plain_state, voiced_state = plain.state, voiced.state
    live.close()
