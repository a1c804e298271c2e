"""The Characters agent: each NPC present reacts with a line and perhaps a proposal.

Traits decide what an NPC wants to do (the brave volunteer for sallies, the
cautious barricade, the kind heal...); health, fatigue and loyalty decide
whether they are fit and willing. Trust runs out in words first: an NPC whose
loyalty sags speaks up with doubt well before it slips away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.functions.fates import RANSOM
from agents.functions.helpers import PRESENT
from agents.rng import Stream, Streams
from agents.templates import fill
from agents.theme import Theme

MAX_SPEAKERS = 3
DOUBT_AT = 40
DESERT_AT = 25
# Said when a theme gives an NPC no line for its mood; kept plain so it fits
# any world.
FALLBACK_LINES = {
    "doubtful": [
        "{name} answers slowly and looks past you.",
        "{name} does the work, and no more than the work.",
    ],
    "hurt": ["{name} grits their teeth and keeps to the post."],
    "strained": ["{name} has not slept properly in days."],
}

Wish = dict[str, Any]


def mood_of(npc: dict[str, Any]) -> str:
    # Doubt outranks pain: a wavering NPC should be heard wavering.
    if npc["loyalty"] < DOUBT_AT - 10:
        return "doubtful"
    if npc["status"] == "wounded":
        return "hurt"
    if npc["loyalty"] < DOUBT_AT:
        return "doubtful"
    if npc["fatigue"] >= 60 or npc["health"] < 50:
        return "strained"
    return "steady"


def react(
    theme: Theme, data: dict[str, Any], streams: Streams
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(proposals, dialogue, line keys used) for this turn.

    Reads the state as it was before the turn; the caller remembers the line
    keys so that nobody repeats themselves soon.
    """
    proposals: list[dict[str, Any]] = []
    speakers: list[tuple[int, str]] = []
    for nid in theme.npc_ids:
        npc = data["npcs"][nid]
        if npc["status"] not in PRESENT or npc.get("away", 0) > 0:
            continue
        roll = streams(f"npc:{nid}")
        wish = wish_of(theme, data, nid, roll)
        # People know when a thing cannot be done again yet and do not ask.
        if wish and data["cooldowns"].get(wish["function"], 0) > data["turn"] + 1:
            wish = None
        if wish:
            proposals.append(wish)
        # Those with something to say or ask speak first, then the doubting.
        urgency = (100 if wish else 0) + roll.below(100)
        if npc["loyalty"] < DESERT_AT:
            urgency += 300
        elif npc["loyalty"] < DOUBT_AT:
            urgency += 60
        speakers.append((-urgency, nid))

    dialogue = []
    used: list[str] = []
    for _, nid in sorted(speakers)[:MAX_SPEAKERS]:
        spoken = _line(theme, data, nid, streams(f"npc:{nid}"))
        if spoken:
            key, line = spoken
            used.append(key)
            name = theme.data["npcs"][nid]["name"]
            dialogue.append({"npc": nid, "name": name, "line": line})
    return proposals, dialogue, used


def voiced_doubt(data: dict[str, Any], nid: str) -> bool:
    """Whether the NPC has lately said a doubtful line (in the state's memory)."""
    marks = (f"line:{nid}:doubtful:", f"plain:{nid}:doubtful:")
    return any(key.startswith(marks) for key in data.get("narrated", ()))


def _line(
    theme: Theme, data: dict[str, Any], nid: str, roll: Stream
) -> tuple[str, str] | None:
    spec = theme.data["npcs"][nid]
    npc = data["npcs"][nid]
    mood = mood_of(npc)
    lines = spec["lines"].get(mood)
    source = "line"
    if not lines and mood in FALLBACK_LINES:
        lines, source = FALLBACK_LINES[mood], "plain"
    if not lines:
        mood, lines = "steady", spec["lines"]["steady"]
    if not lines:
        return None
    said = set(data.get("narrated", ()))
    fresh = [i for i in range(len(lines)) if f"{source}:{nid}:{mood}:{i}" not in said]
    index = roll.choice(fresh) if fresh else roll.below(len(lines))
    local = {"name": spec["name"], "role": spec["role"], "duty": npc["duty"]}
    return f"{source}:{nid}:{mood}:{index}", fill(lines[index], data, theme.data, local)


