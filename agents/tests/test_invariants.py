"""Property tests: any sequence of actions keeps every number in range and the
state plain JSON; refused actions change nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agents
from agents import ActionError
from agents.functions import REGISTRY
from agents.functions.helpers import structure_status

from .conftest import redoubt_raw

THEME = agents.load_theme(redoubt_raw())


def arg_values(arg) -> st.SearchStrategy[Any]:
    spec = THEME.data
    if arg.type == "int":
        # Mostly in range, sometimes just outside it, to exercise refusals.
        return st.integers(arg.min - 1, arg.max + 1)
    if arg.type == "str":
        return st.sampled_from([*arg.choices, "nonsense"])
    if arg.type == "flag":
        return st.sampled_from(["relief", "bell", "Bad Flag"])
    table = {
        "npc": spec["npcs"],
        "structure": spec["structures"],
        "stockpile": spec["stockpiles"],
        "metric": spec["metrics"],
    }[arg.type]
    return st.sampled_from([*sorted(table), "nowhere"])


def call_of(kind: str, names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    def build(name: str) -> st.SearchStrategy[dict[str, Any]]:
        fn = REGISTRY[name]
        args = st.fixed_dictionaries({a.name: arg_values(a) for a in fn.args})
        return args.map(lambda a: {"type": kind, "function": name, "args": a})

    return st.sampled_from(names).flatmap(build)


ACTIONS = st.one_of(
    st.integers(-1, 3).map(lambda i: {"type": "choose", "option": i}),
    call_of("order", THEME.player_orders),
    call_of(
        "gm_event",
        sorted(n for n, f in REGISTRY.items() if f.category != "upkeep"),
    ),
)


def assert_sound(data: dict[str, Any]) -> None:
    spec = THEME.data
    for mid, value in data["metrics"].items():
        assert spec["metrics"][mid]["min"] <= value <= spec["metrics"][mid]["max"]
    for sid, value in data["stockpiles"].items():
        assert 0 <= value <= spec["stockpiles"][sid]["max"]
    for live in data["structures"].values():
        assert 0 <= live["integrity"] <= live["max"] <= 150
        assert live["status"] == structure_status(live["integrity"], live["max"])
        assert 0 <= live["fire"] <= 5
        if live["status"] == "collapsed":
            assert live["fire"] == 0
    for npc in data["npcs"].values():
        for field in ("health", "loyalty", "fatigue"):
            assert 0 <= npc[field] <= 100
        assert npc["status"] in ("active", "wounded", "dead", "deserted", "captured")
    enemy = data["enemy"]
    assert enemy["strength"] >= 0 and enemy["engines"] >= 0
    assert 0 <= enemy["morale"] <= 100
    director = data["director"]
    assert 0 <= director["tension"] <= 100
    assert 1 <= director["threat_budget"] <= 12
    assert director["phase"] in ("buildup", "peak", "relax")
    assert data["turn"] <= data["turn_limit"]
    assert (data["status"] == "ended") == (data["ending"] is not None)
    assert (data["scene"] is None) == (data["status"] == "ended")
    assert json.loads(json.dumps(data)) == data
    assert "." not in json.dumps(data["metrics"]) + json.dumps(data["stockpiles"])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**40), actions=st.lists(ACTIONS, max_size=14))
def test_any_action_sequence_keeps_the_state_sound(seed, actions):
    state = agents.new_game(THEME, seed)
    assert_sound(state.data)
    for action in actions:
        if state.ended:
            break
        before = copy.deepcopy(state.data)
        try:
            outcome = agents.resolve_turn(state, action)
        except ActionError as exc:
            assert exc.field and exc.message
            assert state.data == before
            continue
        assert state.data == before
        state = outcome.state
        assert_sound(state.data)
        assert outcome.record["state_hash"] == agents.state_hash(state.data)
