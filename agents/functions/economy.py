"""Economy functions: rations, foraging, buying, salvage and plain stock changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import (
    choice,
    integer,
    safe_function,
    stockpile,
    structure,
)

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]

RATIONS = ("full", "half", "quarter")


def _check_ration(data: Data, theme: Theme, args: Args) -> str | None:
    if data["world"]["ration"] == args["level"]:
        return f"rations are already {args['level']}"
    return None


@safe_function(
    "ration_food",
    "economy",
    "Sets rations: less food is eaten, at a cost in morale and health.",
    (choice("level", *RATIONS),),
    check=_check_ration,
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "orders"),
)
def ration_food(ctx: Ctx, args: Args) -> None:
    ctx.data["world"]["ration"] = args["level"]
    ctx.note("rations_changed", level=args["level"])


def _check_forage(data: Data, theme: Theme, args: Args) -> str | None:
    garrison = data["metrics"][theme.roles["garrison"]]
    if garrison < args["troops"] + 10:
        return f"the garrison of {garrison} cannot spare {args['troops']} foragers"
    return None


@safe_function(
    "forage",
    "economy",
    "Foragers bring back food by a roll; some may not return.",
    (integer("troops", 5, 40),),
    check=_check_forage,
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "orders"),
)
def forage(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("economy")
    troops = args["troops"]
    found = troops * roll.randint(1, 4)
    if ctx.data["world"]["weather"] in ("storm", "heat"):
        found //= 2
    gained = h.add_stock(ctx, ctx.role("food"), found)
    if gained:
        ctx.note(
            "stock_gained",
            stockpile=h.name_of(ctx, "stockpiles", ctx.role("food")),
            amount=gained,
        )
    if roll.chance(20 + ctx.data["enemy"]["morale"] // 5):
        h.lose_garrison(ctx, roll.randint(1, troops // 3 + 1))


def _buy_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["wealth"]: 2 * args["amount"]}


def _check_buy(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["stockpile"]
    if sid == theme.roles["wealth"]:
        return "wealth cannot buy itself"
    if data["stockpiles"][sid] >= theme.data["stockpiles"][sid]["max"]:
        return f"the {theme.data['stockpiles'][sid]['name']} stores are full"
    return None


@safe_function(
    "buy_supplies",
    "economy",
    "Spends wealth (2 per unit) to fill a stockpile.",
    (stockpile(), integer("amount", 5, 100)),
    check=_check_buy,
    stock_cost=_buy_cost,
    gas=2,
    per_turn=2,
    used_by=("events", "orders"),
)
def buy_supplies(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("wealth"), -2 * args["amount"])
    gained = h.add_stock(ctx, args["stockpile"], args["amount"])
    ctx.note(
        "stock_gained",
        stockpile=h.name_of(ctx, "stockpiles", args["stockpile"]),
        amount=gained,
    )


def _check_spend(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["stockpile"]
    if data["stockpiles"][sid] <= 0:
        return f"the {theme.data['stockpiles'][sid]['name']} stores are empty"
    return None


def _spend_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {args["stockpile"]: args["amount"]}


@safe_function(
    "spend_stock",
    "economy",
    "The stockpile falls by up to the amount.",
    (stockpile(), integer("amount", 1, 200)),
    check=_check_spend,
    shown_cost=_spend_cost,
    gas=1,
    per_turn=4,
    used_by=("events", "characters"),
)
def spend_stock(ctx: Ctx, args: Args) -> None:
    lost = -h.add_stock(ctx, args["stockpile"], -args["amount"])
    ctx.note(
        "stock_lost",
        stockpile=h.name_of(ctx, "stockpiles", args["stockpile"]),
        amount=lost,
    )


def _check_gain(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["stockpile"]
    if data["stockpiles"][sid] >= theme.data["stockpiles"][sid]["max"]:
        return f"the {theme.data['stockpiles'][sid]['name']} stores are full"
    return None


@safe_function(
    "gain_stock",
    "economy",
    "The stockpile rises by the amount (up to its max).",
    (stockpile(), integer("amount", 1, 200)),
    check=_check_gain,
    gas=1,
    per_turn=4,
)
def gain_stock(ctx: Ctx, args: Args) -> None:
    gained = h.add_stock(ctx, args["stockpile"], args["amount"])
    ctx.note(
        "stock_gained",
        stockpile=h.name_of(ctx, "stockpiles", args["stockpile"]),
        amount=gained,
    )


def _check_salvage(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["structure"]
    if data["structures"][sid]["status"] == "standing":
        return f"{theme.data['structures'][sid]['name']} is too sound to strip"
    return None


@safe_function(
    "salvage",
    "economy",
    "Strips a damaged (10) or collapsed (30) structure for materials; "
    "a damaged one loses 10 integrity.",
    (structure(),),
    check=_check_salvage,
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "orders"),
)
def salvage(ctx: Ctx, args: Args) -> None:
    sid = args["structure"]
    collapsed = ctx.data["structures"][sid]["status"] == "collapsed"
    if not collapsed:
        h.damage_structure(ctx, sid, 10)
    gained = h.add_stock(ctx, ctx.role("materials"), 30 if collapsed else 10)
    ctx.note(
        "stock_gained",
        stockpile=h.name_of(ctx, "stockpiles", ctx.role("materials")),
        amount=gained,
    )


def _craft_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["materials"]: 10}


@safe_function(
    "craft_ammo",
    "crafting",
    "The workshop turns 10 materials into 30 ammunition (40 with a hand on "
    "workshop duty).",
    (),
    stock_cost=_craft_cost,
    gas=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def craft_ammo(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("materials"), -10)
    hands = any(
        ctx.data["npcs"][nid]["duty"] == "workshop" for nid in h.present_npcs(ctx)
    )
    gained = h.add_stock(ctx, ctx.role("ammo"), 40 if hands else 30)
    ctx.note(
        "stock_gained",
        stockpile=h.name_of(ctx, "stockpiles", ctx.role("ammo")),
        amount=gained,
    )
