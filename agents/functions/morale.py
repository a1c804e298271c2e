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
