"""The built-in plague pack: it loads, has enough content, keeps its own world and
its endings happen under plain play."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import agents
from agents.functions import REGISTRY

PACK = Path(agents.__file__).parent / "themes" / "plague.json"

# Words that belong to a walled siege or to a space station, not to a city
# under a fever cordon. Matched as whole words, any case.
FORBIDDEN = (
    "siege",
    "besieged",
    "trebuchet",
    "trebuchets",
    "catapult",
    "battlement",
    "battlements",
    "rampart",
    "ramparts",
    "archer",
    "archers",
    "arrow",
    "arrows",
    "longbow",
    "castle",
    "knight",
    "keep",
    "portcullis",
    "drawbridge",
    "moat",
    "ram",
    "margrave",
    "lornhaven",
    "reactor",
    "orbit",
    "orbital",
    "airlock",
    "laser",
    "plasma",
    "shuttle",
    "spaceship",
    "starship",
    "oxygen",
    "android",
    "robot",
    "drone",
    "hull",
)
LEAK = re.compile(r"\b(" + "|".join(FORBIDDEN) + r")\b", re.IGNORECASE)

# Subtrees and keys that hold ids and mechanics rather than words for players.
MECHANICS = {"roles", "functions", "plan", "requires", "conditions", "args"}
ID_KEYS = {"id", "fn", "ref", "slug", "version", "storyteller", "duty", "risk"}

SEEDS = range(16)


def _raw() -> dict:
    return json.loads(PACK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def theme():
    return agents.load_theme(_raw())


def _player_text(node, path="") -> list[tuple[str, str]]:
    """Every string a player may read, with where it sits in the pack."""
    out: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in MECHANICS or key in ID_KEYS:
                continue
            out.extend(_player_text(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_player_text(value, f"{path}[{index}]"))
    elif isinstance(node, str):
        out.append((path, node))
    return out


def _leaks(text: str) -> list[str]:
    return [m.group(0) for m in LEAK.finditer(text)]


def test_pack_loads_through_the_public_loader(theme):
    assert theme.slug == "plague"
    assert theme.title == "The Fever at Vellmouth"
    assert theme.roles["keep"] == "guildhall"
    assert theme.roles["garrison"] == "watch"


def test_at_least_thirty_scenes_each_with_three_distinct_options(theme):
    scenes = theme.data["scenes"]
    assert len(scenes) >= 30
    for scene in scenes:
        options = scene["options"]
        assert len(options) == 3, scene["id"]
        assert len({o["label"] for o in options}) == 3, scene["id"]
        plans = {json.dumps(o["plan"], sort_keys=True) for o in options}
        assert len(plans) == 3, scene["id"]
        for option in options:
            assert option["hint"] and option["risk"] in ("low", "medium", "high")


def test_every_director_phase_has_scenes(theme):
    phases = {phase for s in theme.data["scenes"] for phase in s["phases"]}
    assert phases == {"buildup", "peak", "relax"}


def test_flags_read_by_scenes_are_set_somewhere(theme):
    # A precondition on a flag nothing ever raises is a scene nobody sees.
    engine_flags = {"relief_called", "civilians_evacuated", "aid_refused"}
    set_by_plans = set(engine_flags)
    timers = set()
    for scene in theme.data["scenes"]:
        for option in scene["options"]:
            for call in option["plan"]:
                if call["fn"] in ("set_flag", "add_flag"):
                    set_by_plans.add(call["args"]["flag"])
                if call["fn"] == "start_timer":
                    timers.add(call["args"]["name"] + "_done")
    read = set()
    for scene in theme.data["scenes"]:
        for cond in scene.get("requires", []):
            ref = cond.get("ref", "")
            if (
                ref.startswith("flags.")
                and cond["op"] in (">=", "==")
                and cond["value"]
            ):
                read.add(ref[6:])
    assert read <= set_by_plans | timers


def test_endings_include_victories_defeats_and_a_fallback(theme):
    endings = theme.data["endings"]
    assert len(endings) >= 5
    kinds = {(e["kind"], e["when"]) for e in endings}
    assert ("victory", "immediate") in kinds
    assert ("defeat", "immediate") in kinds
    assert ("victory", "final") in kinds
    assert any(e["when"] == "final" and not e["conditions"] for e in endings)
    for ending in endings:
        assert ending["text"] and ending["epilogue"]


def test_every_npc_has_a_voice_and_a_fate_for_each_ending_state(theme):
    npcs = theme.data["npcs"]
    assert 5 <= len(npcs) <= 6
    for nid, npc in npcs.items():
        assert npc["want"] and npc["fear"], nid
        for mood in ("steady", "strained", "doubtful", "hurt"):
            assert len(npc["lines"][mood]) >= 3, (nid, mood)
        for fate in ("alive", "wounded", "dead", "deserted", "captured"):
            assert npc["fates"][fate], (nid, fate)


def test_the_leak_detector_catches_siege_and_space_words():
    assert _leaks("Trebuchets on the ramparts") == ["Trebuchets", "ramparts"]
    assert _leaks("Seal the airlock; the reactor is hot") == ["airlock", "reactor"]
    assert _leaks("A ramshackle shed by the keeper's lodge") == []


def test_no_siege_or_space_words_in_any_player_text():
    leaks = [
        (path, word) for path, text in _player_text(_raw()) for word in _leaks(text)
    ]
    assert leaks == []


def test_pack_draws_on_the_newer_function_categories(theme):
    used = {
        call["fn"]
        for scene in theme.data["scenes"]
        for option in scene["options"]
        for call in option["plan"]
    }
    used |= {t["fn"] for t in theme.data["enemy"]["tactics"]}
    categories = {REGISTRY[name].category for name in used}
    for category in ("diplomacy", "crafting", "anomaly", "finale", "environment"):
        assert category in categories, category
    # Weapons of war make no sense against a fever; the pack turns them off.
    for name in ("archer_volley", "snipe_officers", "parley"):
        assert name in theme.disabled


def _riskiest(state, seed):
    ranks = {"low": 0, "medium": 1, "high": 2}
    options = state.data["scene"]["options"]
    return max(range(3), key=lambda i: (ranks[options[i]["risk"]], -i))


def _safest(state, seed):
    ranks = {"low": 0, "medium": 1, "high": 2}
    options = state.data["scene"]["options"]
    return min(range(3), key=lambda i: (ranks[options[i]["risk"]], i))


def _wandering(state, seed):
    # A fixed walk that differs by seed and turn, independent of any library RNG.
    return (seed * 7 + state.data["turn"] * 5 + state.data["turn"] ** 2) % 3


POLICIES = {
    "first": lambda state, seed: 0,
    "second": lambda state, seed: 1,
    "third": lambda state, seed: 2,
    "riskiest": _riskiest,
    "safest": _safest,
    "wandering": _wandering,
}


def _play(theme, seed, policy):
    state = agents.new_game(theme, seed)
    while state.data["status"] == "active":
        choice = POLICIES[policy](state, seed)
        state = agents.resolve_turn(state, {"type": "choose", "option": choice}).state
    return state


def test_a_bounded_search_reaches_varied_victories_and_defeats(theme):
    found: dict[str, str] = {}
    for seed in SEEDS:
        for policy in POLICIES:
            state = _play(theme, seed, policy)
            assert state.data["turn"] <= theme.data["turn_limit"]
            ending = state.data["ending"]
            found.setdefault(ending["id"], ending["kind"])
        kinds = set(found.values())
        if len(found) >= 4 and kinds == {"victory", "defeat"}:
            break
    assert len(found) >= 4, found
    assert "victory" in found.values() and "defeat" in found.values(), found


def test_nobody_is_lost_by_the_third_turn(theme):
    for seed in range(12):
        for policy in POLICIES:
            state = agents.new_game(theme, seed)
            for _ in range(3):
                choice = POLICIES[policy](state, seed)
                state = agents.resolve_turn(
                    state, {"type": "choose", "option": choice}
                ).state
            assert state.data["status"] == "active", (seed, policy)
