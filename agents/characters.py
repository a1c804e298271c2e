"""The Characters agent: each NPC present reacts with a line and perhaps a proposal."""

from __future__ import annotations

from typing import Any

from agents.functions.helpers import PRESENT
from agents.rng import Streams
from agents.templates import fill
from agents.theme import Theme

MAX_SPEAKERS = 3


def mood_of(npc: dict[str, Any]) -> str:
    if npc["status"] == "wounded":
        return "hurt"
    if npc["loyalty"] < 40:
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
        wish = _wish(theme, data, nid, roll)
        # People know when a thing cannot be done again yet and do not ask.
        if wish and data["cooldowns"].get(wish["function"], 0) > data["turn"] + 1:
            wish = None
        if wish:
            proposals.append(wish)
        # Those with something to say or ask speak first; then a few others.
        urgency = (100 if wish else 0) + roll.below(100)
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


def _line(
    theme: Theme, data: dict[str, Any], nid: str, roll: Any
) -> tuple[str, str] | None:
    spec = theme.data["npcs"][nid]
    npc = data["npcs"][nid]
    mood = mood_of(npc)
    lines = spec["lines"].get(mood)
    if not lines:
        mood, lines = "steady", spec["lines"]["steady"]
    if not lines:
        return None
    said = data.get("narrated", ())
    fresh = [i for i in range(len(lines)) if f"line:{nid}:{mood}:{i}" not in said]
    index = roll.choice(fresh) if fresh else roll.below(len(lines))
    local = {"name": spec["name"], "role": spec["role"], "duty": npc["duty"]}
    return f"line:{nid}:{mood}:{index}", fill(lines[index], data, theme.data, local)


def _wish(
    theme: Theme, data: dict[str, Any], nid: str, roll: Any
) -> dict[str, Any] | None:
    """What an NPC proposes, from traits and condition; None most of the time."""
    npc = data["npcs"][nid]
    traits = set(theme.data["npcs"][nid].get("traits", ()))
    roles = theme.roles
    morale = data["metrics"][roles["morale"]]
    phase = data["director"]["phase"]

    def wish(fn: str, **args: Any) -> dict[str, Any]:
        return {
            "agent": f"npc:{nid}",
            "group": "characters",
            "function": fn,
            "args": args,
        }

    # Desertion is weighed first: it is what low trust finally leads to.
    if npc["loyalty"] < 25:
        odds = (25 - npc["loyalty"]) * 3 + (15 if "greedy" in traits else 0)
        odds -= 20 if "loyal" in traits else 0
        odds += 10 if morale < 30 else 0
        if roll.chance(max(0, odds)):
            return wish("npc_desert", npc=nid)
    tired_at = 50 if "weary" in traits else 70
    if npc["fatigue"] >= tired_at and npc["duty"] != "rest":
        return wish("rest_npc", npc=nid)
    if "kind" in traits and roll.chance(50):
        patient = _most_hurt(theme, data)
        if patient:
            return wish("heal_npc", npc=patient)
    if "pious" in traits and morale < 45 and roll.chance(40):
        return wish("hold_vigil")
    if "brave" in traits and phase == "peak" and npc["status"] == "active":
        if npc["fatigue"] < 50 and roll.chance(35):
            return wish("set_ambush", npc=nid)
    if "cunning" in traits and data["enemy"]["engines"] > 0 and phase == "peak":
        if npc["status"] == "active" and roll.chance(20):
            return wish("burn_engines", npc=nid)
    if "cautious" in traits and roll.chance(30):
        for sid in theme.structure_ids:
            if data["structures"][sid]["fire"] > 0:
                return wish("extinguish_fire", structure=sid)
    if ("loyal" in traits or "ambitious" in traits) and npc["loyalty"] >= 60:
        if morale < 50 and roll.chance(30):
            return wish("npc_speech", npc=nid)
    if "greedy" in traits and npc["loyalty"] < 45 and roll.chance(25):
        return wish(
            "spend_stock", stockpile=roles["wealth"], amount=roll.randint(5, 15)
        )
    return None


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
