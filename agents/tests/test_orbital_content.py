"""The built-in orbital pack: it loads, keeps to its own world, its endings happen."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import agents
from agents import policies

PACK = Path(agents.__file__).parent / "themes" / "orbital.json"

# Words that belong to the fantasy siege and must never reach the station.
FANTASY_WORDS = (
    "wall",
    "arrow",
    "grain",
    "pitch",
    "keep",
    "sword",
    "bell",
    "priest",
    "spear",
    "castle",
    "knight",
    "duke",
    "margrave",
    "lornhaven",
    "chapel",
    "tithe",
    "trebuchet",
    "catapult",
    "moat",
    "horse",
    "rider",
    "banner",
    "herb",
    "timber",
    "silver",
    "feast",
    "archer",
    "parapet",
    "rampart",
    "portcullis",
    "drawbridge",
    "torch",
    "gate",
    "cauldron",
    "squire",
)
FANTASY = re.compile(r"\b(" + "|".join(FANTASY_WORDS) + r")(e?s)?\b", re.IGNORECASE)

# Parts of the pack that hold ids and engine vocabulary rather than prose:
# function names, their arguments, conditions, duties and traits.
NOT_PROSE = {"functions", "plan", "requires", "conditions", "start", "traits", "args"}
NOT_PROSE_STRINGS = {"fn"}

SEEDS = range(1, 41)
SEARCH_POLICIES = ("random", "first", "second", "third", "cautious")


def _raw() -> dict:
    return json.loads(PACK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def theme():
    return agents.load_theme(_raw())


def _prose(node, path="pack"):
    """Every player-facing string in the pack, with where it was found."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in NOT_PROSE or (
                key in NOT_PROSE_STRINGS and isinstance(value, str)
            ):
                continue
            yield from _prose(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _prose(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def _choose(policy, state, seed):
    if policy in ("first", "second", "third"):
        return {"type": "choose", "option": ("first", "second", "third").index(policy)}
    return policies.choose(policy, state)


def _play(theme, seed, policy):
    state = agents.new_game(theme, seed)
    while state.data["status"] == "active":
        state = agents.resolve_turn(state, _choose(policy, state, seed)).state
    return state


@pytest.fixture(scope="module")
def witnesses(theme):
    """First (policy, seed) found for each ending, over a bounded grid."""
    found: dict[str, tuple[str, int, str]] = {}
    for seed in SEEDS:
        for policy in SEARCH_POLICIES:
            ending = _play(theme, seed, policy).data["ending"]
            found.setdefault(ending["id"], (policy, seed, ending["kind"]))
        kinds = {kind for _, _, kind in found.values()}
        if len(found) >= 6 and kinds == {"victory", "defeat"}:
            break
    return found


def test_pack_loads_through_the_public_loader(theme):
    assert theme.slug == "orbital"
    assert theme.data["roles"]["keep"] == "command_core"
    assert theme.data["roles"]["garrison"] == "crew"
    assert theme.data["roles"]["ammo"] == "slugs"


def test_pack_has_its_own_structures_and_crew(theme):
    structures = theme.data["structures"]
    assert len(structures) >= 8
    assert {"command_core", "docking_ring", "reactor", "shield_array"} <= set(
        structures
    )
    npcs = theme.data["npcs"]
    assert 5 <= len(npcs) <= 6
    for nid, npc in npcs.items():
        assert npc["want"] and npc["fear"] and npc["traits"], nid
        for mood in ("steady", "strained", "doubtful", "hurt"):
            assert len(npc["lines"][mood]) >= 3, (nid, mood)


def test_every_npc_has_an_epilogue_for_each_fate(theme):
    for nid, npc in theme.data["npcs"].items():
        for fate in ("alive", "dead", "deserted", "captured"):
            assert npc["fates"].get(fate), (nid, fate)


def test_every_scene_offers_three_distinct_options(theme):
    scenes = theme.data["scenes"]
    assert len(scenes) >= 30
    for scene in scenes:
        options = scene["options"]
        assert len(options) == 3, scene["id"]
        assert len({o["label"] for o in options}) == 3, scene["id"]
        plans = {agents.canonical_json(o["plan"]) for o in options}
        assert len(plans) == 3, scene["id"]
        assert all(o["hint"] and o["risk"] for o in options), scene["id"]


def test_every_phase_has_scenes(theme):
    phases = {phase for scene in theme.data["scenes"] for phase in scene["phases"]}
    assert phases == {"buildup", "peak", "relax"}


def test_endings_cover_defeats_victories_and_a_fallback(theme):
    endings = theme.data["endings"]
    assert len(endings) >= 5
    kinds = {(e["kind"], e["when"]) for e in endings}
    assert ("defeat", "immediate") in kinds
    assert ("victory", "immediate") in kinds
    assert ("victory", "final") in kinds
    fallbacks = [e for e in endings if e["when"] == "final" and not e["conditions"]]
    assert len(fallbacks) == 1
    for ending in endings:
        assert ending["text"] and ending["epilogue"], ending["id"]


def test_functions_that_do_not_fit_a_station_are_disabled(theme):
    disabled = set(theme.data["functions"]["disabled"])
    assert {"forage", "hold_feast"} <= disabled
    state = agents.new_game(theme, 3)
    with pytest.raises(agents.ActionError):
        agents.check_action(
            state, {"type": "gm_event", "function": "forage", "args": {"troops": 10}}
        )


def test_no_fantasy_word_reaches_the_station(theme):
    leaks = [
        f"{path}: {match.group(0)!r}"
        for path, text in _prose(_raw())
        for match in FANTASY.finditer(text)
    ]
    assert leaks == []


def test_the_fantasy_word_check_catches_a_planted_leak():
    raw = _raw()
    raw["scenes"][0]["text"][0] += " Archers line the walls."
    leaks = [text for _, text in _prose(raw) if FANTASY.search(text)]
    assert len(leaks) == 1


def test_a_captured_crew_member_is_out_of_play_until_freed(theme):
    state = agents.new_game(theme, 5)
    action = {"type": "gm_event", "function": "capture_npc", "args": {"npc": "lio"}}
    state = agents.resolve_turn(state, action).state
    assert state.data["npcs"]["lio"]["status"] == "captured"
    assert state.data["flags"]["captured_lio"] == 1
    scene_ids = [s["id"] for s in theme.data["scenes"]]
    assert "a_pilot_in_their_brig" in scene_ids


def test_a_broken_copy_of_the_pack_is_refused():
    raw = _raw()
    raw["scenes"][0]["options"][0]["plan"][0] = {
        "fn": "scout_enemy",
        "args": {"npc": "nobody_aboard"},
    }
    with pytest.raises(agents.ThemeError) as caught:
        agents.load_theme(raw)
    paths = [e["path"] for e in caught.value.errors]
    assert "scenes[0].options[0].plan[0].args.npc" in paths


def test_seeded_play_reaches_varied_endings(witnesses):
    kinds = {kind for _, _, kind in witnesses.values()}
    assert len(witnesses) >= 4, witnesses
    assert kinds == {"victory", "defeat"}, witnesses


def test_every_witness_replays_to_the_same_ending(theme, witnesses):
    for ending_id, (policy, seed, _) in witnesses.items():
        assert _play(theme, seed, policy).data["ending"]["id"] == ending_id