def wish_of(theme: Theme, data: dict[str, Any], nid: str, roll: Stream) -> Wish | None:
    """What an NPC proposes, from traits and condition; None most of the time.

    The order is the NPC's priorities: leaving (if trust is gone), a comrade
    in enemy hands, their own body, then what their traits make them do.
    """
    npc = data["npcs"][nid]
    traits = set(theme.data["npcs"][nid].get("traits", ()))
    morale = data["metrics"][theme.roles["morale"]]

    def wish(fn: str, **args: Any) -> Wish:
        return {
            "agent": f"npc:{nid}",
            "group": "characters",
            "function": fn,
            "args": args,
        }

    # Desertion is weighed first: it is what low trust finally leads to, but
    # only once the doubt has been said aloud.
    if npc["loyalty"] < DESERT_AT and voiced_doubt(data, nid):
        odds = (DESERT_AT - npc["loyalty"]) * 3 + (15 if "greedy" in traits else 0)
        odds -= 20 if "loyal" in traits else 0
        odds += 10 if morale < 30 else 0
        if roll.chance(max(0, odds)):
            return wish("npc_desert", npc=nid)

    willing = npc["loyalty"] >= DOUBT_AT
    fit = npc["status"] == "active" and npc["fatigue"] < 60 and npc["health"] >= 50
    captive = _captive(theme, data)
    if captive and willing:
        freeing = _free_captive(theme, data, traits, fit, captive, roll)
        if freeing:
            return wish(freeing[0], npc=captive, **freeing[1])

    tired_at = 50 if "weary" in traits else 85 if "stubborn" in traits else 70
    if npc["fatigue"] >= tired_at and npc["duty"] != "rest":
        return wish("rest_npc", npc=nid)

    for trait in sorted(traits):
        proposer = TRAIT_WISHES.get(trait)
        if proposer is None:
            continue
        found = proposer(theme, data, nid, roll, willing, fit)
        if found:
            return wish(found[0], **found[1])
    return None


Proposal = tuple[str, dict[str, Any]] | None


