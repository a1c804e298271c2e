"""Golden replay: a fixed game on the test theme must keep producing the same hashes.

A deliberate change to the mechanics changes these hashes; regenerate the
file with `GOLDEN_UPDATE=1 pytest agents/tests/test_golden_replay.py` and
say why in the commit. An unexplained change here means determinism broke.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import agents

from .conftest import redoubt_raw

GOLDEN = Path(__file__).parent / "fixtures" / "redoubt_golden.json"
SEED = 20260101
ACTIONS = [
    {"type": "choose", "option": 0},
    {"type": "order", "function": "barricade", "args": {"structure": "gate"}},
    {"type": "choose", "option": 2},
    {"type": "choose", "option": 1},
    {"type": "gm_event", "function": "change_weather", "args": {"weather": "storm"}},
    {"type": "choose", "option": 0},
    {"type": "choose", "option": 1},
    {"type": "order", "function": "rest_npc", "args": {"npc": "cora"}},
    {"type": "choose", "option": 2},
    {"type": "choose", "option": 0},
]


def test_the_golden_game_replays_to_its_recorded_hashes():
    theme = agents.load_theme(redoubt_raw())
    hashes = agents.replay(theme, SEED, ACTIONS)
    got = {
        "theme_content_hash": theme.content_hash,
        "initial_state_hash": agents.new_game(theme, SEED).hash,
        "turns": hashes,
    }
    if os.environ.get("GOLDEN_UPDATE") == "1":
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got == expected
