"""Diplomacy functions: messengers, parleys and scouting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import integer, npc, safe_function

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


# --- phase 2 additions ----------------------------------------------------


def _check_terms(data: Data, theme: Theme, args: Args) -> str | None:
    problem = h.npc_absent(data, theme, args["npc"])
    if problem:
        return problem
    if data["enemy"]["strength"] <= 0:
        return "there is no enemy left to offer terms to"
    return None


@safe_function(
    "offer_terms",
    "diplomacy",
    "The NPC offers terms: a wavering enemy (morale 40 or less) loses 10-20% "
    "of its strength to desertion and tension falls 10; a confident one "
    "scorns it (morale -5).",
    (npc(),),
    check=_check_terms,
    gas=2,
    cooldown=3,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def offer_terms(ctx: Ctx, args: Args) -> None:
    envoy = h.name_of(ctx, "npcs", args["npc"])
    enemy = ctx.data["enemy"]
    if enemy["morale"] <= 40:
        share = ctx.rng("diplomacy").randint(10, 20)
        lost = h.hurt_enemy(ctx, enemy["strength"] * share // 100)
        ctx.note("parley", npc=envoy, amount=lost)
        h.shift_tension(ctx, -10)
    else:
        ctx.note("parley", npc=envoy, amount=0)
        h.add_morale(ctx, -5)


@safe_function(
    "exchange_prisoners",
    "diplomacy",
    "Spends 20 wealth on ransom and exchange: garrison +3-8, enemy morale -2.",
    (),
    stock_cost=h.role_cost(wealth=20),
    gas=2,
    cooldown=4,
    per_turn=1,
    used_by=("events", "orders"),
)
def exchange_prisoners(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("wealth"), -20)
    back = h.add_metric(ctx, ctx.role("garrison"), ctx.rng("diplomacy").randint(3, 8))
    if back:
        ctx.note("recruits", amount=back)
    h.shake_enemy(ctx, 2)


def _bribe(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["wealth"]: args["amount"]}


@safe_function(
    "bribe_captain",
    "diplomacy",
    "Spends wealth on an enemy captain: a chance of (amount - 10)% that the "
    "enemy loses amount / 2 to amount strength; otherwise tension +5.",
    (integer("amount", 20, 100),),
    stock_cost=_bribe,
    gas=2,
    cooldown=3,
    per_turn=1,
    used_by=("events", "orders"),
)
def bribe_captain(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("diplomacy")
    amount = args["amount"]
    h.change_stock(ctx, ctx.role("wealth"), -amount)
    if roll.chance(amount - 10):
        h.hurt_enemy(ctx, roll.randint(amount // 2, amount))
    else:
        h.shift_tension(ctx, 5)


@safe_function(
    "sow_dissent",
    "diplomacy",
    "The NPC spreads rumours in the enemy camp: enemy morale -8 to -16 (more "
    "with a cunning NPC); the NPC may be wounded.",
    (npc(),),
    check=_fit,
    gas=2,
    cooldown=2,
    per_turn=1,
    used_by=("events", "characters"),
)
def sow_dissent(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("diplomacy")
    agent = args["npc"]
    drop = roll.randint(8, 16) + (4 if h.has_trait(ctx, agent, "cunning") else 0)
    h.shake_enemy(ctx, drop)
    ctx.note("parley", npc=h.name_of(ctx, "npcs", agent), amount=drop)
    if roll.chance(10 if h.has_trait(ctx, agent, "cautious") else 25):
        h.wound(ctx, agent, roll.randint(10, 30))


@safe_function(
    "request_aid",
    "diplomacy",
    "Spends 20 wealth on a plea to allies: half the time food +30 and "
    "medicine +15 arrive, otherwise flag aid_refused is raised.",
    (),
    stock_cost=h.role_cost(wealth=20),
    gas=2,
    cooldown=4,
    per_turn=1,
    used_by=("events", "orders"),
)
def request_aid(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("wealth"), -20)
    if ctx.rng("diplomacy").chance(50):
        h.change_stock(ctx, ctx.role("food"), 30)
        h.change_stock(ctx, ctx.role("medicine"), 15)
    else:
        ctx.data["flags"]["aid_refused"] = 1


def _check_truce(data: Data, theme: Theme, args: Args) -> str | None:
    problem = h.npc_absent(data, theme, args["npc"])
    if problem:
        return problem
    if data["enemy"]["morale"] >= 70:
        return "the enemy is too sure of itself to agree a truce"
    return None


@safe_function(
    "call_truce",
    "diplomacy",
    "The NPC agrees a day's truce: tension -10, NPCs present rest (fatigue "
    "-10), enemy morale -2; needs enemy morale below 70.",
    (npc(),),
    check=_check_truce,
    gas=2,
    cooldown=5,
    per_turn=1,
    used_by=("events", "characters"),
)
def call_truce(ctx: Ctx, args: Args) -> None:
    ctx.note("parley", npc=h.name_of(ctx, "npcs", args["npc"]), amount=2)
    h.shift_tension(ctx, -10)
    for nid in h.present_npcs(ctx):
        h.tire(ctx, nid, -10)
    h.shake_enemy(ctx, 2)
