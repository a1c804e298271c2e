"""Shared fixtures: the small Thornwick Redoubt test theme and helpers to play it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import agents

FIXTURE = Path(__file__).parent / "fixtures" / "redoubt.json"


def redoubt_raw() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def raw() -> dict[str, Any]:
    """A fresh, editable copy of the test theme pack."""
    return copy.deepcopy(redoubt_raw())


@pytest.fixture
def theme() -> agents.Theme:
    return agents.load_theme(redoubt_raw())


def play(theme: agents.Theme, seed: int, choices: list[int]) -> list[agents.Outcome]:
    state = agents.new_game(theme, seed)
    outcomes = []
    for option in choices:
        if state.ended:
            break
        outcome = agents.resolve_turn(state, {"type": "choose", "option": option})
        outcomes.append(outcome)
        state = outcome.state
    return outcomes


def with_state(state: agents.State, change: Any) -> agents.State:
    """A copy of a state edited by `change(data)`, as if read back from storage."""
    data = copy.deepcopy(state.data)
    change(data)
    return agents.restore(state.theme, data)
