"""Structure functions: repairs, reinforcement, barricades, fires and ruin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import integer, safe_function, structure

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]


def _materials(amount: int) -> Any:
    def cost(args: Args, theme: Theme) -> dict[str, int]:
        return {theme.roles["materials"]: amount}

    return cost


def _repair_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["materials"]: (args["amount"] + 1) // 2}


def _check_repair(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["structure"]
    problem = h.structure_fallen(data, theme, sid)
    if problem:
        return problem + "; it must be rebuilt"
    live = data["structures"][sid]
    if live["integrity"] >= live["max"]:
        return f"{theme.data['structures'][sid]['name']} needs no repair"
    return None


@safe_function(
    "repair_structure",
    "structures",
    "Spends materials (1 per 2 points) to restore integrity; "
    "not on a collapsed structure.",
    (structure(), integer("amount", 5, 40)),
    check=_check_repair,
    stock_cost=_repair_cost,
    gas=3,
    per_turn=2,
    used_by=("events", "orders"),
)
def repair_structure(ctx: Ctx, args: Args) -> None:
    sid = args["structure"]
    live = ctx.data["structures"][sid]
    h.add_stock(ctx, ctx.role("materials"), -((args["amount"] + 1) // 2))
    before = live["integrity"]
    h.set_integrity(ctx, sid, before + args["amount"])
    ctx.note(
        "structure_repaired",
        structure=h.name_of(ctx, "structures", sid),
        amount=live["integrity"] - before,
    )


def _check_reinforce(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["structure"]
    problem = h.structure_fallen(data, theme, sid)
    if problem:
        return problem
    if data["structures"][sid]["max"] >= 150:
        return f"{theme.data['structures'][sid]['name']} cannot be made stronger"
    return None


@safe_function(
    "reinforce_structure",
    "structures",
    "Spends 20 materials; raises the structure's maximum by 10 (up to 150).",
    (structure(),),
    check=_check_reinforce,
    stock_cost=_materials(20),
    gas=3,
    cooldown=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def reinforce_structure(ctx: Ctx, args: Args) -> None:
    sid = args["structure"]
    live = ctx.data["structures"][sid]
    h.add_stock(ctx, ctx.role("materials"), -20)
    live["max"] = min(150, live["max"] + 10)
    h.set_integrity(ctx, sid, live["integrity"] + 5)
    ctx.note("structure_reinforced", structure=h.name_of(ctx, "structures", sid))


def _check_standing(data: Data, theme: Theme, args: Args) -> str | None:
    return h.structure_fallen(data, theme, args["structure"])


@safe_function(
    "barricade",
    "structures",
    "Spends 10 materials; guards the structure this turn.",
    (structure(),),
    check=_check_standing,
    stock_cost=_materials(10),
    gas=2,
    per_turn=2,
    used_by=("events", "characters", "orders"),
)
def barricade(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("materials"), -10)
    h.add_guard(ctx, args["structure"], 10)
    ctx.note("barricaded", structure=h.name_of(ctx, "structures", args["structure"]))


def _check_fire(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["structure"]
    if data["structures"][sid]["fire"] <= 0:
        return f"{theme.data['structures'][sid]['name']} is not burning"
    return None


@safe_function(
    "extinguish_fire",
    "structures",
    "Puts out the structure's fire; NPCs on duty tire.",
    (structure(),),
    check=_check_fire,
    gas=2,
    per_turn=2,
    used_by=("events", "characters", "orders"),
)
def extinguish_fire(ctx: Ctx, args: Args) -> None:
    sid = args["structure"]
    ctx.data["structures"][sid]["fire"] = 0
    ctx.note("fire_out", structure=h.name_of(ctx, "structures", sid))
    for nid in h.present_npcs(ctx):
        if ctx.data["npcs"][nid]["duty"] != "rest":
            h.tire(ctx, nid, 5)


def _check_rebuild(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["structure"]
    if data["structures"][sid]["status"] != "collapsed":
        name = theme.data["structures"][sid]["name"]
        return f"{name} has not fallen; there is nothing to rebuild"
    return None


@safe_function(
    "rebuild_structure",
    "structures",
    "Spends 60 materials; a collapsed structure stands again at a third of max.",
    (structure(),),
    check=_check_rebuild,
    stock_cost=_materials(60),
    gas=5,
    cooldown=3,
    per_turn=1,
    used_by=("events", "orders"),
)
def rebuild_structure(ctx: Ctx, args: Args) -> None:
    sid = args["structure"]
    live = ctx.data["structures"][sid]
    h.add_stock(ctx, ctx.role("materials"), -60)
    h.set_integrity(ctx, sid, max(1, live["max"] // 3))
    ctx.note("structure_rebuilt", structure=h.name_of(ctx, "structures", sid))


@safe_function(
    "damage_structure",
    "structures",
    "Integrity falls by the amount.",
    (structure(), integer("amount", 1, 60)),
    check=_check_standing,
    gas=1,
    per_turn=3,
    used_by=("events",),
)
def damage_structure(ctx: Ctx, args: Args) -> None:
    h.damage_structure(ctx, args["structure"], args["amount"])


# --- phase 2 additions ----------------------------------------------------


@safe_function(
    "fortify_all",
    "structures",
    "Spends 30 materials; every structure still standing gains 6 integrity.",
    (),
    stock_cost=h.role_cost(materials=30),
    gas=3,
    cooldown=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def fortify_all(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("materials"), -30)
    for sid in ctx.theme.structure_ids:
        live = ctx.data["structures"][sid]
        if live["status"] != "collapsed" and live["integrity"] < live["max"]:
            h.set_integrity(ctx, sid, live["integrity"] + 6)
            ctx.note(
                "structure_repaired",
                structure=h.name_of(ctx, "structures", sid),
                amount=6,
            )


def _still_standing(data: Data, theme: Theme, args: Args) -> str | None:
    return h.structure_fallen(data, theme, args["structure"])


@safe_function(
    "dig_defences",
    "structures",
    "Spends 15 materials on ditches and stakes: the structure is guarded "
    "+15 this turn.",
    (structure(),),
    check=_still_standing,
    stock_cost=h.role_cost(materials=15),
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def dig_defences(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("materials"), -15)
    h.add_guard(ctx, args["structure"], 15)
    ctx.note("barricaded", structure=h.name_of(ctx, "structures", args["structure"]))


def _check_breach(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["structure"]
    status = data["structures"][sid]["status"]
    name = theme.data["structures"][sid]["name"]
    if status == "collapsed":
        return f"{name} has collapsed"
    if status != "damaged":
        return f"{name} has no breach to patch"
    return None


@safe_function(
    "patch_breach",
    "structures",
    "Spends 10 materials; a damaged (not collapsed) structure gains 15 integrity.",
    (structure(),),
    check=_check_breach,
    stock_cost=h.role_cost(materials=10),
    gas=1,
    per_turn=2,
    used_by=("events", "characters", "orders"),
)
def patch_breach(ctx: Ctx, args: Args) -> None:
    sid = args["structure"]
    h.change_stock(ctx, ctx.role("materials"), -10)
    h.set_integrity(ctx, sid, ctx.data["structures"][sid]["integrity"] + 15)
    ctx.note(
        "structure_repaired", structure=h.name_of(ctx, "structures", sid), amount=15
    )


def _check_demolish(data: Data, theme: Theme, args: Args) -> str | None:
    sid = args["structure"]
    if sid == theme.roles["keep"]:
        return f"{theme.data['structures'][sid]['name']} cannot be torn down"
    return h.structure_fallen(data, theme, sid)


@safe_function(
    "demolish_structure",
    "structures",
    "Tears down a structure that is not the keep (a firebreak, or stone for "
    "elsewhere): it collapses, materials gain a third of its integrity, "
    "morale -3.",
    (structure(),),
    check=_check_demolish,
    gas=2,
    cooldown=3,
    per_turn=1,
    used_by=("events",),
)
def demolish_structure(ctx: Ctx, args: Args) -> None:
    sid = args["structure"]
    salvaged = ctx.data["structures"][sid]["integrity"] // 3
    h.set_integrity(ctx, sid, 0)
    h.change_stock(ctx, ctx.role("materials"), salvaged)
    h.add_morale(ctx, -3)
