"""Crafting functions: workshops turn one stockpile into another or into force."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx

Args = dict[str, Any]


@safe_function(
    "forge_weapons",
    "crafting",
    "Spends 20 materials and 10 fuel arming idle hands: garrison +4-8.",
    (),
    stock_cost=h.role_cost(materials=20, fuel=10),
    gas=2,
    cooldown=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def forge_weapons(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("materials"), -20)
    h.change_stock(ctx, ctx.role("fuel"), -10)
    armed = h.add_metric(ctx, ctx.role("garrison"), ctx.rng("craft").randint(4, 8))
    if armed:
        ctx.note("recruits", amount=armed)


@safe_function(
    "brew_remedy",
    "crafting",
    "Spends 10 food and 5 fuel: medicine +15 (+10 with an NPC on infirmary duty).",
    (),
    stock_cost=h.role_cost(food=10, fuel=5),
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def brew_remedy(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("food"), -10)
    h.change_stock(ctx, ctx.role("fuel"), -5)
    h.change_stock(ctx, ctx.role("medicine"), 25 if h.on_duty(ctx, "infirmary") else 15)


@safe_function(
    "build_engine",
    "crafting",
    "Spends 40 materials on an engine of the defenders' own: enemy strength "
    "-15 to -30, enemy morale -5.",
    (),
    stock_cost=h.role_cost(materials=40),
    gas=3,
    cooldown=3,
    per_turn=1,
    used_by=("events", "orders"),
)
def build_engine(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("materials"), -40)
    h.hurt_enemy(ctx, ctx.rng("craft").randint(15, 30))
    h.shake_enemy(ctx, 5)


@safe_function(
    "craft_barricade_kits",
    "crafting",
    "Spends 20 materials on ready-made barricades: every standing structure "
    "is guarded +6 this turn.",
    (),
    stock_cost=h.role_cost(materials=20),
    gas=2,
    cooldown=2,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def craft_barricade_kits(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("materials"), -20)
    for sid in ctx.theme.structure_ids:
        if ctx.data["structures"][sid]["status"] != "collapsed":
            h.add_guard(ctx, sid, 6)


@safe_function(
    "distill_fuel",
    "crafting",
    "Spends 20 food: fuel +10 (+5 with an NPC on workshop duty).",
    (),
    stock_cost=h.role_cost(food=20),
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "orders"),
)
def distill_fuel(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("food"), -20)
    h.change_stock(ctx, ctx.role("fuel"), 15 if h.on_duty(ctx, "workshop") else 10)
