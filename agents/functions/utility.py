"""Utility functions: story flags, timers, tension, a last stand, and waiting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import flag, integer, safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]


@safe_function(
    "set_flag",
    "utility",
    "Sets a story flag to a value.",
    (flag(), integer("value", 0, 99)),
    gas=0,
    per_turn=6,
)
def set_flag(ctx: Ctx, args: Args) -> None:
    ctx.data["flags"][args["flag"]] = args["value"]


@safe_function(
    "clear_flag",
    "utility",
    "Unsets a story flag (conditions then read it as 0).",
    (flag(),),
    gas=0,
    per_turn=6,
)
def clear_flag(ctx: Ctx, args: Args) -> None:
    ctx.data["flags"].pop(args["flag"], None)


@safe_function(
    "start_timer",
    "utility",
    "Starts a countdown readable in conditions; when it runs out the flag "
    "<name>_done is set to 1.",
    (flag("name"), integer("turns", 1, 20)),
    gas=0,
    per_turn=4,
)
def start_timer(ctx: Ctx, args: Args) -> None:
    ctx.data["timers"][args["name"]] = args["turns"]


@safe_function(
    "adjust_tension",
    "utility",
    "The Director's tension shifts by the amount.",
    (integer("amount", -20, 20),),
    gas=0,
    per_turn=2,
)
def adjust_tension(ctx: Ctx, args: Args) -> None:
    director = ctx.data["director"]
    director["tension"] = min(100, max(0, director["tension"] + args["amount"]))


@safe_function(
    "wait",
    "utility",
    "Nothing happens.",
    (),
    gas=0,
    per_turn=9,
    used_by=("events", "orders"),
)
def wait(ctx: Ctx, args: Args) -> None:
    return None


def _check_last_stand(data: Data, theme: Theme, args: Args) -> str | None:
    if data["flags"].get("last_stand", 0):
        return "the last stand has already been called"
    return None


@safe_function(
    "last_stand",
    "finale",
    "Once a game: every standing structure is guarded (+20) this turn and "
    "morale +15, but every NPC present tires by 25.",
    (),
    check=_check_last_stand,
    gas=4,
    per_turn=1,
)
def last_stand(ctx: Ctx, args: Args) -> None:
    ctx.data["flags"]["last_stand"] = 1
    ctx.note("last_stand")
    for sid in ctx.theme.structure_ids:
        if ctx.data["structures"][sid]["status"] != "collapsed":
            h.add_guard(ctx, sid, 20)
    h.add_morale(ctx, 15)
    for nid in h.present_npcs(ctx):
        h.tire(ctx, nid, 25)


# --- phase 2 additions ----------------------------------------------------


@safe_function(
    "add_flag",
    "utility",
    "A story flag rises by the amount (up to 99); an unset flag counts as 0.",
    (flag(), integer("amount", 1, 9)),
    gas=0,
    per_turn=6,
)
def add_flag(ctx: Ctx, args: Args) -> None:
    flags = ctx.data["flags"]
    flags[args["flag"]] = min(99, flags.get(args["flag"], 0) + args["amount"])


def _running(data: Data, theme: Theme, args: Args) -> str | None:
    if data["timers"].get(args["name"], 0) <= 0:
        return f'no timer "{args["name"]}" is running'
    return None


@safe_function(
    "cancel_timer",
    "utility",
    "A running timer is dropped without setting <name>_done.",
    (flag("name"),),
    check=_running,
    gas=0,
    per_turn=4,
)
def cancel_timer(ctx: Ctx, args: Args) -> None:
    ctx.data["timers"].pop(args["name"], None)


@safe_function(
    "extend_timer",
    "utility",
    "A running timer runs the given turns longer (up to 20 in all).",
    (flag("name"), integer("turns", 1, 5)),
    check=_running,
    gas=0,
    per_turn=4,
)
def extend_timer(ctx: Ctx, args: Args) -> None:
    timers = ctx.data["timers"]
    timers[args["name"]] = min(20, timers[args["name"]] + args["turns"])
