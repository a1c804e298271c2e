"""Morale functions: speeches, rallies, feasts and vigils."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import integer, npc, safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]


def _check_speaker(data: Data, theme: Theme, args: Args) -> str | None:
    return h.npc_absent(data, theme, args["npc"])


@safe_function(
    "npc_speech",
    "morale",
    "The NPC addresses the garrison: morale rises by their loyalty / 10.",
    (npc(),),
    check=_check_speaker,
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters"),
)
def npc_speech(ctx: Ctx, args: Args) -> None:
    h.add_morale(ctx, ctx.data["npcs"][args["npc"]]["loyalty"] // 10)


@safe_function(
    "rally_troops",
    "morale",
    "Morale +8; every active NPC tires by 5.",
    (),
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "orders"),
)
def rally_troops(ctx: Ctx, args: Args) -> None:
    h.add_morale(ctx, 8)
    for nid in h.present_npcs(ctx):
        h.tire(ctx, nid, 5)


def _food(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["food"]: args["food"]}


@safe_function(
    "hold_feast",
    "morale",
    "Spends food; morale rises by a quarter of it.",
    (integer("food", 10, 80),),
    stock_cost=_food,
    gas=2,
    cooldown=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def hold_feast(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("food"), -args["food"])
    h.add_morale(ctx, args["food"] // 4)


@safe_function(
    "adjust_morale",
    "morale",
    "Morale changes by the amount.",
    (integer("amount", -30, 30),),
    gas=1,
    per_turn=3,
)
def adjust_morale(ctx: Ctx, args: Args) -> None:
    h.add_morale(ctx, args["amount"])


@safe_function(
    "hold_vigil",
    "morale",
    "Morale +4 and tension -5; the pious grow more loyal.",
    (),
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters"),
)
def hold_vigil(ctx: Ctx, args: Args) -> None:
    ctx.note("vigil")
    h.add_morale(ctx, 4)
    director = ctx.data["director"]
    director["tension"] = max(0, director["tension"] - 5)
    for nid in h.present_npcs(ctx):
        if h.has_trait(ctx, nid, "pious"):
            h.shift_loyalty(ctx, nid, 3)


# --- phase 2 additions ----------------------------------------------------


@safe_function(
    "tell_stories",
    "morale",
    "Old stories round the fires: morale +3, tension -2.",
    (),
    gas=1,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def tell_stories(ctx: Ctx, args: Args) -> None:
    h.add_morale(ctx, 3)
    h.shift_tension(ctx, -2)


@safe_function(
    "honour_the_fallen",
    "morale",
    "The lost are remembered: morale rises by 3 per NPC lost (at least 4, "
    "at most 15); tension -3.",
    (),
    gas=1,
    cooldown=3,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def honour_the_fallen(ctx: Ctx, args: Args) -> None:
    ctx.note("vigil")
    h.add_morale(ctx, min(15, max(4, 3 * h.npcs_lost(ctx.data))))
    h.shift_tension(ctx, -3)


def _wealth(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["wealth"]: args["amount"]}


@safe_function(
    "share_wealth",
    "morale",
    "Spends wealth among the defenders: morale + amount / 5; greedy NPCs "
    "gain 3 loyalty.",
    (integer("amount", 10, 60),),
    stock_cost=_wealth,
    gas=1,
    cooldown=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def share_wealth(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("wealth"), -args["amount"])
    h.add_morale(ctx, args["amount"] // 5)
    for nid in h.present_npcs(ctx):
        if h.has_trait(ctx, nid, "greedy"):
            h.shift_loyalty(ctx, nid, 3)


@safe_function(
    "raise_banner",
    "morale",
    "The colours go up where the enemy can see them: morale +5, enemy morale -3.",
    (),
    gas=1,
    cooldown=2,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def raise_banner(ctx: Ctx, args: Args) -> None:
    h.add_morale(ctx, 5)
    h.shake_enemy(ctx, 3)
