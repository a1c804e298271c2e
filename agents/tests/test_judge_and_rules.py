"""The Judge's verdicts (one test per kind of reason) and the all-or-nothing rules."""

from __future__ import annotations

import copy
import dataclasses

import pytest

import agents
from agents import EngineError, events, judge
from agents.functions import REGISTRY
from agents.rng import Streams

TRIAL = {
    "id": "trial",
    "title": "Trial",
    "phases": ["relax"],
    "weight": 1,
    "text": ["A test of the Judge."],
    "options": [
        {
            "label": "Three repairs",
            "text": "Hammers everywhere.",
            "risk": "low",
            "hint": "Only two crews.",
            "plan": [
                {"fn": "repair_structure", "args": {"structure": "gate", "amount": 10}},
                {"fn": "repair_structure", "args": {"structure": "wall", "amount": 10}},
                {"fn": "repair_structure", "args": {"structure": "keep", "amount": 10}},
            ],
        },
        {
            "label": "Everything at once",
            "text": "Orders pile up.",
            "risk": "high",
            "hint": "Too much for one day.",
            "plan": [
                {"fn": "sortie", "args": {"npc": "ada", "troops": 20}},
                {"fn": "reinforce_structure", "args": {"structure": "keep"}},
                {"fn": "rebuild_structure", "args": {"structure": "tower"}},
            ],
        },
        {
            "label": "Mend the tower",
            "text": "Ladders to the tower.",
            "risk": "low",
            "hint": "If it still stands.",
            "plan": [
                {"fn": "repair_structure", "args": {"structure": "tower", "amount": 10}}
            ],
        },
    ],
}


@pytest.fixture
def trial_theme(raw):
    raw["scenes"].append(copy.deepcopy(TRIAL))
    return agents.load_theme(raw)


def on_trial(theme, state, change=None):
    data = copy.deepcopy(state.data)
    if change:
        change(data)
    data["scene"] = events.present(theme, data, "trial", Streams(data["seed"], 99))
    return agents.restore(theme, data)


def verdicts(outcome, agent="planner"):
    return [
        (p["function"], p["verdict"], p["reason"])
        for p in outcome.record["proposals"]
        if p["agent"] == agent
    ]


def test_every_proposal_gets_a_verdict_and_a_reason(trial_theme):
    state = on_trial(trial_theme, agents.new_game(trial_theme, 1))
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 0})
    for proposal in outcome.record["proposals"]:
        assert proposal["verdict"] in ("accepted", "rejected")
        assert proposal["reason"]
        assert (proposal["verdict"] == "accepted") == (proposal["reason"] == "ok")


def test_a_function_past_its_per_turn_limit_is_rejected(trial_theme):
    state = on_trial(trial_theme, agents.new_game(trial_theme, 1))
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 0})
    assert verdicts(outcome) == [
        ("repair_structure", "accepted", "ok"),
        ("repair_structure", "accepted", "ok"),
        (
            "repair_structure",
            "rejected",
            "per-turn limit: repair_structure may run 2 time(s) a turn",
        ),
    ]


def test_proposals_beyond_the_gas_budget_are_rejected(trial_theme):
    state = on_trial(trial_theme, agents.new_game(trial_theme, 1))
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 1})
    # The theme overrides sortie to 5 gas; reinforcing costs 3 of the 12.
    assert verdicts(outcome)[:2] == [
        ("sortie", "accepted", "ok"),
        ("reinforce_structure", "accepted", "ok"),
    ]
    assert verdicts(outcome)[2] == (
        "rebuild_structure",
        "rejected",
        "gas budget: needs 5, 4 left of 12 this turn",
    )


def test_a_function_on_cooldown_is_rejected_until_its_turn(trial_theme):
    state = on_trial(trial_theme, agents.new_game(trial_theme, 1))
    first = agents.resolve_turn(state, {"type": "choose", "option": 1})
    assert verdicts(first)[0] == ("sortie", "accepted", "ok")
    again = on_trial(trial_theme, first.state)
    second = agents.resolve_turn(again, {"type": "choose", "option": 1})
    # Sortie's cooldown is overridden to 3 turns: used on turn 1, back on 5.
    assert verdicts(second)[0] == (
        "sortie",
        "rejected",
        "cooldown: available again at turn 5",
    )


