"""Property tests over states reached by real play: an accepted call keeps every
invariant, a refused one changes nothing, and random play always ends in time."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agents
from agents import ActionError, judge, policies
from agents.functions import REGISTRY, Ctx
from agents.functions.helpers import PRESENT, structure_status
from agents.rng import Streams

SLUGS = sorted(agents.builtin_theme_data())
GROUPS = ("player", "characters", "events", "world")
STATUSES = ("active", "wounded", "dead", "deserted", "captured")
GONE_FOR_GOOD = ("dead", "deserted")
BOUNDED = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def theme_of(slug: str) -> agents.Theme:
    return agents.load_theme(agents.builtin_theme_data()[slug])


def played_to(slug: str, seed: int, turns: int) -> agents.State:
    """A state reached by playing the theme with the random policy."""
    state = agents.new_game(theme_of(slug), seed)
    for _ in range(turns):
        if state.ended:
            break
        state = agents.resolve_turn(state, policies.choose("random", state, seed)).state
    return state


def arg_values(theme: agents.Theme, arg: Any) -> st.SearchStrategy[Any]:
    """Mostly valid values, with the edges just outside and a few wrong types."""
    if arg.type == "int":
        return st.one_of(st.integers(arg.min - 2, arg.max + 2), st.just("7"))
    if arg.type == "str":
        return st.sampled_from([*arg.choices, "nonsense"])
    if arg.type == "flag":
        return st.sampled_from(["relief_called", "bell", "Bad Flag", ""])
    table = {
        "npc": theme.data["npcs"],
        "structure": theme.data["structures"],
        "stockpile": theme.data["stockpiles"],
        "metric": theme.data["metrics"],
    }[arg.type]
    return st.sampled_from([*sorted(table), "nowhere"])


def call_for(theme: agents.Theme) -> st.SearchStrategy[dict[str, Any]]:
    def build(name: str) -> st.SearchStrategy[dict[str, Any]]:
        fn = REGISTRY[name]
        groups = ("upkeep",) if fn.category == "upkeep" else GROUPS
        args = st.fixed_dictionaries({a.name: arg_values(theme, a) for a in fn.args})
        return st.builds(
            lambda group, a: {
                "agent": "property",
                "group": group,
                "function": name,
                "args": a,
            },
            st.sampled_from(groups),
            args,
        )

    return st.sampled_from(sorted(REGISTRY)).flatmap(build)


def only_ints(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_ints(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_ints(v) for v in value)
    return not isinstance(value, float)


def assert_sound(theme: agents.Theme, data: dict[str, Any]) -> None:
    spec = theme.data
    for mid, value in data["metrics"].items():
        assert type(value) is int
        assert spec["metrics"][mid]["min"] <= value <= spec["metrics"][mid]["max"]
    for sid, value in data["stockpiles"].items():
        assert type(value) is int
        assert 0 <= value <= spec["stockpiles"][sid]["max"], sid
    for sid, live in data["structures"].items():
        assert 0 <= live["integrity"] <= live["max"] <= 150, sid
        assert live["status"] == structure_status(live["integrity"], live["max"])
        assert 0 <= live["fire"] <= 5
        if live["status"] == "collapsed":
            assert live["fire"] == 0
    for nid, npc in data["npcs"].items():
        for field in ("health", "loyalty", "fatigue"):
            assert 0 <= npc[field] <= 100, (nid, field)
        assert npc["status"] in STATUSES
        if npc["status"] in PRESENT:
            assert npc["health"] > 0, nid
        assert npc["away"] >= 0
    enemy = data["enemy"]
    assert enemy["strength"] >= 0 and enemy["engines"] >= 0
    assert 0 <= enemy["morale"] <= 100
    assert 0 <= data["director"]["tension"] <= 100
    assert 0 <= data["world"]["disease"] <= 100
    assert all(0 <= v <= 99 for v in data["flags"].values())
    assert data["turn"] <= data["turn_limit"]
    assert only_ints(data)
    assert json.loads(agents.canonical_json(data)) == data


@st.composite
def reached_and_call(draw: st.DrawFn) -> tuple[str, int, agents.State, dict]:
    slug = draw(st.sampled_from(SLUGS))
    theme = theme_of(slug)
    seed = draw(st.integers(0, 2**32))
    state = played_to(slug, seed, draw(st.integers(0, theme.data["turn_limit"])))
    return slug, seed, state, draw(call_for(theme))


@BOUNDED
@given(case=reached_and_call())
def test_an_accepted_call_keeps_every_invariant_and_a_refused_one_changes_nothing(
    case,
):
    slug, seed, state, proposal = case
    theme = theme_of(slug)
    data = copy.deepcopy(state.data)
    before = copy.deepcopy(data)
    turn = data["turn"] + 1
    reason = judge.rule(data, theme, proposal, judge.Ledger(), turn)
    assert data == before
    assert reason
    if reason != judge.OK:
        return
    ctx = Ctx(data, theme, Streams(seed, turn))
    REGISTRY[proposal["function"]].effect(ctx, proposal["args"])
    assert_sound(theme, data)
    for nid, npc in before["npcs"].items():
        if npc["status"] in GONE_FOR_GOOD:
            assert data["npcs"][nid]["status"] == npc["status"], nid
    assert all(isinstance(note["key"], str) for note in ctx.notes)


def action_for(theme: agents.Theme) -> st.SearchStrategy[dict[str, Any]]:
    orders = theme.player_orders

    def order(name: str) -> st.SearchStrategy[dict[str, Any]]:
        fn = REGISTRY[name]
        args = st.fixed_dictionaries({a.name: arg_values(theme, a) for a in fn.args})
        return args.map(lambda a: {"type": "order", "function": name, "args": a})

    choices = st.integers(-1, 3).map(lambda i: {"type": "choose", "option": i})
    if not orders:
        return choices
    return st.one_of(choices, st.sampled_from(orders).flatmap(order))


@st.composite
def game_plan(draw: st.DrawFn) -> tuple[str, int, list[dict[str, Any]]]:
    slug = draw(st.sampled_from(SLUGS))
    actions = draw(st.lists(action_for(theme_of(slug)), max_size=50))
    return slug, draw(st.integers(0, 2**32)), actions


@settings(BOUNDED, max_examples=25)
@given(plan=game_plan())
def test_random_play_from_a_new_game_never_crashes_and_ends_by_the_turn_limit(plan):
    slug, seed, actions = plan
    theme = theme_of(slug)
    state = agents.new_game(theme, seed)
    limit = theme.data["turn_limit"]
    # The drawn actions first, then the first option until the game is over.
    steps = iter([*actions, *[{"type": "choose", "option": 0}] * (limit + 1)])
    while not state.ended:
        action = next(steps)
        before = copy.deepcopy(state.data)
        try:
            outcome = agents.resolve_turn(state, action)
        except ActionError as exc:
            assert exc.field and exc.message
            assert state.data == before
            continue
        state = outcome.state
        assert_sound(theme, state.data)
    assert state.data["turn"] <= limit
    assert state.data["ending"] is not None
