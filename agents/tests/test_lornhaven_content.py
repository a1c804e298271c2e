"""The built-in Lornhaven pack: it loads, has enough content, and its endings happen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import agents
from agents import policies

PACK = Path(agents.__file__).parent / "themes" / "lornhaven.json"

ENDINGS = {
    "keep_falls": "defeat",
    "breach": "defeat",
    "garrison_lost": "defeat",
    "starvation": "defeat",
    "mutiny": "defeat",
    "host_breaks": "victory",
    "triumphant_relief": "victory",
    "bitter_relief": "victory",
    "winter_withdrawal": "victory",
    "terms": "defeat",
}
FATES = ("alive", "dead", "deserted", "captured")
# The search grid: cheap policies over many seeds, then the lookahead ones over
# a few seeds for any ending still missing.
SEEDS = range(120)
LOOKAHEAD_SEEDS = 12


def _raw() -> dict:
    return json.loads(PACK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def theme():
    return agents.load_theme(_raw())


def _fixed(index):
    return lambda state, seed: {"type": "choose", "option": index}


def _by_risk(highest):
    ranks = {"low": 0, "medium": 1, "high": 2}

    def pick(state, seed):
        options = state.data["scene"]["options"]
        if highest:
            best = max(range(3), key=lambda i: (ranks[options[i]["risk"]], -i))
        else:
            best = min(range(3), key=lambda i: (ranks[options[i]["risk"]], i))
        return {"type": "choose", "option": best}

    return pick


def _harshest(state, seed):
    # The commander who always takes the option hardest on the garrison's spirit.
    scene = next(
        s for s in state.theme.data["scenes"] if s["id"] == state.data["scene"]["id"]
    )

    def morale_change(option):
        return sum(
            call["args"].get("amount", 0)
            for call in option["plan"]
            if call["fn"] == "adjust_morale"
        )

    best = min(range(3), key=lambda i: (morale_change(scene["options"][i]), i))
    return {"type": "choose", "option": best}


def _builtin(name):
    return lambda state, seed: policies.choose(name, state)


POLICIES = {
    "first": _fixed(0),
    "second": _fixed(1),
    "third": _fixed(2),
    "riskiest": _by_risk(highest=True),
    "safest": _by_risk(highest=False),
    "harshest": _harshest,
    "random": _builtin("random"),
    "cautious": _builtin("cautious"),
}
LOOKAHEAD = {"greedy": _builtin("greedy"), "scripted": _builtin("scripted")}


def _play(theme, seed, policy):
    choose = POLICIES.get(policy) or LOOKAHEAD[policy]
    state = agents.new_game(theme, seed)
    while state.data["status"] == "active":
        state = agents.resolve_turn(state, choose(state, seed)).state
    return state


@pytest.fixture(scope="module")
def witnesses(theme):
    """First (policy, seed) found for each ending, searching a bounded grid."""
    found: dict[str, tuple[str, int, str]] = {}
    grids = [(SEEDS, list(POLICIES)), (range(LOOKAHEAD_SEEDS), list(LOOKAHEAD))]
    for seeds, names in grids:
        for seed in seeds:
            if set(ENDINGS) <= set(found):
                return found
            for policy in names:
                ending = _play(theme, seed, policy).data["ending"]
                found.setdefault(ending["id"], (policy, seed, ending["kind"]))
    return found


def test_pack_loads_through_the_public_loader(theme):
    assert theme.slug == "lornhaven"
    assert theme.title == "The Siege of Lornhaven"
    assert theme.data["version"] == "1.1.0"
    assert 12 <= theme.data["turn_limit"] <= 20


def test_pack_has_enough_places_and_people(theme):
    assert len(theme.data["structures"]) >= 6
    assert theme.data["roles"]["keep"] in theme.data["structures"]
    assert len(theme.data["npcs"]) >= 5
    for npc in theme.data["npcs"].values():
        assert npc["want"] and npc["fear"]
        assert len(npc["lines"]["steady"]) >= 2


def test_every_npc_has_an_epilogue_line_for_every_fate(theme):
    for nid, npc in theme.data["npcs"].items():
        for fate in FATES:
            assert npc["fates"].get(fate), f"{nid} has no {fate} fate"
        lines = [npc["fates"][fate] for fate in FATES]
        assert len(set(lines)) == len(lines), nid


def test_every_scene_offers_three_distinct_options(theme):
    scenes = theme.data["scenes"]
    assert len(scenes) >= 40
    for scene in scenes:
        options = scene["options"]
        assert len(options) == 3, scene["id"]
        assert len({o["label"] for o in options}) == 3, scene["id"]
        plans = {agents.canonical_json(o["plan"]) for o in options}
        assert len(plans) == 3, scene["id"]


def test_scenes_have_text_variants_and_no_paragraph_is_written_twice(theme):
    seen: dict[str, str] = {}
    for scene in theme.data["scenes"]:
        assert len(scene["text"]) >= 2, scene["id"]
        for variant in scene["text"]:
            for paragraph in variant.split("\n\n"):
                assert paragraph not in seen, (scene["id"], seen.get(paragraph))
                seen[paragraph] = scene["id"]


def test_relax_phase_has_character_scenes(theme):
    relax = [
        s
        for s in theme.data["scenes"]
        if "relax" in s["phases"] and "character" in s.get("tags", [])
    ]
    assert len(relax) >= 10


def test_a_rider_abroad_is_not_asked_to_act_at_home(theme):
    # Scenes that put Wenna or Tamsin to work wait until her ride is over.
    for scene in theme.data["scenes"]:
        if scene["id"] in ("a_rider_for_the_duke",) or scene["id"].endswith("_chains"):
            continue
        plans = agents.canonical_json([o["plan"] for o in scene["options"]])
        requires = agents.canonical_json(scene.get("requires", []))
        for rider in ("wenna", "tamsin"):
            if f'"npc":"{rider}"' in plans:
                assert (
                    f"timers.{rider}_ride" in requires
                    or f"flags.{rider}_ride_done" in requires
                ), (scene["id"], rider)


def test_sending_wenna_keeps_her_scene_away_until_she_is_back(theme):
    rider = agents.new_game(theme, 1)
    # Play until the rider scene comes up, then send Wenna.
    for _ in range(16):
        if rider.data["status"] != "active":
            break
        if rider.data["scene"]["id"] == "a_rider_for_the_duke":
            rider = agents.resolve_turn(rider, {"type": "choose", "option": 1}).state
            break
        rider = agents.resolve_turn(rider, {"type": "choose", "option": 0}).state
    else:
        pytest.fail("the rider scene did not come up for this seed")
    assert rider.data["timers"].get("wenna_ride")
    while rider.data["status"] == "active" and rider.data["timers"].get("wenna_ride"):
        assert rider.data["scene"]["id"] != "wenna_wants_the_engineer"
        rider = agents.resolve_turn(rider, {"type": "choose", "option": 0}).state


def test_a_broken_copy_of_the_pack_is_refused():
    raw = _raw()
    raw["scenes"][0]["options"][0]["plan"][0] = {
        "fn": "repair_structure",
        "args": {"structure": "no_such_wall", "amount": 10},
    }
    with pytest.raises(agents.ThemeError) as caught:
        agents.load_theme(raw)
    paths = [e["path"] for e in caught.value.errors]
    assert "scenes[0].options[0].plan[0].args.structure" in paths


def test_the_pack_lists_exactly_the_endings_checked_here(theme):
    assert {e["id"]: e["kind"] for e in theme.data["endings"]} == ENDINGS


@pytest.mark.parametrize("ending_id", sorted(ENDINGS))
def test_ending_is_reached_by_some_seeded_game(theme, witnesses, ending_id):
    assert ending_id in witnesses, f"no game in the search reached {ending_id}"
    policy, seed, kind = witnesses[ending_id]
    assert kind == ENDINGS[ending_id]

    # The witness replays to the same ending, so the search found a real path.
    replayed = _play(theme, seed, policy)
    assert replayed.data["ending"]["id"] == ending_id