def _brave(
    theme: Theme, data: dict[str, Any], nid: str, roll: Stream, willing: bool, fit: bool
) -> Proposal:
    """The brave volunteer to lead a sally, or at least an ambush, at the peak."""
    if not (fit and willing) or data["director"]["phase"] != "peak":
        return None
    if data["enemy"]["strength"] <= 0 or not roll.chance(35):
        return None
    garrison = data["metrics"][theme.roles["garrison"]]
    troops = min(30, garrison // 4)
    if troops >= 5 and garrison >= troops + 10:
        return "sortie", {"npc": nid, "troops": troops}
    return "set_ambush", {"npc": nid}


def _cautious(
    theme: Theme, data: dict[str, Any], nid: str, roll: Stream, willing: bool, fit: bool
) -> Proposal:
    """The cautious put out fires first, then shore up the weakest structure."""
    if not roll.chance(40):
        return None
    for sid in theme.structure_ids:
        if data["structures"][sid]["fire"] > 0:
            return "extinguish_fire", {"structure": sid}
    if data["director"]["phase"] == "relax":
        return None
    weakest = _weakest(theme, data)
    materials = data["stockpiles"][theme.roles["materials"]]
    if weakest and materials >= 10:
        return "barricade", {"structure": weakest}
    return None


def _kind(
    theme: Theme, data: dict[str, Any], nid: str, roll: Stream, willing: bool, fit: bool
) -> Proposal:
    if not roll.chance(50):
        return None
    patient = _most_hurt(theme, data)
    medicine = data["stockpiles"][theme.roles["medicine"]]
    if patient and medicine >= 10:
        return "heal_npc", {"npc": patient}
    return None


def _pious(
    theme: Theme, data: dict[str, Any], nid: str, roll: Stream, willing: bool, fit: bool
) -> Proposal:
    morale = data["metrics"][theme.roles["morale"]]
    if morale < 45 and roll.chance(40):
        return "hold_vigil", {}
    return None


def _cunning(
    theme: Theme, data: dict[str, Any], nid: str, roll: Stream, willing: bool, fit: bool
) -> Proposal:
    """The cunning scout in quiet spells and raid the engines at the peak."""
    if not fit:
        return None
    phase = data["director"]["phase"]
    if phase == "peak" and data["enemy"]["engines"] > 0 and roll.chance(25):
        return "burn_engines", {"npc": nid}
    if phase == "buildup" and not data["flags"].get("enemy_scouted"):
        if roll.chance(30):
            return "scout_enemy", {"npc": nid}
    return None


def _greedy(
    theme: Theme, data: dict[str, Any], nid: str, roll: Stream, willing: bool, fit: bool
) -> Proposal:
    """The greedy ask to be paid when their trust runs thin."""
    wealth = data["stockpiles"][theme.roles["wealth"]]
    if data["npcs"][nid]["loyalty"] < 50 and wealth >= 10 and roll.chance(30):
        return "reward_npc", {"npc": nid, "amount": min(20, wealth)}
    return None


def _heartening(
    theme: Theme, data: dict[str, Any], nid: str, roll: Stream, willing: bool, fit: bool
) -> Proposal:
    """The loyal and the ambitious speak up when spirits sag."""
    morale = data["metrics"][theme.roles["morale"]]
    if data["npcs"][nid]["loyalty"] >= 60 and morale < 50 and roll.chance(30):
        return "npc_speech", {"npc": nid}
    return None


TRAIT_WISHES: dict[str, Callable[..., Proposal]] = {
    "ambitious": _heartening,
    "brave": _brave,
    "cautious": _cautious,
    "cunning": _cunning,
    "greedy": _greedy,
    "kind": _kind,
    "loyal": _heartening,
    "pious": _pious,
}


def _free_captive(
    theme: Theme,
    data: dict[str, Any],
    traits: set[str],
    fit: bool,
    captive: str,
    roll: Stream,
) -> tuple[str, dict[str, Any]] | None:
    """How an NPC would bring a captured comrade home, by temperament."""
    if "brave" in traits and fit and roll.chance(40):
        garrison = data["metrics"][theme.roles["garrison"]]
        troops = min(20, garrison // 5)
        if troops >= 5 and garrison >= troops + 10:
            return "rescue_npc", {"troops": troops}
    if "cunning" in traits and data["enemy"]["strength"] > 0 and roll.chance(35):
        return "exchange_captive", {}
    if traits & {"kind", "loyal", "greedy"} and roll.chance(35):
        if data["stockpiles"][theme.roles["wealth"]] >= RANSOM:
            return "ransom_npc", {}
    return None


def _captive(theme: Theme, data: dict[str, Any]) -> str | None:
    for nid in theme.npc_ids:
        if data["npcs"][nid]["status"] == "captured":
            return nid
    return None


def _weakest(theme: Theme, data: dict[str, Any]) -> str | None:
    worst = None
    worst_share = 100
    for sid in theme.structure_ids:
        live = data["structures"][sid]
        if live["status"] == "collapsed":
            continue
        share = live["integrity"] * 100 // max(1, live["max"])
        if share < worst_share:
            worst, worst_share = sid, share
    return worst if worst_share < 60 else None


def _most_hurt(theme: Theme, data: dict[str, Any]) -> str | None:
    worst = None
    for nid in theme.npc_ids:
        npc = data["npcs"][nid]
        if npc["status"] not in PRESENT or npc.get("away", 0) > 0:
            continue
        if npc["health"] < 70 and (
            worst is None or npc["health"] < data["npcs"][worst]["health"]
        ):
            worst = nid
    return worst
