"""Diplomacy functions: messengers, parleys and scouting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import npc, safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]

MESSENGER_TURNS = 4


def _fit(data: Data, theme: Theme, args: Args) -> str | None:
    return h.npc_unfit(data, theme, args["npc"])


@safe_function(
    "send_messenger",
    "diplomacy",
    "The NPC rides for relief and is away for 4 turns; on return the flag "
    "relief_called may be raised (or the rider may be lost).",
    (npc(),),
    check=_fit,
    gas=3,
    cooldown=4,
    per_turn=1,
    used_by=("events", "orders"),
)
def send_messenger(ctx: Ctx, args: Args) -> None:
    ctx.data["npcs"][args["npc"]]["away"] = MESSENGER_TURNS
    ctx.note("npc_departed", npc=h.name_of(ctx, "npcs", args["npc"]))


def _check_parley(data: Data, theme: Theme, args: Args) -> str | None:
    problem = _fit(data, theme, args)
    if problem:
        return problem
    if data["enemy"]["morale"] <= 0:
        return "the enemy has no will left to bargain with"
    return None


@safe_function(
    "parley",
    "diplomacy",
    "The NPC parleys under a white flag: enemy morale falls by 5-15; the "
    "envoy's loyalty may suffer.",
    (npc(),),
    check=_check_parley,
    gas=2,
    cooldown=2,
    per_turn=1,
    used_by=("events",),
)
def parley(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("diplomacy")
    envoy = args["npc"]
    drop = roll.randint(5, 15)
    if h.has_trait(ctx, envoy, "cunning"):
        drop += 3
    h.shake_enemy(ctx, drop)
    ctx.note("parley", npc=h.name_of(ctx, "npcs", envoy), amount=drop)
    if roll.chance(15 if h.has_trait(ctx, envoy, "cunning") else 30):
        h.shift_loyalty(ctx, envoy, -10)


@safe_function(
    "scout_enemy",
    "diplomacy",
    "The NPC scouts the enemy camp: raises flag enemy_scouted and eases "
    "tension; the scout risks a wound.",
    (npc(),),
    check=_fit,
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters"),
)
def scout_enemy(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("diplomacy")
    scout = args["npc"]
    ctx.data["flags"]["enemy_scouted"] = 1
    director = ctx.data["director"]
    director["tension"] = max(0, director["tension"] - 3)
    h.tire(ctx, scout, 10)
    ctx.note("scouted", npc=h.name_of(ctx, "npcs", scout))
    odds = 10 if h.has_trait(ctx, scout, "cautious") else 20
    if roll.chance(odds):
        h.wound(ctx, scout, roll.randint(10, 35))
