"""NPC functions: duties, rest and healing, loyalty, wounds and desertion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import choice, integer, npc, safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]

DUTIES = ("walls", "gate", "infirmary", "stores", "workshop", "rest")


def _present(data: Data, theme: Theme, args: Args) -> str | None:
    return h.npc_absent(data, theme, args["npc"])


def _check_duty(data: Data, theme: Theme, args: Args) -> str | None:
    problem = _present(data, theme, args)
    if problem:
        return problem
    if data["npcs"][args["npc"]]["duty"] == args["duty"]:
        return f"{theme.data['npcs'][args['npc']]['name']} already has that duty"
    return None


@safe_function(
    "assign_duty",
    "npcs",
    "Sets the NPC's duty.",
    (npc(), choice("duty", *DUTIES)),
    check=_check_duty,
    gas=1,
    per_turn=4,
    used_by=("events", "orders"),
)
def assign_duty(ctx: Ctx, args: Args) -> None:
    ctx.data["npcs"][args["npc"]]["duty"] = args["duty"]
    ctx.note(
        "duty_assigned", npc=h.name_of(ctx, "npcs", args["npc"]), duty=args["duty"]
    )


def _check_rest(data: Data, theme: Theme, args: Args) -> str | None:
    problem = _present(data, theme, args)
    if problem:
        return problem
    if data["npcs"][args["npc"]]["fatigue"] <= 0:
        return f"{theme.data['npcs'][args['npc']]['name']} is not tired"
    return None


@safe_function(
    "rest_npc",
    "npcs",
    "Fatigue falls by 30.",
    (npc(),),
    check=_check_rest,
    gas=1,
    per_turn=3,
    used_by=("events", "characters", "orders"),
)
def rest_npc(ctx: Ctx, args: Args) -> None:
    h.tire(ctx, args["npc"], -30)
    ctx.note("npc_rested", npc=h.name_of(ctx, "npcs", args["npc"]))


def _medicine(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["medicine"]: 10}


def _check_heal(data: Data, theme: Theme, args: Args) -> str | None:
    problem = _present(data, theme, args)
    if problem:
        return problem
    if data["npcs"][args["npc"]]["health"] >= 100:
        return f"{theme.data['npcs'][args['npc']]['name']} is not hurt"
    return None


@safe_function(
    "heal_npc",
    "npcs",
    "Spends 10 medicine; health +30; a wounded NPC above 60 health is active again.",
    (npc(),),
    check=_check_heal,
    stock_cost=_medicine,
    gas=2,
    per_turn=2,
    used_by=("events", "characters", "orders"),
)
def heal_npc(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("medicine"), -10)
    h.heal(ctx, args["npc"], 30)


@safe_function(
    "encourage_npc",
    "npcs",
    "Loyalty rises by the amount.",
    (npc(), integer("amount", 1, 20)),
    check=_present,
    gas=1,
    per_turn=3,
)
def encourage_npc(ctx: Ctx, args: Args) -> None:
    h.shift_loyalty(ctx, args["npc"], args["amount"])
    ctx.note("npc_encouraged", npc=h.name_of(ctx, "npcs", args["npc"]))


@safe_function(
    "rebuke_npc",
    "npcs",
    "Loyalty falls by the amount (twice that for the stubborn); "
    "discipline lifts morale a little.",
    (npc(), integer("amount", 1, 20)),
    check=_present,
    gas=1,
    per_turn=3,
)
def rebuke_npc(ctx: Ctx, args: Args) -> None:
    loss = args["amount"] * (2 if h.has_trait(ctx, args["npc"], "stubborn") else 1)
    h.shift_loyalty(ctx, args["npc"], -loss)
    ctx.note("npc_rebuked", npc=h.name_of(ctx, "npcs", args["npc"]))
    h.add_morale(ctx, args["amount"] // 4)


def _wealth(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["wealth"]: args["amount"]}


@safe_function(
    "reward_npc",
    "npcs",
    "Spends wealth; loyalty rises by a third of it (a half for the greedy).",
    (npc(), integer("amount", 5, 50)),
    check=_present,
    stock_cost=_wealth,
    gas=1,
    per_turn=2,
    used_by=("events", "orders"),
)
def reward_npc(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("wealth"), -args["amount"])
    share = 2 if h.has_trait(ctx, args["npc"], "greedy") else 3
    h.shift_loyalty(ctx, args["npc"], args["amount"] // share)
    ctx.note("npc_rewarded", npc=h.name_of(ctx, "npcs", args["npc"]))


@safe_function(
    "wound_npc",
    "npcs",
    "Health falls by the amount; at 0 the NPC dies.",
    (npc(), integer("amount", 1, 80)),
    check=_present,
    gas=1,
    per_turn=3,
)
def wound_npc(ctx: Ctx, args: Args) -> None:
    h.wound(ctx, args["npc"], args["amount"])


@safe_function(
    "tire_npc",
    "npcs",
    "Fatigue rises by the amount.",
    (npc(), integer("amount", 1, 50)),
    check=_present,
    gas=1,
    per_turn=3,
)
def tire_npc(ctx: Ctx, args: Args) -> None:
    h.tire(ctx, args["npc"], args["amount"])


def _food_per_head(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["food"]: args["count"] // 5}


@safe_function(
    "recruit_townsfolk",
    "npcs",
    "Garrison grows by the count; food is eaten faster from now on; morale -2.",
    (integer("count", 5, 50),),
    stock_cost=_food_per_head,
    gas=3,
    cooldown=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def recruit_townsfolk(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("food"), -(args["count"] // 5))
    h.add_metric(ctx, ctx.role("garrison"), args["count"])
    h.add_morale(ctx, -2)
    ctx.note("recruits", amount=args["count"])


def _check_desert(data: Data, theme: Theme, args: Args) -> str | None:
    problem = _present(data, theme, args)
    if problem:
        return problem
    if data["npcs"][args["npc"]]["loyalty"] >= 25:
        return f"{theme.data['npcs'][args['npc']]['name']} is still loyal enough"
    return None


@safe_function(
    "npc_desert",
    "npcs",
    "An NPC whose loyalty is below 25 slips away for good; the greedy take "
    "some wealth with them.",
    (npc(),),
    check=_check_desert,
    gas=0,
    per_turn=1,
    used_by=("characters",),
)
def npc_desert(ctx: Ctx, args: Args) -> None:
    nid = args["npc"]
    ctx.data["npcs"][nid]["status"] = "deserted"
    ctx.note("npc_deserted", npc=h.name_of(ctx, "npcs", nid))
    if h.has_trait(ctx, nid, "greedy"):
        taken = -h.add_stock(ctx, ctx.role("wealth"), -15)
        if taken:
            name = h.name_of(ctx, "stockpiles", ctx.role("wealth"))
            ctx.note("stock_lost", stockpile=name, amount=taken)
    h.add_morale(ctx, -3)
