"""The built-in policies: valid actions, reproducible play, and sensible choices."""

from __future__ import annotations

import pytest

import agents
from agents import policies
from agents.rng import Stream

from .conftest import with_state


def play_out(theme: agents.Theme, policy: str, seed: int) -> list[dict]:
    state = agents.new_game(theme, seed)
    actions = []
    while not state.ended:
        action = policies.choose(policy, state)
        agents.check_action(state, action)
        actions.append(action)
        state = agents.resolve_turn(state, action).state
    return actions


@pytest.mark.parametrize("policy", policies.POLICIES)
def test_every_policy_plays_a_game_to_its_end_with_valid_actions(theme, policy):
    for seed in (1, 2, 3):
        actions = play_out(theme, policy, seed)
        assert 1 <= len(actions) <= theme.data["turn_limit"]


@pytest.mark.parametrize("policy", policies.POLICIES)
def test_same_seed_gives_the_same_choices(theme, policy):
    assert play_out(theme, policy, 17) == play_out(theme, policy, 17)


def test_random_policy_depends_on_the_seed(theme):
    games = {tuple(a["option"] for a in play_out(theme, "random", s)) for s in range(6)}
    assert len(games) > 1


def test_random_policy_uses_every_option_over_many_turns(theme):
    state = agents.new_game(theme, 5)
    picks = {
        policies.choose("random", state, Stream(seed, 0, "policy"))["option"]
        for seed in range(60)
    }
    assert picks == {0, 1, 2}


def test_unknown_policy_is_refused(theme):
    with pytest.raises(ValueError, match="unknown policy"):
        policies.choose("lucky", agents.new_game(theme, 1))


def test_policy_on_an_ended_game_is_refused(theme):
    state = agents.new_game(theme, 1)
    ended = with_state(state, lambda d: d.update(status="ended", scene=None))
    with pytest.raises(agents.ActionError):
        policies.choose("greedy", ended)


def morale_theme(raw) -> agents.Theme:
    """Every scene offers: lose morale, gain morale, or wait."""
    raw["metrics"]["morale"]["start"] = 40
    for scene in raw["scenes"]:
        scene["requires"] = []
        scene["options"][0]["plan"] = [{"fn": "adjust_morale", "args": {"amount": -15}}]
        scene["options"][1]["plan"] = [{"fn": "adjust_morale", "args": {"amount": 10}}]
        scene["options"][2]["plan"] = [{"fn": "wait"}]
    return agents.load_theme(raw)


def test_greedy_picks_the_option_that_raises_morale(raw):
    theme = morale_theme(raw)
    state = agents.new_game(theme, 8)
    action = policies.choose("greedy", state)
    assert action == {"type": "choose", "option": 1}

    better = agents.resolve_turn(state, action).state
    worse = agents.resolve_turn(state, {"type": "choose", "option": 0}).state
    assert policies.score(better) > policies.score(worse)


def test_score_rewards_standing_walls_and_punishes_defeat(theme):
    state = agents.new_game(theme, 3)
    battered = with_state(
        state, lambda d: d["structures"]["gate"].update(integrity=10, status="damaged")
    )
    lost = with_state(
        state,
        lambda d: d.update(status="ended", ending={"id": "x", "kind": "defeat"}),
    )
    won = with_state(
        state,
        lambda d: d.update(status="ended", ending={"id": "y", "kind": "victory"}),
    )
    assert policies.score(battered) < policies.score(state)
    assert policies.score(lost) < policies.score(battered)
    assert policies.score(won) > policies.score(state)


def test_cautious_takes_the_lowest_risk_then_the_cheapest(theme):
    state = agents.new_game(theme, 2)

    def options(data):
        data["scene"]["options"][0].update(risk="high", costs=[])
        data["scene"]["options"][1].update(
            risk="low", costs=[{"id": "timber", "name": "Timber", "amount": 20}]
        )
        data["scene"]["options"][2].update(
            risk="low", costs=[{"id": "timber", "name": "Timber", "amount": 5}]
        )

    assert policies.choose("cautious", with_state(state, options))["option"] == 2


def dull_theme(raw) -> agents.Theme:
    """Every scene offers only losses of morale, so a useful order beats them."""
    for scene in raw["scenes"]:
        for index, option in enumerate(scene["options"]):
            amount = -5 * (index + 1)
            option["plan"] = [{"fn": "adjust_morale", "args": {"amount": amount}}]
    return agents.load_theme(raw)


