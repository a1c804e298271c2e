"""Every registered safe function is reachable: some built-in theme names it in
its content, or an agent's proposal for it is accepted during seeded play."""

from __future__ import annotations

from typing import Any

import agents
from agents import policies
from agents.functions import REGISTRY

SEEDS = (1, 2, 3)
POLICIES = ("random", "scripted")


def named_in_content(pack: dict[str, Any]) -> set[str]:
    """Functions a theme pack names in scene plans, enemy tactics or orders."""
    names = set(pack["functions"].get("player_orders", []))
    names |= {tactic["fn"] for tactic in pack["enemy"]["tactics"]}
    for scene in pack["scenes"]:
        for option in scene["options"]:
            names |= {step["fn"] for step in option["plan"]}
    return names


def accepted_in_play(theme: agents.Theme, policy: str, seed: int) -> set[str]:
    """Functions whose proposals the Judge accepted in one seeded game."""
    state = agents.new_game(theme, seed)
    used: set[str] = set()
    while not state.ended:
        action = policies.choose(policy, state, seed)
        outcome = agents.resolve_turn(state, action)
        used |= {
            p["function"]
            for p in outcome.record["proposals"]
            if p["verdict"] == "accepted"
        }
        state = outcome.state
    return used


def reachable() -> set[str]:
    names: set[str] = set()
    for pack in agents.builtin_theme_data().values():
        names |= named_in_content(pack)
        theme = agents.load_theme(pack)
        for policy in POLICIES:
            for seed in SEEDS:
                names |= accepted_in_play(theme, policy, seed)
    return names


def test_content_references_are_collected_from_plans_tactics_and_orders(raw):
    names = named_in_content(raw)
    assert raw["enemy"]["tactics"][0]["fn"] in names
    assert raw["scenes"][0]["options"][0]["plan"][0]["fn"] in names
    assert set(raw["functions"]["player_orders"]) <= names


def test_play_records_the_functions_agents_really_used(theme):
    used = accepted_in_play(theme, "random", 1)
    # The World's upkeep runs every turn, whatever the player chooses.
    assert "consume_food" in used
    assert used <= set(REGISTRY)


def test_every_registered_function_is_reachable_from_a_theme_or_an_agent():
    unreachable = sorted(set(REGISTRY) - reachable())
    assert unreachable == [], (
        f"{len(unreachable)} registered function(s) no built-in theme names and "
        f"no agent used in seeded play: {', '.join(unreachable)}"
    )
