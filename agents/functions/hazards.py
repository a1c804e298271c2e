"""World hazards that tie weather, hunger and sickness to structures and stock.

They run as upkeep after the basic ticks, so they see the turn's fires, meals
and losses already settled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx

Args = dict[str, Any]

HAZARD_ORDER = ("storm_tick", "hunger_tick", "contagion_tick")


@safe_function(
    "storm_tick",
    "upkeep",
    "Storms batter weakened structures and soak the fuel store; heat dries "
    "the fuel and can set a damaged structure smouldering.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def storm_tick(ctx: Ctx, args: Args) -> None:
    weather = ctx.data["world"]["weather"]
    if weather not in ("storm", "heat"):
        return
    roll = ctx.rng("weather")
    structures = ctx.data["structures"]
    if weather == "storm":
        for sid in ctx.theme.structure_ids:
            live = structures[sid]
            # Sound masonry shrugs a gale off; cracked walls do not.
            if live["status"] == "damaged":
                h.damage_structure(ctx, sid, roll.randint(2, 6))
        fuel = ctx.role("fuel")
        spoiled = -h.add_stock(ctx, fuel, -roll.randint(0, 3))
        if spoiled:
            name = h.name_of(ctx, "stockpiles", fuel)
            ctx.note("stock_lost", stockpile=name, amount=spoiled)
        return
    dry = [
        sid
        for sid in ctx.theme.structure_ids
        if structures[sid]["status"] == "damaged" and structures[sid]["fire"] == 0
    ]
    if dry and roll.chance(10):
        sid = roll.choice(dry)
        structures[sid]["fire"] = 1
        ctx.note("fire_started", structure=h.name_of(ctx, "structures", sid))


@safe_function(
    "hunger_tick",
    "upkeep",
    "Hunger wears people down: above 20 the NPCs lose health and loyalty "
    "sags; above 50 morale falls too.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def hunger_tick(ctx: Ctx, args: Args) -> None:
    hunger = ctx.data["world"]["hunger"]
    if hunger <= 20:
        return
    for nid in h.present_npcs(ctx):
        h.wound(ctx, nid, hunger // 15)
        if hunger > 35 and not h.has_trait(ctx, nid, "loyal"):
            h.shift_loyalty(ctx, nid, -1)
    if hunger > 50:
        h.add_morale(ctx, -(hunger // 25))


@safe_function(
    "contagion_tick",
    "upkeep",
    "Sickness spreads faster in a crowded or hungry keep; the sick use up "
    "medicine, and without medicine the sickness grows.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def contagion_tick(ctx: Ctx, args: Args) -> None:
    world = ctx.data["world"]
    if world["disease"] <= 0:
        return
    standing = sum(
        1 for s in ctx.data["structures"].values() if s["status"] != "collapsed"
    )
    garrison = ctx.data["metrics"][ctx.role("garrison")]
    crowded = garrison > 40 * max(1, standing)
    growth = (2 if crowded else 0) + (2 if world["hunger"] >= 30 else 0)

    medicine = ctx.role("medicine")
    need = 1 + world["disease"] // 15
    used = -h.add_stock(ctx, medicine, -need)
    if used < need:
        growth += 2
    elif any(
        ctx.data["npcs"][nid]["duty"] == "infirmary" for nid in h.present_npcs(ctx)
    ):
        growth -= 1
    if growth:
        world["disease"] = min(100, max(0, world["disease"] + growth))
        if growth > 0:
            ctx.note("disease_spread", amount=growth)
