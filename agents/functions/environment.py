"""Environment functions: fire, weather and disease."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import choice, integer, safe_function, structure

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]

WEATHERS = ("clear", "rain", "fog", "storm", "heat")


def _check_ignite(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["structure"]
    problem = h.structure_fallen(data, theme, sid)
    if problem:
        return problem
    if data["structures"][sid]["fire"] >= 5:
        return f"{theme.data['structures'][sid]['name']} is already ablaze"
    return None


@safe_function(
    "ignite_structure",
    "environment",
    "Sets the structure alight, or feeds a fire already burning (up to 5).",
    (structure(), integer("intensity", 1, 5)),
    check=_check_ignite,
    gas=1,
    per_turn=2,
    used_by=("events", "world"),
)
def ignite_structure(ctx: Ctx, args: Args) -> None:
    live = ctx.data["structures"][args["structure"]]
    live["fire"] = min(5, live["fire"] + args["intensity"])
    ctx.note("fire_started", structure=h.name_of(ctx, "structures", args["structure"]))


def _check_weather(data: Data, theme: Theme, args: Args) -> str | None:
    if data["world"]["weather"] == args["weather"]:
        return f"the weather is already {args['weather']}"
    return None


@safe_function(
    "change_weather",
    "environment",
    "Sets the weather.",
    (choice("weather", *WEATHERS),),
    check=_check_weather,
    gas=1,
    per_turn=1,
    used_by=("events", "world"),
)
def change_weather(ctx: Ctx, args: Args) -> None:
    ctx.data["world"]["weather"] = args["weather"]
    ctx.note("weather_changed", weather=args["weather"])


@safe_function(
    "spread_disease",
    "environment",
    "Disease rises by the amount; while it lasts it costs garrison each turn.",
    (integer("amount", 1, 30),),
    gas=1,
    per_turn=2,
    used_by=("events", "world"),
)
def spread_disease(ctx: Ctx, args: Args) -> None:
    world = ctx.data["world"]
    world["disease"] = min(100, world["disease"] + args["amount"])
    ctx.note("disease_spread", amount=args["amount"])


def _treat_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["medicine"]: args["amount"]}


def _check_treat(data: Data, theme: Theme, args: Args) -> str | None:
    if data["world"]["disease"] <= 0:
        return "there is no sickness to treat"
    return None


@safe_function(
    "treat_disease",
    "environment",
    "Spends medicine (1 per point); disease falls by twice the amount.",
    (integer("amount", 1, 30),),
    check=_check_treat,
    stock_cost=_treat_cost,
    gas=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def treat_disease(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("medicine"), -args["amount"])
    world = ctx.data["world"]
    world["disease"] = max(0, world["disease"] - 2 * args["amount"])
    ctx.note("disease_treated", amount=args["amount"])


def _omen_check(data: Data, theme: Theme, args: Args) -> str | None:
    return None


@safe_function(
    "strange_omen",
    "anomaly",
    "Something uncanny is seen: by a roll, morale swings up or down by up to "
    "the amount, more kindly for the pious.",
    (integer("amount", 1, 15),),
    check=_omen_check,
    gas=1,
    cooldown=2,
    per_turn=1,
)
def strange_omen(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("omen")
    pious = sum(1 for nid in h.present_npcs(ctx) if h.has_trait(ctx, nid, "pious"))
    swing = roll.randint(-args["amount"], args["amount"]) + 2 * pious
    h.add_morale(ctx, max(-args["amount"], min(args["amount"], swing)))
    ctx.note("omen", amount=abs(swing))


# --- phase 2 additions ----------------------------------------------------


@safe_function(
    "flood",
    "environment",
    "Water breaks in: the structure loses amount / 2 and its fire goes out; "
    "food loses amount.",
    (structure(), integer("amount", 1, 40)),
    gas=1,
    per_turn=1,
    used_by=("events", "world"),
)
def flood(ctx: Ctx, args: Args) -> None:
    sid = args["structure"]
    live = ctx.data["structures"][sid]
    if live["fire"]:
        live["fire"] = 0
        ctx.note("fire_out", structure=h.name_of(ctx, "structures", sid))
    h.damage_structure(ctx, sid, args["amount"] // 2)
    h.change_stock(ctx, ctx.role("food"), -args["amount"])


@safe_function(
    "earth_tremor",
    "environment",
    "The ground shakes: every standing structure loses amount / 2 to amount.",
    (integer("amount", 1, 30),),
    gas=1,
    cooldown=2,
    per_turn=1,
    used_by=("events", "world"),
)
def earth_tremor(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("environment")
    for sid in ctx.theme.structure_ids:
        if ctx.data["structures"][sid]["status"] != "collapsed":
            h.damage_structure(
                ctx, sid, roll.randint(args["amount"] // 2, args["amount"])
            )


@safe_function(
    "heatwave",
    "environment",
    "The weather turns to heat: NPCs present tire by amount and food spoils by amount.",
    (integer("amount", 1, 20),),
    gas=1,
    cooldown=2,
    per_turn=1,
    used_by=("events", "world"),
)
def heatwave(ctx: Ctx, args: Args) -> None:
    world = ctx.data["world"]
    if world["weather"] != "heat":
        world["weather"] = "heat"
        ctx.note("weather_changed", weather="heat")
    for nid in h.present_npcs(ctx):
        h.tire(ctx, nid, args["amount"])
    h.change_stock(ctx, ctx.role("food"), -args["amount"])


@safe_function(
    "cold_snap",
    "environment",
    "The weather turns to storm and fuel burns by amount; whatever fuel is "
    "short costs morale (a third of it) and spreads disease (a fifth).",
    (integer("amount", 1, 30),),
    gas=1,
    cooldown=2,
    per_turn=1,
    used_by=("events", "world"),
)
def cold_snap(ctx: Ctx, args: Args) -> None:
    world = ctx.data["world"]
    if world["weather"] != "storm":
        world["weather"] = "storm"
        ctx.note("weather_changed", weather="storm")
    burned = -h.change_stock(ctx, ctx.role("fuel"), -args["amount"])
    short = args["amount"] - burned
    if short:
        h.add_morale(ctx, -(short // 3))
        sick = short // 5
        if sick:
            world["disease"] = min(100, world["disease"] + sick)
            ctx.note("disease_spread", amount=sick)


def _check_sickness(data: Data, theme: Theme, args: Args) -> str | None:
    if data["world"]["disease"] <= 0:
        return "there is no sickness to fight"
    return None


@safe_function(
    "purify_water",
    "environment",
    "Spends 10 fuel boiling water and burning refuse: disease -10.",
    (),
    check=_check_sickness,
    stock_cost=h.role_cost(fuel=10),
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def purify_water(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("fuel"), -10)
    world = ctx.data["world"]
    world["disease"] = max(0, world["disease"] - 10)
    ctx.note("disease_treated", amount=10)


@safe_function(
    "quarantine_sick",
    "environment",
    "The sick are shut away: disease -10 to -20, garrison -2, morale -3.",
    (),
    check=_check_sickness,
    gas=2,
    cooldown=2,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def quarantine_sick(ctx: Ctx, args: Args) -> None:
    drop = ctx.rng("environment").randint(10, 20)
    world = ctx.data["world"]
    world["disease"] = max(0, world["disease"] - drop)
    ctx.note("disease_treated", amount=drop)
    h.lose_garrison(ctx, 2)
    h.add_morale(ctx, -3)