def test_a_failed_precondition_is_rejected_with_its_reason(trial_theme):
    def fell_tower(data):
        data["structures"]["tower"].update(integrity=0, status="collapsed")

    state = on_trial(trial_theme, agents.new_game(trial_theme, 1), fell_tower)
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 2})
    assert verdicts(outcome) == [
        (
            "repair_structure",
            "rejected",
            "precondition: Watch Tower has collapsed; it must be rebuilt",
        )
    ]


def test_a_dead_npc_cannot_lead(trial_theme):
    def kill_ada(data):
        data["npcs"]["ada"].update(health=0, status="dead")

    state = on_trial(trial_theme, agents.new_game(trial_theme, 1), kill_ada)
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 1})
    assert verdicts(outcome)[0] == (
        "sortie",
        "rejected",
        "precondition: Ada Thorn is dead",
    )


def test_a_function_the_theme_disables_is_not_allowed(raw):
    raw["functions"]["disabled"].append("rest_npc")
    raw["functions"]["player_orders"].remove("rest_npc")
    quiet_night = next(s for s in raw["scenes"] if s["id"] == "quiet_night")
    quiet_night["options"][0]["plan"] = [
        {"fn": "encourage_npc", "args": {"npc": "ada", "amount": 5}}
    ]
    theme = agents.load_theme(raw)
    state = agents.new_game(theme, 1)

    def exhaust(data):
        data["npcs"]["cora"]["fatigue"] = 95

    data = copy.deepcopy(state.data)
    exhaust(data)
    outcome = agents.resolve_turn(
        agents.restore(theme, data), {"type": "choose", "option": 0}
    )
    assert (
        "rest_npc",
        "rejected",
        "not allowed: rest_npc is disabled in this theme",
    ) in (verdicts(outcome, "npc:cora"))


def test_unknown_functions_bad_args_and_misused_upkeep_are_rejected(theme):
    data = agents.new_game(theme, 1).data
    ledger = judge.Ledger()

    def rule(function, args, group="player"):
        proposal = {"agent": "t", "group": group, "function": function, "args": args}
        return judge.rule(data, theme, proposal, ledger, 1)

    assert rule("summon_dragon", {}) == "unknown function: summon_dragon"
    assert rule("repair_structure", {"structure": "gate"}) == (
        "bad args: args.amount: repair_structure needs amount"
    )
    assert rule("repair_structure", {"structure": "gate", "amount": 4}) == (
        "bad args: args.amount: amount must be between 5 and 40"
    )
    assert rule("rest_npc", {"npc": "zed"}) == 'bad args: args.npc: unknown npc "zed"'
    assert rule("consume_food", {}) == "not allowed: consume_food is world upkeep"
    assert rule("wait", {}, group="upkeep") == "not allowed: wait is not upkeep"
    assert rule("wait", {}) == "ok"
    assert data == agents.new_game(theme, 1).data


def test_a_failing_effect_discards_the_whole_turn(theme, monkeypatch):
    state = agents.new_game(theme, 9)
    before = copy.deepcopy(state.data)

    def boom(ctx, args):
        ctx.data["metrics"]["morale"] = -999
        raise RuntimeError("the cauldron cracked")

    # Upkeep runs after the player's and the world's calls have been applied,
    # so a failure here proves that earlier changes are thrown away too.
    broken = dataclasses.replace(REGISTRY["morale_drift"], effect=boom)
    monkeypatch.setitem(REGISTRY, "morale_drift", broken)
    with pytest.raises(EngineError, match="morale_drift"):
        agents.resolve_turn(state, {"type": "choose", "option": 0})
    assert state.data == before
    monkeypatch.undo()
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 0})
    assert outcome.state.data["metrics"]["morale"] >= 0


def test_two_calls_cannot_both_spend_the_last_stock(trial_theme):
    def scarce(data):
        data["stockpiles"]["timber"] = 6

    state = on_trial(trial_theme, agents.new_game(trial_theme, 1), scarce)
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 0})
    assert verdicts(outcome)[:2] == [
        ("repair_structure", "accepted", "ok"),
        (
            "repair_structure",
            "rejected",
            "precondition: not enough Timber: needs 5, has 1",
        ),
    ]
    assert outcome.state.data["stockpiles"]["timber"] == 1
