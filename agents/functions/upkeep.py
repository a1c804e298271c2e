"""World upkeep: what ticks every turn on its own (food, fire, fatigue, sickness)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx

Args = dict[str, Any]

UPKEEP_ORDER = (
    "timer_tick",
    "consume_food",
    "fire_tick",
    "fatigue_tick",
    "disease_tick",
    "morale_drift",
)

_DUTY_FATIGUE = {
    "walls": 6,
    "gate": 6,
    "workshop": 4,
    "stores": 3,
    "infirmary": 3,
    "rest": -15,
}


@safe_function(
    "timer_tick",
    "upkeep",
    "Timers count down (setting <name>_done when they run out); riders "
    "abroad come home, with or without help, or not at all.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def timer_tick(ctx: Ctx, args: Args) -> None:
    timers = ctx.data["timers"]
    for name in sorted(timers):
        timers[name] -= 1
        if timers[name] <= 0:
            del timers[name]
            ctx.data["flags"][f"{name}_done"] = 1
    for nid in ctx.theme.npc_ids:
        npc = ctx.data["npcs"][nid]
        if npc.get("away", 0) <= 0 or npc["status"] not in h.PRESENT:
            continue
        npc["away"] -= 1
        if npc["away"] > 0:
            continue
        roll = ctx.rng(f"npc:{nid}").below(100)
        name = h.name_of(ctx, "npcs", nid)
        if roll < 60:
            ctx.data["flags"]["relief_called"] = 1
            ctx.note("relief_called", npc=name)
        if roll < 85:
            ctx.note("npc_returned", npc=name)
        else:
            npc["status"] = "dead"
            ctx.note("npc_killed", npc=name)


@safe_function(
    "consume_food",
    "upkeep",
    "The garrison eats by the ration level; hunger rises when food runs out.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def consume_food(ctx: Ctx, args: Args) -> None:
    world = ctx.data["world"]
    food = ctx.role("food")
    garrison = ctx.data["metrics"][ctx.role("garrison")]
    need = (garrison + 9) // 10
    ration = world["ration"]
    if ration == "half":
        need = (need + 1) // 2
    elif ration == "quarter":
        need = (need + 3) // 4
    eaten = -h.add_stock(ctx, food, -need)
    if eaten < need:
        world["hunger"] = min(100, world["hunger"] + 15)
        ctx.note("hunger", amount=world["hunger"])
    elif ration == "full":
        world["hunger"] = max(0, world["hunger"] - 10)
    elif ration == "quarter":
        world["hunger"] = min(100, world["hunger"] + 3)
    if ration == "half":
        h.add_morale(ctx, -1)
    elif ration == "quarter":
        h.add_morale(ctx, -3)
        for nid in h.present_npcs(ctx):
            h.wound(ctx, nid, 2)
    if world["hunger"] >= 40:
        h.lose_garrison(ctx, world["hunger"] // 20)
        h.add_morale(ctx, -2)


@safe_function(
    "fire_tick",
    "upkeep",
    "Fires burn their structures, may spread to a neighbour and slowly burn out.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def fire_tick(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("fire")
    weather = ctx.data["world"]["weather"]
    structures = ctx.data["structures"]
    burning = [sid for sid in ctx.theme.structure_ids if structures[sid]["fire"] > 0]
    for sid in burning:
        live = structures[sid]
        if weather in ("rain", "storm"):
            live["fire"] = max(0, live["fire"] - 1)
            if live["fire"] == 0:
                ctx.note("fire_out", structure=h.name_of(ctx, "structures", sid))
                continue
        heat = 1 if weather == "heat" else 0
        h.damage_structure(ctx, sid, live["fire"] * 3 + heat * 2)
        if live["status"] == "collapsed":
            continue
        if live["fire"] >= 3 and roll.chance(20 + 10 * heat):
            targets = [
                t
                for t in ctx.theme.structure_ids
                if structures[t]["fire"] == 0 and structures[t]["status"] != "collapsed"
            ]
            if targets:
                target = roll.choice(targets)
                structures[target]["fire"] = 1
                name = h.name_of(ctx, "structures", target)
                ctx.note("fire_spread", structure=name)
        if roll.chance(25):
            live["fire"] -= 1
            if live["fire"] == 0:
                ctx.note("fire_out", structure=h.name_of(ctx, "structures", sid))


@safe_function(
    "fatigue_tick",
    "upkeep",
    "Duties tire the people on them and rest restores; exhaustion hurts, "
    "and the resting wounded mend.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def fatigue_tick(ctx: Ctx, args: Args) -> None:
    heat = 2 if ctx.data["world"]["weather"] == "heat" else 0
    for nid in h.present_npcs(ctx):
        npc = ctx.data["npcs"][nid]
        change = _DUTY_FATIGUE.get(npc["duty"], 3)
        if change > 0:
            change += heat
        h.tire(ctx, nid, change)
        if npc["fatigue"] >= 90:
            h.wound(ctx, nid, 5)
        elif npc["status"] == "wounded" and npc["duty"] in ("rest", "infirmary"):
            h.heal(ctx, nid, 5)


@safe_function(
    "disease_tick",
    "upkeep",
    "Sickness costs garrison; hunger and heat feed it, otherwise it ebbs.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def disease_tick(ctx: Ctx, args: Args) -> None:
    world = ctx.data["world"]
    if world["disease"] <= 0:
        return
    h.lose_garrison(ctx, world["disease"] // 10)
    if world["hunger"] > 30 or world["weather"] == "heat":
        world["disease"] = min(100, world["disease"] + 3)
    else:
        world["disease"] = max(0, world["disease"] - 2)


@safe_function(
    "morale_drift",
    "upkeep",
    "Morale sags with ruins, fires and hunger; NPC loyalty follows morale.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def morale_drift(ctx: Ctx, args: Args) -> None:
    data = ctx.data
    collapsed = sum(
        1 for s in data["structures"].values() if s["status"] == "collapsed"
    )
    fires = sum(1 for s in data["structures"].values() if s["fire"] > 0)
    drift = (
        -collapsed - (1 if fires else 0) - (2 if data["world"]["hunger"] >= 30 else 0)
    )
    if drift:
        h.add_morale(ctx, drift)
    morale = data["metrics"][ctx.role("morale")]
    wealth = data["stockpiles"][ctx.role("wealth")]
    for nid in h.present_npcs(ctx):
        change = 0
        if morale < 30:
            change -= 1 if h.has_trait(ctx, nid, "loyal") else 3
        elif morale >= 70:
            change += 1
        if h.has_trait(ctx, nid, "greedy") and wealth < 20:
            change -= 1
        if change:
            h.shift_loyalty(ctx, nid, change)
