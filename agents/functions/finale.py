"""Finale functions: the large, mostly once-a-game strokes of a siege's end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import integer, safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]


def _check_relief(data: Data, theme: Theme, args: Args) -> str | None:
    if not data["flags"].get("relief_called", 0):
        return "no relief has been called"
    return h.once("relief_arrived", "the relief column")(data, theme, args)


@safe_function(
    "relief_column",
    "finale",
    "Once a game, after relief is called (flag relief_called): the enemy loses "
    "25-40% of its strength and 20 morale; morale +15.",
    (),
    check=_check_relief,
    gas=3,
    per_turn=1,
    used_by=("events", "orders"),
)
def relief_column(ctx: Ctx, args: Args) -> None:
    ctx.data["flags"]["relief_arrived"] = 1
    share = ctx.rng("finale").randint(25, 40)
    h.hurt_enemy(ctx, ctx.data["enemy"]["strength"] * share // 100)
    h.shake_enemy(ctx, 20)
    h.add_morale(ctx, 15)


@safe_function(
    "final_assault",
    "finale",
    "Everything at once: every standing structure takes force minus its "
    "guard, halved; the garrison loses force / 10.",
    (integer("force", 1, 60),),
    gas=0,
    per_turn=1,
    used_by=("world",),
)
def final_assault(ctx: Ctx, args: Args) -> None:
    force = args["force"]
    for sid in ctx.theme.structure_ids:
        if ctx.data["structures"][sid]["status"] != "collapsed":
            h.damage_structure(ctx, sid, max(0, force - h.guard_of(ctx, sid)) // 2)
    h.lose_garrison(ctx, force // 10)


@safe_function(
    "evacuate_civilians",
    "finale",
    "Once a game the civilians are sent to safety: garrison -5 (escorts), "
    "morale +10, tension -5; raises flag civilians_evacuated.",
    (),
    check=h.once("civilians_evacuated", "the evacuation"),
    gas=3,
    per_turn=1,
    used_by=("events", "orders"),
)
def evacuate_civilians(ctx: Ctx, args: Args) -> None:
    ctx.data["flags"]["civilians_evacuated"] = 1
    h.lose_garrison(ctx, 5)
    h.add_morale(ctx, 10)
    h.shift_tension(ctx, -5)


@safe_function(
    "burn_the_stores",
    "finale",
    "Once a game, leave the enemy nothing: food and fuel are halved; enemy "
    "morale -25 and strength -5 to -15.",
    (),
    check=h.once("stores_burned", "burning the stores"),
    gas=3,
    per_turn=1,
    used_by=("events",),
)
def burn_the_stores(ctx: Ctx, args: Args) -> None:
    ctx.data["flags"]["stores_burned"] = 1
    for role in ("food", "fuel"):
        sid = ctx.role(role)
        h.change_stock(ctx, sid, -(ctx.data["stockpiles"][sid] // 2))
    h.shake_enemy(ctx, 25)
    h.hurt_enemy(ctx, ctx.rng("finale").randint(5, 15))


def _keep_standing(data: Data, theme: Theme, args: Args) -> str | None:
    return h.structure_fallen(data, theme, theme.roles["keep"])


@safe_function(
    "hold_the_line",
    "finale",
    "Every hand to the keep: it is guarded +30 this turn; NPCs present tire by 15.",
    (),
    check=_keep_standing,
    gas=3,
    cooldown=3,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def hold_the_line(ctx: Ctx, args: Args) -> None:
    keep = ctx.role("keep")
    h.add_guard(ctx, keep, 30)
    ctx.note("barricaded", structure=h.name_of(ctx, "structures", keep))
    for nid in h.present_npcs(ctx):
        h.tire(ctx, nid, 15)


def _check_fall_back(data: Data, theme: Theme, args: Args) -> str | None:
    return _keep_standing(data, theme, args) or h.once(
        "fell_back", "falling back to the keep"
    )(data, theme, args)


@safe_function(
    "fall_back_to_keep",
    "finale",
    "Once a game the outer works are abandoned for the keep: it gains 20 "
    "integrity; morale -8.",
    (),
    check=_check_fall_back,
    gas=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def fall_back_to_keep(ctx: Ctx, args: Args) -> None:
    ctx.data["flags"]["fell_back"] = 1
    keep = ctx.role("keep")
    h.set_integrity(ctx, keep, ctx.data["structures"][keep]["integrity"] + 20)
    ctx.note(
        "structure_repaired", structure=h.name_of(ctx, "structures", keep), amount=20
    )
    h.add_morale(ctx, -8)
