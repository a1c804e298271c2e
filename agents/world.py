"""The World agent: the enemy spends the threat budget on tactics; upkeep ticks."""

from __future__ import annotations

from typing import Any

from agents.copying import clone
from agents.functions import UPKEEP_ORDER
from agents.rng import Streams
from agents.theme import Theme

MAX_TACTICS = 6


def act(theme: Theme, data: dict[str, Any], streams: Streams) -> list[dict[str, Any]]:
    """The enemy's and the weather's proposals for this turn, then the upkeep."""
    roll = streams("world")
    proposals: list[dict[str, Any]] = []

    usable = [tactic for tactic, check in theme.tactics if check(data)]
    budget = data["director"]["threat_budget"]
    while budget > 0 and len(proposals) < MAX_TACTICS:
        affordable = [t for t in usable if t["cost"] <= budget]
        if not affordable:
            break
        tactic = roll.weighted(affordable, [t["weight"] for t in affordable])
        budget -= tactic["cost"]
        proposals.append(
            {
                "agent": "world",
                "group": "world",
                "function": tactic["fn"],
                "args": clone(tactic["args"]),
                "tactic": tactic["id"],
            }
        )

    # Bad weather does not last for ever; clearing skies are the world's own doing.
    turned = any(p["function"] == "change_weather" for p in proposals)
    if not turned and data["world"]["weather"] != "clear" and roll.chance(30):
        proposals.append(
            {
                "agent": "world",
                "group": "world",
                "function": "change_weather",
                "args": {"weather": "clear"},
            }
        )

    for name in UPKEEP_ORDER:
        proposals.append(
            {"agent": "upkeep", "group": "upkeep", "function": name, "args": {}}
        )
    return proposals
