"""The World agent: the enemy spends the threat budget on tactics; upkeep ticks.

The enemy reads the defences as they stood last turn (guards, posts, damage,
stores) and leans toward the weak and unguarded; weather, hunger and sickness
then tick through the registry like everything else.
"""

from __future__ import annotations

from typing import Any

from agents.copying import clone
from agents.functions import HAZARD_ORDER, UPKEEP_ORDER
from agents.functions.helpers import PRESENT
from agents.rng import Streams
from agents.theme import Theme

MAX_TACTICS = 6
# Posts that watch over structures; an NPC there counts as a guard on all of them.
WATCH_DUTIES = ("walls", "gate")
LATE_UPKEEP = HAZARD_ORDER + ("captivity_tick",)
# Percent a turn that the enemy seizes a rider abroad or a wounded straggler.
RIDER_ODDS = 8
STRAGGLER_ODDS = 15


def act(theme: Theme, data: dict[str, Any], streams: Streams) -> list[dict[str, Any]]:
    """The enemy's and the weather's proposals for this turn, then the upkeep."""
    roll = streams("world")
    proposals: list[dict[str, Any]] = []

    usable = [tactic for tactic, check in theme.tactics if check(data)]
    watchers = _watchers(theme, data)
    weights = {t["id"]: tactic_weight(theme, data, t, watchers) for t in usable}
    budget = data["director"]["threat_budget"]
    while budget > 0 and len(proposals) < MAX_TACTICS:
        affordable = [t for t in usable if t["cost"] <= budget]
        if not affordable:
            break
        tactic = roll.weighted(affordable, [weights[t["id"]] for t in affordable])
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

    for nid, odds in _exposed(theme, data):
        if roll.chance(odds):
            proposals.append(
                {
                    "agent": "world",
                    "group": "world",
                    "function": "capture_npc",
                    "args": {"npc": nid},
                }
            )
            break

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

    for name in UPKEEP_ORDER + LATE_UPKEEP:
        proposals.append(
            {"agent": "upkeep", "group": "upkeep", "function": name, "args": {}}
        )
    return proposals


def tactic_weight(
    theme: Theme,
    data: dict[str, Any],
    tactic: dict[str, Any],
    watchers: int | None = None,
) -> int:
    """How strongly the enemy favours a tactic given the defences it can see.

    Integers throughout: a base of four times the theme's weight, scaled by
    what the target looks like from outside the walls.
    """
    weight = 4 * int(tactic["weight"])
    args = tactic["args"]
    fn = tactic["fn"]
    sid = args.get("structure")
    if sid in data["structures"]:
        live = data["structures"][sid]
        # 0 (whole) to 4 (nearly down): cracks invite the next blow.
        weakness = 4 - min(4, live["integrity"] * 4 // max(1, live["max"]))
        weight = weight * (2 + weakness) // 2
        guard = int(data["guards"].get("structures", {}).get(sid, 0))
        if watchers is None:
            watchers = _watchers(theme, data)
        guard += 5 * watchers
        if guard >= 20:
            weight //= 3
        elif guard >= 10:
            weight //= 2
        elif guard == 0 and fn == "enemy_assault":
            weight = weight * 3 // 2
        if data["guards"].get("oil", {}).get(sid):
            weight //= 2
    if fn == "enemy_bombard":
        weight = weight * (1 + min(data["enemy"]["engines"], 6)) // 2
    elif fn == "enemy_raid_stores":
        weight = weight * _raid_appeal(theme, data, args["stockpile"]) // 2
    elif fn == "ignite_structure":
        weather = data["world"]["weather"]
        if weather == "heat":
            weight *= 2
        elif weather in ("rain", "storm"):
            weight //= 2
    elif fn == "spread_disease":
        if data["world"]["hunger"] >= 30 or data["world"]["disease"] > 0:
            weight = weight * 3 // 2
    return max(1, weight)


def _watchers(theme: Theme, data: dict[str, Any]) -> int:
    return sum(
        1
        for nid in theme.npc_ids
        if data["npcs"][nid]["status"] in PRESENT
        and data["npcs"][nid].get("away", 0) == 0
        and data["npcs"][nid]["duty"] in WATCH_DUTIES
    )


def _raid_appeal(theme: Theme, data: dict[str, Any], sid: str) -> int:
    """2 is ordinary; more when the store is unwatched or food is scarce inside."""
    appeal = 2
    keepers = sum(
        1
        for nid in theme.npc_ids
        if data["npcs"][nid]["status"] in PRESENT
        and data["npcs"][nid].get("away", 0) == 0
        and data["npcs"][nid]["duty"] == "stores"
    )
    if keepers == 0 and not data["guards"].get("stores", 0):
        appeal += 2
    if sid == theme.roles["food"]:
        food_max = theme.data["stockpiles"][sid]["max"]
        if data["stockpiles"][sid] * 4 < food_max or data["world"]["hunger"] > 0:
            appeal += 2
    return appeal


def _exposed(theme: Theme, data: dict[str, Any]) -> list[tuple[str, int]]:
    """NPCs the enemy could seize, with the odds: riders abroad, and wounded
    NPCs at a post beside a breach."""
    breach = any(s["status"] == "collapsed" for s in data["structures"].values())
    out = []
    for nid in theme.npc_ids:
        npc = data["npcs"][nid]
        if npc["status"] not in PRESENT:
            continue
        if npc.get("away", 0) > 0:
            out.append((nid, RIDER_ODDS))
        elif breach and npc["status"] == "wounded" and npc["duty"] in WATCH_DUTIES:
            out.append((nid, STRAGGLER_ODDS))
    return out
