"""The Director: paces tension (build-up, peak, relief) and sets the threat budget.

Tension climbs through a build-up, holds at a peak and is shed in relief.
The storyteller profile sets the rhythm: how long each phase lasts and how
fast tension climbs. What the player neglects adds pressure; a hard blow the
defenders just took (strain) cuts a peak short and trims the next threats, so
randomness picks which trouble comes, never whether it was earned.
"""

from __future__ import annotations

from typing import Any

from agents.rng import Stream
from agents.theme import Theme

# Per storyteller: tension gained a build-up turn, the tension at which a
# build-up tips into a peak, phase lengths in turns, tension shed in relief,
# and the extra threat of a peak. Rare peaks hit harder and frequent ones
# lighter, so over a game each profile brings about the same threat.
PROFILES: dict[str, dict[str, int]] = {
    "steady": {
        "rise": 6,
        "peak_at": 70,
        "buildup": 5,
        "peak": 2,
        "relax": 3,
        "ease": 12,
        "peak_threat": 3,
    },
    "relentless": {
        "rise": 6,
        "peak_at": 55,
        "buildup": 3,
        "peak": 3,
        "relax": 1,
        "ease": 10,
        "peak_threat": 1,
    },
    "chaotic": {
        "rise": 7,
        "peak_at": 60,
        "buildup": 4,
        "peak": 2,
        "relax": 2,
        "ease": 10,
        "peak_threat": 2,
    },
}
# Chaos draws each phase's length afresh, around the same averages.
CHAOTIC_SPANS = {"buildup": (2, 7), "peak": (1, 4), "relax": (1, 4)}
PHASE_THREAT = {"buildup": 0, "relax": -1}
NEXT_PHASE = {"buildup": "peak", "peak": "relax", "relax": "buildup"}
# Strain at which a peak breaks early: the defenders have been hurt enough.
BREAKING_STRAIN = 30
MAX_BUDGET = 12


def neglect(theme: Theme, data: dict[str, Any]) -> int:
    """Tension owed to trouble the player has left standing."""
    structures = data["structures"].values()
    collapsed = sum(1 for s in structures if s["status"] == "collapsed")
    low = sum(1 for s in structures if s["status"] == "damaged")
    burning = sum(1 for s in structures if s["fire"] > 0)
    morale = data["metrics"][theme.roles["morale"]]
    food = theme.roles["food"]
    food_max = theme.data["stockpiles"][food]["max"]
    world = data["world"]
    return (
        3 * collapsed
        + low
        + 2 * burning
        + (3 if world["hunger"] >= 30 else 0)
        + (1 if data["stockpiles"][food] * 10 < food_max else 0)
        + (3 if morale < 30 else 0)
        + (2 if world["disease"] >= 20 else 0)
    )


def harm(theme: Theme, data: dict[str, Any]) -> dict[str, int]:
    """The numbers the Director watches to see how hard the last turn hit."""
    garrison = data["metrics"][theme.roles["garrison"]]
    integrity = sum(s["integrity"] for s in data["structures"].values())
    lost = sum(
        1 for n in data["npcs"].values() if n["status"] not in ("active", "wounded")
    )
    return {"garrison": garrison, "integrity": integrity, "lost": lost}


def _strain(before: dict[str, int] | None, now: dict[str, int]) -> int:
    if not before:
        return 0
    return (
        max(0, before["garrison"] - now["garrison"])
        + max(0, before["integrity"] - now["integrity"]) // 2
        + 15 * max(0, now["lost"] - before["lost"])
    )


def span(name: str, phase: str, roll: Stream) -> int:
    """How many turns a phase that starts now will last."""
    if name == "chaotic":
        low, high = CHAOTIC_SPANS[phase]
        return roll.randint(low, high)
    return PROFILES[name][phase]


def advance(theme: Theme, data: dict[str, Any], roll: Stream) -> None:
    """Move tension, phase and threat budget on by one turn (in place)."""
    director = data["director"]
    name = director["profile"]
    profile = PROFILES[name]
    phase = director["phase"]
    tension = director["tension"]
    pressure = neglect(theme, data)

    now = harm(theme, data)
    # Strain fades by half each turn, so only recent blows count.
    strain = director.get("strain", 0) // 2 + _strain(director.get("watch"), now)
    director["watch"] = now
    director["strain"] = strain
    director["pressure"] = pressure

    if phase == "buildup":
        tension += profile["rise"] + pressure
    elif phase == "peak":
        tension += profile["rise"] // 2 + pressure
    else:
        tension -= profile["ease"] - pressure // 2
    tension = max(0, min(100, tension))
    director["phase_turns"] += 1
    length = director.get("span") or span(name, phase, roll)

    turns = director["phase_turns"]
    done = turns >= length
    if phase == "buildup" and tension >= profile["peak_at"]:
        done = True
    elif phase == "peak" and strain >= BREAKING_STRAIN:
        done = True
    elif phase == "relax" and tension <= 10:
        done = True
    if done:
        phase = NEXT_PHASE[phase]
        director["phase"] = phase
        director["phase_turns"] = 0
        director["span"] = span(name, phase, roll)
    else:
        director["span"] = length

    director["tension"] = tension
    director["threat_budget"] = threat_budget(
        data, tension, PHASE_THREAT.get(phase, profile["peak_threat"]), pressure, strain
    )


def threat_budget(
    data: dict[str, Any], tension: int, phase_threat: int, pressure: int, strain: int
) -> int:
    """What the enemy may spend next turn: time, tension, neglect, minus strain."""
    limit = max(1, data["turn_limit"])
    late = 3 * min(data["turn"], limit) // limit
    budget = 1 + tension // 20 + late + phase_threat + pressure // 6 - strain // 20
    return max(1, min(MAX_BUDGET, budget))