def test_scripted_repairs_a_low_structure_with_an_order(raw):
    theme = dull_theme(raw)
    state = agents.new_game(theme, 4)
    low = with_state(
        state, lambda d: d["structures"]["wall"].update(integrity=20, status="damaged")
    )
    action = policies.choose("scripted", low)
    assert action["type"] == "order"
    assert action["function"] == "repair_structure"
    assert action["args"]["structure"] == "wall"
    agents.check_action(low, action)


def test_scripted_heals_a_hurt_npc(raw):
    theme = dull_theme(raw)
    state = agents.new_game(theme, 4)
    hurt = with_state(
        state, lambda d: d["npcs"]["cora"].update(health=30, status="wounded")
    )
    action = policies.choose("scripted", hurt)
    assert action == {"type": "order", "function": "heal_npc", "args": {"npc": "cora"}}


def test_scripted_plays_an_option_when_it_beats_the_order(raw):
    theme = morale_theme(raw)
    state = agents.new_game(theme, 4)
    tired = with_state(state, lambda d: d["npcs"]["cora"].update(fatigue=80))
    assert policies.choose("scripted", tired) == {"type": "choose", "option": 1}


def test_scripted_never_gives_two_orders_in_a_row(raw):
    theme = dull_theme(raw)
    state = agents.new_game(theme, 4)
    low = with_state(
        state, lambda d: d["structures"]["wall"].update(integrity=20, status="damaged")
    )
    after = agents.resolve_turn(low, policies.choose("scripted", low)).state
    lower = with_state(
        after, lambda d: d["structures"]["tower"].update(integrity=5, status="damaged")
    )
    assert policies.choose("scripted", lower)["type"] == "choose"


def test_scripted_uses_only_the_themes_player_orders(raw):
    raw["functions"]["player_orders"] = ["rest_npc"]
    theme = agents.load_theme(raw)
    state = agents.new_game(theme, 4)
    low = with_state(
        state, lambda d: d["structures"]["wall"].update(integrity=20, status="damaged")
    )
    assert policies.choose("scripted", low)["type"] == "choose"


@pytest.mark.parametrize("policy", policies.POLICIES)
def test_decide_hands_back_the_outcome_resolve_turn_would_give(theme, policy):
    state = agents.new_game(theme, 12)
    for _ in range(5):
        action, outcome = policies.decide(policy, state)
        fresh = agents.resolve_turn(state, action)
        if outcome is not None:
            assert outcome.state.hash == fresh.state.hash
            assert outcome.record["chain_hash"] == fresh.record["chain_hash"]
        state = fresh.state


def test_score_values_a_flag_a_victory_needs(raw):
    raw["endings"].append(
        {
            "id": "relieved",
            "title": "Relieved",
            "kind": "victory",
            "when": "final",
            "priority": 1,
            "conditions": [{"ref": "flags.relief_called", "op": ">=", "value": 1}],
            "text": "The relief arrives.",
            "epilogue": "It ends well.",
        }
    )
    theme = agents.load_theme(raw)
    state = agents.new_game(theme, 2)
    called = with_state(state, lambda d: d["flags"].update(relief_called=1))
    assert policies.score(called) == policies.score(state) + policies.GOAL_FLAG


def test_score_weighs_a_stock_that_a_defeat_watches_more(raw):
    theme = agents.load_theme(raw)
    watched = [
        c["ref"].split(".")[1]
        for e in raw["endings"]
        if e["kind"] == "defeat"
        for c in e["conditions"]
        if isinstance(c, dict) and c.get("ref", "").startswith("stockpiles.")
    ]
    raw["endings"].append(
        {
            "id": "starved",
            "title": "Starved",
            "kind": "defeat",
            "when": "immediate",
            "priority": 1,
            "conditions": [{"ref": "stockpiles.grain", "op": "==", "value": 0}],
            "text": "Hunger.",
            "epilogue": "It ends badly.",
        }
    )
    hungry_theme = agents.load_theme(raw)
    assert "grain" not in watched

    def drop(data):
        data["stockpiles"]["grain"] -= raw["stockpiles"]["grain"]["max"] // 10

    plain = agents.new_game(theme, 2)
    vital = agents.new_game(hungry_theme, 2)
    plain_loss = policies.score(plain) - policies.score(with_state(plain, drop))
    vital_loss = policies.score(vital) - policies.score(with_state(vital, drop))
    assert vital_loss > plain_loss > 0
