"""NPC fates beyond wounds and death: capture by the enemy, and ways home.

A captured NPC is out of play (cannot act, speak or be ordered) but not lost
for good: ransom, rescue or a prisoner exchange can bring them back, and the
story keeps flags (`captured_<id>`, `freed_<id>`) that scenes and endings read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import integer, npc, safe_function

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]

RANSOM = 40
# Turns in enemy hands after which every turn risks the captive's life.
PATIENCE = 4
# Leaders of dangerous work outside the walls may be taken: note key -> odds.
EXPOSED = {"sortie": 10, "scouted": 8}


def _check_capture(data: Data, theme: Theme, args: Args) -> str | None:
    # Riders abroad can be caught too, so being away is no protection.
    status = data["npcs"][args["npc"]]["status"]
    if status not in h.PRESENT:
        return f"{theme.data['npcs'][args['npc']]['name']} is {status}"
    return None


def _check_captive(data: Data, theme: Theme, args: Args) -> str | None:
    if data["npcs"][args["npc"]]["status"] != "captured":
        name = theme.data["npcs"][args["npc"]]["name"]
        return f"{name} is not held by the enemy"
    return None


def _capture(ctx: Ctx, nid: str) -> None:
    """Take an NPC prisoner (effect helper; the caller has validated)."""
    npc = ctx.data["npcs"][nid]
    npc["status"] = "captured"
    npc["away"] = 0
    npc["captive_turns"] = 0
    ctx.data["flags"][f"captured_{nid}"] = 1
    ctx.note("npc_captured", npc=h.name_of(ctx, "npcs", nid))
    h.add_morale(ctx, -4)


def _free(ctx: Ctx, nid: str, how: str) -> None:
    npc = ctx.data["npcs"][nid]
    npc["status"] = "active" if npc["health"] > 60 else "wounded"
    npc.pop("captive_turns", None)
    npc["duty"] = "rest"
    ctx.data["flags"][f"freed_{nid}"] = 1
    ctx.note(how, npc=h.name_of(ctx, "npcs", nid))


@safe_function(
    "capture_npc",
    "npcs",
    "The enemy takes the NPC (present or riding abroad) prisoner: out of "
    "play until ransomed, rescued or exchanged; morale -4; sets flag "
    "captured_<npc>.",
    (npc(),),
    check=_check_capture,
    gas=0,
    per_turn=1,
    used_by=("events", "world"),
)
def capture_npc(ctx: Ctx, args: Args) -> None:
    _capture(ctx, args["npc"])


def _ransom_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["wealth"]: RANSOM}


@safe_function(
    "ransom_npc",
    "npcs",
    f"Pays {RANSOM} wealth to buy a captive back; the captive's loyalty "
    "rises by 10; sets flag freed_<npc>.",
    (npc(),),
    check=_check_captive,
    stock_cost=_ransom_cost,
    gas=2,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def ransom_npc(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("wealth"), -RANSOM)
    h.shift_loyalty(ctx, args["npc"], 10)
    _free(ctx, args["npc"], "npc_ransomed")


def _check_rescue(data: Data, theme: Theme, args: Args) -> str | None:
    problem = _check_captive(data, theme, args)
    if problem:
        return problem
    garrison = data["metrics"][theme.roles["garrison"]]
    if garrison < args["troops"] + 10:
        return f"the garrison of {garrison} cannot spare {args['troops']} troops"
    return None


@safe_function(
    "rescue_npc",
    "npcs",
    "A night raid to free a captive: odds grow with the troops sent and "
    "the enemy's low morale; troops may be lost, and a failed raid may cost "
    "the captive's life.",
    (npc(), integer("troops", 5, 40)),
    check=_check_rescue,
    gas=3,
    cooldown=2,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def rescue_npc(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("fates")
    nid = args["npc"]
    troops = args["troops"]
    odds = 30 + troops + (50 - ctx.data["enemy"]["morale"]) // 2
    if roll.chance(max(10, min(85, odds))):
        h.lose_garrison(ctx, roll.randint(0, troops // 5))
        h.shift_loyalty(ctx, nid, 15)
        h.add_morale(ctx, 5)
        _free(ctx, nid, "npc_rescued")
        return
    h.lose_garrison(ctx, roll.randint(troops // 4, troops // 2 + 1))
    ctx.note("rescue_failed", npc=h.name_of(ctx, "npcs", nid))
    if roll.chance(25):
        _execute(ctx, nid)


def _check_exchange(data: Data, theme: Theme, args: Args) -> str | None:
    problem = _check_captive(data, theme, args)
    if problem:
        return problem
    if data["enemy"]["strength"] <= 0:
        return "there is no enemy left to bargain with"
    return None


@safe_function(
    "exchange_captive",
    "diplomacy",
    "Trades enemy prisoners for a captive: the captive comes home, the "
    "enemy regains 25 strength and 5 morale.",
    (npc(),),
    check=_check_exchange,
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def exchange_captive(ctx: Ctx, args: Args) -> None:
    enemy = ctx.data["enemy"]
    enemy["strength"] += 25
    enemy["morale"] = min(100, enemy["morale"] + 5)
    _free(ctx, args["npc"], "npc_exchanged")


def _execute(ctx: Ctx, nid: str) -> None:
    npc = ctx.data["npcs"][nid]
    npc["status"] = "dead"
    npc["health"] = 0
    npc.pop("captive_turns", None)
    ctx.note("captive_killed", npc=h.name_of(ctx, "npcs", nid))
    h.add_morale(ctx, -5)


@safe_function(
    "captivity_tick",
    "upkeep",
    "Leaders of a sally or a scouting run may be taken by a roll; captives "
    "weaken in enemy hands, and after a few turns the enemy may kill them.",
    gas=0,
    per_turn=1,
    used_by=("upkeep",),
)
def captivity_tick(ctx: Ctx, args: Args) -> None:
    names = {h.name_of(ctx, "npcs", nid): nid for nid in ctx.theme.npc_ids}
    for note in list(ctx.notes):
        odds = EXPOSED.get(note["key"])
        nid = names.get(str(note.get("npc")))
        if odds is None or nid is None:
            continue
        npc = ctx.data["npcs"][nid]
        if npc["status"] not in h.PRESENT:
            continue
        # A leader already wounded out there is easier to drag off.
        if npc["status"] == "wounded":
            odds *= 2
        if h.has_trait(ctx, nid, "cunning"):
            odds //= 2
        if ctx.rng(f"npc:{nid}").chance(odds):
            _capture(ctx, nid)

    for nid in ctx.theme.npc_ids:
        npc = ctx.data["npcs"][nid]
        if npc["status"] != "captured":
            continue
        npc["captive_turns"] = npc.get("captive_turns", 0) + 1
        npc["health"] = max(1, npc["health"] - 3)
        held = npc["captive_turns"]
        if held > PATIENCE and ctx.rng(f"npc:{nid}").chance(5 * (held - PATIENCE)):
            _execute(ctx, nid)
