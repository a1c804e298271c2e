"""The Director: paces tension (build-up, peak, relief) and sets the threat budget."""

from __future__ import annotations

from typing import Any

from agents.rng import Stream
from agents.theme import Theme

# Per storyteller: tension gained a turn, where build-up peaks, the longest
# build-up, how long a peak lasts, how long relief lasts, tension shed in relief.
PROFILES: dict[str, dict[str, int]] = {
    "steady": {
        "rise": 6,
        "peak_at": 65,
        "buildup": 5,
        "peak": 2,
        "relax": 2,
        "ease": 12,
    },
    "relentless": {
        "rise": 8,
        "peak_at": 55,
        "buildup": 3,
        "peak": 3,
        "relax": 1,
        "ease": 8,
    },
    "chaotic": {
        "rise": 7,
        "peak_at": 60,
        "buildup": 4,
        "peak": 2,
        "relax": 2,
        "ease": 10,
    },
}

PHASE_THREAT = {"buildup": 0, "peak": 2, "relax": -1}


def neglect(theme: Theme, data: dict[str, Any]) -> int:
    """Tension owed to trouble the player has left standing."""
    structures = data["structures"].values()
    collapsed = sum(1 for s in structures if s["status"] == "collapsed")
    burning = sum(1 for s in structures if s["fire"] > 0)
    morale = data["metrics"][theme.roles["morale"]]
    return (
        3 * collapsed
        + 2 * burning
        + (3 if data["world"]["hunger"] >= 30 else 0)
        + (3 if morale < 30 else 0)
        + (2 if data["world"]["disease"] >= 20 else 0)
    )


def _profile(name: str, roll: Stream) -> dict[str, int]:
    profile = dict(PROFILES[name])
    if name == "chaotic":
        # Chaos varies the rhythm, never the fairness: same averages, wider spread.
        profile["rise"] = roll.randint(3, 11)
        profile["peak_at"] = roll.randint(50, 75)
        profile["buildup"] = roll.randint(2, 6)
        profile["peak"] = roll.randint(1, 3)
        profile["relax"] = roll.randint(1, 3)
    return profile


def advance(theme: Theme, data: dict[str, Any], roll: Stream) -> None:
    """Move tension, phase and threat budget on by one turn (in place)."""
    director = data["director"]
    profile = _profile(director["profile"], roll)
    phase = director["phase"]
    tension = director["tension"]
    pressure = neglect(theme, data)

    if phase == "buildup":
        tension += profile["rise"] + pressure
    elif phase == "peak":
        tension += profile["rise"] // 2 + pressure
    else:
        tension -= profile["ease"] - pressure // 2
    tension = max(0, min(100, tension))
    director["phase_turns"] += 1

    turns = director["phase_turns"]
    nxt = phase
    if phase == "buildup" and (
        tension >= profile["peak_at"] or turns >= profile["buildup"]
    ):
        nxt = "peak"
    elif phase == "peak" and turns >= profile["peak"]:
        nxt = "relax"
    elif phase == "relax" and (turns >= profile["relax"] or tension <= 10):
        nxt = "buildup"
    if nxt != phase:
        director["phase"] = nxt
        director["phase_turns"] = 0

    budget = 1 + tension // 20 + data["turn"] // 5 + PHASE_THREAT[director["phase"]]
    if director["profile"] == "relentless":
        budget += 1
    director["tension"] = tension
    director["threat_budget"] = max(1, min(12, budget))
