"""The packs shipped in agents/themes/ load, and seeded random games on them end."""

from __future__ import annotations

import pytest

import agents
from agents.rng import Stream

PACKS = agents.builtin_theme_data()


def test_lornhaven_ships_and_validates():
    assert "lornhaven" in PACKS
    theme = agents.load_theme(PACKS["lornhaven"])
    assert theme.slug == "lornhaven"
    assert len(theme.scenes) >= 20


@pytest.mark.parametrize("slug", sorted(PACKS))
def test_every_builtin_pack_validates(slug):
    agents.load_theme(PACKS[slug])


@pytest.mark.parametrize("slug", sorted(PACKS))
def test_many_seeded_random_games_all_end_by_the_turn_limit(slug):
    theme = agents.load_theme(PACKS[slug])
    limit = theme.data["turn_limit"]
    endings = set()
    for seed in range(60):
        state = agents.new_game(theme, seed)
        roll = Stream(seed, 0, "policy")
        while not state.ended:
            option = roll.below(3)
            state = agents.resolve_turn(
                state, {"type": "choose", "option": option}
            ).state
            assert state.data["turn"] <= limit
        endings.add(state.data["ending"]["id"])
        assert agents.view(state)["ending"]["epilogue"]
    # Random play should not funnel every game into one ending.
    assert len(endings) >= 2


@pytest.mark.parametrize("slug", sorted(PACKS))
def test_a_builtin_game_replays_to_the_same_hashes(slug):
    theme = agents.load_theme(PACKS[slug])
    state = agents.new_game(theme, 2024)
    actions, chains = [], []
    roll = Stream(2024, 0, "policy")
    while not state.ended:
        action = {"type": "choose", "option": roll.below(3)}
        outcome = agents.resolve_turn(state, action)
        actions.append(action)
        chains.append(outcome.record["chain_hash"])
        state = outcome.state
    assert [h["chain_hash"] for h in agents.replay(theme, 2024, actions)] == chains


def test_every_builtin_theme_words_each_of_its_player_orders():
    for slug, raw in sorted(agents.builtin_theme_data().items()):
        theme = agents.load_theme(raw)
        wording = raw["functions"].get("order_text", {})
        missing = [name for name in theme.player_orders if name not in wording]
        assert not missing, f"{slug} has orders without a label: {missing}"
        view = agents.view(agents.new_game(theme, 1))
        labels = {order["function"]: order["label"] for order in view["orders"]}
        assert labels == {name: wording[name]["label"] for name in theme.player_orders}


def test_order_wording_for_a_function_that_is_not_an_order_is_refused(raw):
    raw["functions"]["order_text"] = {"sortie": {"label": "Ride out"}}
    with pytest.raises(agents.ThemeError) as refused:
        agents.load_theme(raw)
    paths = [problem["path"] for problem in refused.value.errors]
    assert "functions.order_text.sortie" in paths


def _reads_history(cond) -> bool:
    """Whether a condition looks at something the player did or let happen."""
    if isinstance(cond, list):
        return any(_reads_history(c) for c in cond)
    if "any" in cond:
        return _reads_history(cond["any"])
    if "not" in cond:
        return _reads_history(cond["not"])
    ref = cond["ref"]
    return ref.startswith(("flags.", "timers.", "seen.", "npcs.", "count.npcs_"))


@pytest.mark.parametrize("slug", sorted(PACKS))
def test_a_third_of_scenes_depend_on_earlier_choices(slug):
    scenes = PACKS[slug]["scenes"]
    dependent = [s["id"] for s in scenes if _reads_history(s.get("requires", []))]
    assert len(dependent) * 3 >= len(scenes), slug
