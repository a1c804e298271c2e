"""Anomaly functions: the uncanny, told by each theme as its own omens or faults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import integer, safe_function, stockpile

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]


@safe_function(
    "anomaly_surge",
    "anomaly",
    "The theme's anomaly flares; by a roll: morale + amount / 2, or a "
    "standing structure takes amount damage, or enemy morale - amount.",
    (integer("amount", 1, 20),),
    gas=1,
    cooldown=1,
    per_turn=1,
)
def anomaly_surge(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("anomaly")
    amount = args["amount"]
    ctx.note("omen", amount=amount)
    pick = roll.below(3)
    standing = [
        sid
        for sid in ctx.theme.structure_ids
        if ctx.data["structures"][sid]["status"] != "collapsed"
    ]
    if pick == 1 and standing:
        h.damage_structure(ctx, roll.choice(standing), amount)
    elif pick == 2:
        h.shake_enemy(ctx, amount)
    else:
        h.add_morale(ctx, amount // 2)


@safe_function(
    "eclipse",
    "anomaly",
    "The light fails at noon: tension +8, enemy morale -5 to -10, morale -3 "
    "(or +3 with a pious NPC present).",
    (),
    gas=1,
    cooldown=4,
    per_turn=1,
)
def eclipse(ctx: Ctx, args: Args) -> None:
    ctx.note("omen", amount=8)
    h.shift_tension(ctx, 8)
    h.shake_enemy(ctx, ctx.rng("anomaly").randint(5, 10))
    h.add_morale(ctx, 3 if h.any_trait(ctx, "pious") else -3)


@safe_function(
    "ghost_sighting",
    "anomaly",
    "Something is seen that should not be: morale - amount, halved with a "
    "brave NPC present.",
    (integer("amount", 1, 15),),
    gas=1,
    cooldown=1,
    per_turn=1,
)
def ghost_sighting(ctx: Ctx, args: Args) -> None:
    ctx.note("omen", amount=args["amount"])
    loss = args["amount"] // 2 if h.any_trait(ctx, "brave") else args["amount"]
    h.add_morale(ctx, -loss)


@safe_function(
    "relic_power",
    "anomaly",
    "Once a game the theme's relic, device or cure is used: NPCs present "
    "heal 20 and morale +6.",
    (),
    check=h.once("relic_used", "the relic's power"),
    gas=3,
    per_turn=1,
    used_by=("events", "orders"),
)
def relic_power(ctx: Ctx, args: Args) -> None:
    ctx.data["flags"]["relic_used"] = 1
    ctx.note("omen", amount=6)
    for nid in h.present_npcs(ctx):
        h.heal(ctx, nid, 20)
    h.add_morale(ctx, 6)


def _check_windfall(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["stockpile"]
    if data["stockpiles"][sid] >= theme.data["stockpiles"][sid]["max"]:
        return f"the {theme.data['stockpiles'][sid]['name']} store is full"
    return None


@safe_function(
    "uncanny_windfall",
    "anomaly",
    "The stockpile gains amount from nowhere anyone can explain.",
    (stockpile(), integer("amount", 5, 40)),
    check=_check_windfall,
    gas=1,
    cooldown=2,
    per_turn=1,
)
def uncanny_windfall(ctx: Ctx, args: Args) -> None:
    ctx.note("omen", amount=args["amount"])
    h.change_stock(ctx, args["stockpile"], args["amount"])
