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


# --- phase 2 additions ----------------------------------------------------


def _check_trade(data: Data, theme: Theme, args: Args) -> str | None:
    if args["give"] == args["get"]:
        return "a stockpile cannot be traded for itself"
    get = args["get"]
    if data["stockpiles"][get] >= theme.data["stockpiles"][get]["max"]:
        return f"the {theme.data['stockpiles'][get]['name']} store is full"
    return None


def _trade_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {args["give"]: args["amount"]}


@safe_function(
    "trade_goods",
    "economy",
    "Spends amount of one stockpile; another gains half of it.",
    (stockpile("give"), stockpile("get"), integer("amount", 5, 60)),
    check=_check_trade,
    stock_cost=_trade_cost,
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "orders"),
)
def trade_goods(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, args["give"], -args["amount"])
    h.change_stock(ctx, args["get"], args["amount"] // 2)


@safe_function(
    "levy_tax",
    "economy",
    "Wealth +20-40 taken from the townsfolk; morale -4; kind NPCs lose 3 loyalty.",
    (),
    gas=1,
    cooldown=3,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def levy_tax(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("wealth"), ctx.rng("economy").randint(20, 40))
    h.add_morale(ctx, -4)
    for nid in h.present_npcs(ctx):
        if h.has_trait(ctx, nid, "kind"):
            h.shift_loyalty(ctx, nid, -3)


@safe_function(
    "guard_stores",
    "economy",
    "The stores are guarded this turn (raids on them are foiled); NPCs on "
    "stores duty tire by 5.",
    (),
    gas=1,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def guard_stores(ctx: Ctx, args: Args) -> None:
    guards = ctx.data["guards"]
    guards["stores"] = guards.get("stores", 0) + 1
    for nid in h.on_duty(ctx, "stores"):
        h.tire(ctx, nid, 5)


def _check_sell(data: Data, theme: Theme, args: Args) -> str | None:
    if args["stockpile"] == theme.roles["wealth"]:
        return "wealth cannot be sold for itself"
    return None


def _sell_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {args["stockpile"]: args["amount"]}


@safe_function(
    "sell_stock",
    "economy",
    "The stockpile falls by amount; wealth rises by half of it.",
    (stockpile(), integer("amount", 10, 100)),
    check=_check_sell,
    stock_cost=_sell_cost,
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "orders"),
)
def sell_stock(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, args["stockpile"], -args["amount"])
    h.change_stock(ctx, ctx.role("wealth"), args["amount"] // 2)


@safe_function(
    "smuggle_supplies",
    "economy",
    "Spends 30 wealth on smugglers: food +15-40 and medicine +5-15; they "
    "may be seen (flag smugglers_seen).",
    (),
    stock_cost=h.role_cost(wealth=30),
    gas=2,
    cooldown=3,
    per_turn=1,
    used_by=("events", "orders"),
)
def smuggle_supplies(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("economy")
    h.change_stock(ctx, ctx.role("wealth"), -30)
    h.change_stock(ctx, ctx.role("food"), roll.randint(15, 40))
    h.change_stock(ctx, ctx.role("medicine"), roll.randint(5, 15))
    if roll.chance(20):
        ctx.data["flags"]["smugglers_seen"] = 1


def _check_requisition(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["stockpile"]
    if data["stockpiles"][sid] >= theme.data["stockpiles"][sid]["max"]:
        return f"the {theme.data['stockpiles'][sid]['name']} store is full"
    return None


@safe_function(
    "requisition",
    "economy",
    "The stockpile gains 10-30 taken from civilians; morale -5; kind NPCs "
    "lose 3 loyalty.",
    (stockpile(),),
    check=_check_requisition,
    gas=1,
    cooldown=3,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def requisition(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, args["stockpile"], ctx.rng("economy").randint(10, 30))
    h.add_morale(ctx, -5)
    for nid in h.present_npcs(ctx):
        if h.has_trait(ctx, nid, "kind"):
            h.shift_loyalty(ctx, nid, -3)
