"""Combat functions: the garrison's blows and the enemy's (World) attacks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.functions import helpers as h
from agents.functions.registry import integer, npc, safe_function, stockpile, structure

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Data = dict[str, Any]
Args = dict[str, Any]


def _ammo_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["ammo"]: 20 * args["volleys"]}


def _enemy_present(data: Data, theme: Theme, args: Args) -> str | None:
    if data["enemy"]["strength"] <= 0:
        return "the enemy has no strength left"
    return None


@safe_function(
    "archer_volley",
    "combat",
    "Spends ammunition (20 a volley); each volley costs the enemy strength.",
    (integer("volleys", 1, 5),),
    check=_enemy_present,
    stock_cost=_ammo_cost,
    gas=2,
    per_turn=2,
    used_by=("events", "orders"),
)
def archer_volley(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    weather = ctx.data["world"]["weather"]
    total = 0
    for _ in range(args["volleys"]):
        hit = roll.randint(5, 15)
        # Wind and fog spoil aim; the numbers stay integers.
        if weather in ("fog", "storm"):
            hit //= 2
        total += hit
    h.hurt_enemy(ctx, total)


def _check_sortie(data: Data, theme: Theme, args: Args) -> str | None:
    problem = h.npc_unfit(data, theme, args["npc"])
    if problem:
        return problem
    garrison = data["metrics"][theme.roles["garrison"]]
    if garrison < args["troops"] + 10:
        return f"the garrison of {garrison} cannot spare {args['troops']} troops"
    return _enemy_present(data, theme, args)


@safe_function(
    "sortie",
    "combat",
    "A raid led by the NPC: may cost the enemy strength and an engine; "
    "troops may be lost and the leader wounded.",
    (npc(), integer("troops", 5, 60)),
    check=_check_sortie,
    gas=4,
    cooldown=2,
    per_turn=1,
    used_by=("events", "characters"),
)
def sortie(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    leader = args["npc"]
    troops = args["troops"]
    enemy = ctx.data["enemy"]
    odds = 45 + (enemy["morale"] < 50) * 15 - ctx.data["npcs"][leader]["fatigue"] // 5
    if h.has_trait(ctx, leader, "brave"):
        odds += 10
    if h.has_trait(ctx, leader, "cunning"):
        odds += 5
    success = roll.chance(max(10, min(90, odds)))
    ctx.note("sortie", npc=h.name_of(ctx, "npcs", leader))
    if success:
        h.hurt_enemy(ctx, troops * roll.randint(2, 4))
        h.shake_enemy(ctx, 5)
        if enemy["engines"] > 0 and roll.chance(40):
            enemy["engines"] -= 1
            ctx.note("engine_destroyed", amount=enemy["engines"])
        h.lose_garrison(ctx, roll.randint(0, troops // 4))
    else:
        h.hurt_enemy(ctx, troops * roll.randint(0, 1))
        h.lose_garrison(ctx, roll.randint(troops // 4, troops // 2 + 1))
    if roll.chance(20 if success else 40):
        h.wound(ctx, leader, roll.randint(15, 45))
    h.tire(ctx, leader, 20)


def _fuel_cost(args: Args, theme: Theme) -> dict[str, int]:
    return {theme.roles["fuel"]: 10}


def _check_burn(data: Data, theme: Theme, args: Args) -> str | None:
    problem = h.npc_unfit(data, theme, args["npc"])
    if problem:
        return problem
    if data["enemy"]["engines"] <= 0:
        return "the enemy has no siege engines left"
    return None


@safe_function(
    "burn_engines",
    "combat",
    "Spends 10 fuel on a night raid that may destroy a siege engine; "
    "the leader risks a wound.",
    (npc(),),
    check=_check_burn,
    stock_cost=_fuel_cost,
    gas=3,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters"),
)
def burn_engines(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    leader = args["npc"]
    h.add_stock(ctx, ctx.role("fuel"), -10)
    odds = 55 + 15 * h.has_trait(ctx, leader, "cunning")
    if roll.chance(odds):
        ctx.data["enemy"]["engines"] -= 1
        ctx.note("engine_destroyed", amount=ctx.data["enemy"]["engines"])
        h.shake_enemy(ctx, 3)
    if roll.chance(25):
        h.wound(ctx, leader, roll.randint(10, 30))
    h.tire(ctx, leader, 15)


def _check_standing(data: Data, theme: Theme, args: Args) -> str | None:
    return h.structure_fallen(data, theme, args["structure"])


@safe_function(
    "pour_fuel",
    "combat",
    "Spends 10 fuel: the structure is guarded this turn and attackers burn.",
    (structure(),),
    check=_check_standing,
    stock_cost=_fuel_cost,
    gas=2,
    per_turn=2,
)
def pour_fuel(ctx: Ctx, args: Args) -> None:
    h.add_stock(ctx, ctx.role("fuel"), -10)
    h.add_guard(ctx, args["structure"], 15)
    oil = ctx.data["guards"].setdefault("oil", {})
    oil[args["structure"]] = 1
    ctx.note("oil_ready", structure=h.name_of(ctx, "structures", args["structure"]))


def _check_walls(data: Data, theme: Theme, args: Args) -> str | None:
    garrison = data["metrics"][theme.roles["garrison"]]
    if garrison < args["troops"]:
        return f"the garrison has only {garrison} troops"
    return None


@safe_function(
    "man_the_walls",
    "combat",
    "Guards every structure this turn in proportion to the troops; "
    "NPCs on the walls and gate tire.",
    (integer("troops", 10, 200),),
    check=_check_walls,
    gas=2,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def man_the_walls(ctx: Ctx, args: Args) -> None:
    guard = args["troops"] // 10
    ctx.note("walls_manned", amount=args["troops"])
    for sid in ctx.theme.structure_ids:
        if ctx.data["structures"][sid]["status"] != "collapsed":
            h.add_guard(ctx, sid, guard)
    for nid in h.present_npcs(ctx):
        if ctx.data["npcs"][nid]["duty"] in ("walls", "gate"):
            h.tire(ctx, nid, 5)


def _check_ambush(data: Data, theme: Theme, args: Args) -> str | None:
    return h.npc_unfit(data, theme, args["npc"])


@safe_function(
    "set_ambush",
    "combat",
    "The NPC lays an ambush: the next assault this turn costs the enemy more.",
    (npc(),),
    check=_check_ambush,
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters"),
)
def set_ambush(ctx: Ctx, args: Args) -> None:
    bonus = 10 + 10 * h.has_trait(ctx, args["npc"], "cunning")
    guards = ctx.data["guards"]
    guards["ambush"] = guards.get("ambush", 0) + bonus
    ctx.note("ambush_set", npc=h.name_of(ctx, "npcs", args["npc"]))
    h.tire(ctx, args["npc"], 10)


def _check_assault(data: Data, theme: Theme, args: Args) -> str | None:
    return h.structure_fallen(data, theme, args["structure"]) or _enemy_present(
        data, theme, args
    )


@safe_function(
    "enemy_assault",
    "combat",
    "The enemy storms a structure: damage is the force less its guard; "
    "the garrison takes losses and the attackers bleed.",
    (structure(), integer("force", 1, 100)),
    check=_check_assault,
    gas=0,
    per_turn=4,
    used_by=("world",),
)
def enemy_assault(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    sid = args["structure"]
    enemy = ctx.data["enemy"]
    guards = ctx.data["guards"]
    force = args["force"] * (50 + enemy["morale"]) // 100
    guard = h.guard_of(ctx, sid)
    damage = max(0, force - guard)
    h.damage_structure(ctx, sid, damage)
    h.lose_garrison(ctx, max(0, force // 5 - guard // 5) + roll.randint(0, 2))
    garrison = ctx.data["metrics"][ctx.role("garrison")]
    oil = guards.get("oil", {}).get(sid, 0)
    ambush = guards.pop("ambush", 0)
    losses = garrison // 25 + guard // 2 + ambush + 15 * oil + roll.randint(2, 8)
    h.hurt_enemy(ctx, losses)
    if damage == 0:
        h.shake_enemy(ctx, 2)
        ctx.note("assault_repelled", structure=h.name_of(ctx, "structures", sid))


def _check_bombard(data: Data, theme: Theme, args: Args) -> str | None:
    if data["enemy"]["engines"] <= 0:
        return "the enemy has no siege engines"
    return h.structure_fallen(data, theme, args["structure"])


@safe_function(
    "enemy_bombard",
    "combat",
    "Siege engines batter a structure (damage grows with engines) "
    "and may start a fire.",
    (structure(), integer("force", 1, 100)),
    check=_check_bombard,
    gas=0,
    per_turn=4,
    used_by=("world",),
)
def enemy_bombard(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    sid = args["structure"]
    engines = min(ctx.data["enemy"]["engines"], 6)
    h.damage_structure(ctx, sid, args["force"] * (2 + engines) // 6)
    odds = args["force"] // 2
    if ctx.data["world"]["weather"] in ("rain", "storm"):
        odds //= 2
    live = ctx.data["structures"][sid]
    if live["status"] != "collapsed" and roll.chance(odds):
        live["fire"] = min(5, live["fire"] + 1)
        ctx.note("fire_started", structure=h.name_of(ctx, "structures", sid))


def _check_raid(data: Data, theme: Theme, args: Args) -> str | None:
    if data["stockpiles"][args["stockpile"]] <= 0:
        name = theme.data["stockpiles"][args["stockpile"]]["name"]
        return f"there is no {name} left to take"
    return None


@safe_function(
    "enemy_raid_stores",
    "combat",
    "Raiders carry off up to the amount from a stockpile unless the stores "
    "are guarded.",
    (stockpile(), integer("amount", 1, 100)),
    check=_check_raid,
    gas=0,
    per_turn=2,
    used_by=("world",),
)
def enemy_raid_stores(ctx: Ctx, args: Args) -> None:
    sid = args["stockpile"]
    keepers = sum(
        1 for nid in h.present_npcs(ctx) if ctx.data["npcs"][nid]["duty"] == "stores"
    )
    guarded = ctx.data["guards"].get("stores", 0)
    loss = max(0, args["amount"] - 10 * keepers - guarded)
    taken = -h.add_stock(ctx, sid, -loss)
    if taken:
        ctx.note(
            "stock_lost", stockpile=h.name_of(ctx, "stockpiles", sid), amount=taken
        )
    else:
        ctx.note("raid_foiled", stockpile=h.name_of(ctx, "stockpiles", sid))


# --- phase 2 additions ----------------------------------------------------


def _fit_leader(data: Data, theme: Theme, args: Args) -> str | None:
    return h.npc_unfit(data, theme, args["npc"])


@safe_function(
    "snipe_officers",
    "combat",
    "Spends 10 ammo; the NPC's marksmen pick off enemy officers: enemy "
    "morale falls 6-12 (more with a cunning NPC); the NPC tires by 10.",
    (npc(),),
    check=_fit_leader,
    stock_cost=h.role_cost(ammo=10),
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def snipe_officers(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    h.change_stock(ctx, ctx.role("ammo"), -10)
    drop = roll.randint(6, 12) + (3 if h.has_trait(ctx, args["npc"], "cunning") else 0)
    h.shake_enemy(ctx, drop)
    h.tire(ctx, args["npc"], 10)


def _check_counter_battery(data: Data, theme: Theme, args: Args) -> str | None:
    if data["enemy"]["engines"] <= 0:
        return "the enemy has no siege engines to hit"
    return None


@safe_function(
    "counter_battery",
    "combat",
    "Spends 25 ammo on the enemy's engines: may destroy one (better odds once "
    "the enemy is scouted), otherwise enemy strength falls 5-10.",
    (),
    check=_check_counter_battery,
    stock_cost=h.role_cost(ammo=25),
    gas=3,
    cooldown=2,
    per_turn=1,
    used_by=("events", "orders"),
)
def counter_battery(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    h.change_stock(ctx, ctx.role("ammo"), -25)
    enemy = ctx.data["enemy"]
    odds = 60 if ctx.data["flags"].get("enemy_scouted", 0) else 40
    if roll.chance(odds):
        enemy["engines"] -= 1
        ctx.note("engine_destroyed", amount=enemy["engines"])
    else:
        h.hurt_enemy(ctx, roll.randint(5, 10))


@safe_function(
    "lay_traps",
    "combat",
    "Spends 10 materials on pits and snares: the next assault this turn "
    "costs the enemy 15 more strength.",
    (),
    stock_cost=h.role_cost(materials=10),
    gas=2,
    cooldown=1,
    per_turn=1,
    used_by=("events", "characters", "orders"),
)
def lay_traps(ctx: Ctx, args: Args) -> None:
    h.change_stock(ctx, ctx.role("materials"), -10)
    guards = ctx.data["guards"]
    guards["ambush"] = guards.get("ambush", 0) + 15


def _check_night_raid(data: Data, theme: Theme, args: Args) -> str | None:
    problem = h.npc_unfit(data, theme, args["npc"])
    if problem:
        return problem
    return _troops_short(data, theme, args["troops"])


def _troops_short(data: Data, theme: Theme, troops: int) -> str | None:
    garrison = theme.roles["garrison"]
    have = data["metrics"][garrison]
    if have < troops:
        name = theme.data["metrics"][garrison]["name"]
        return f"not enough {name}: needs {troops}, has {have}"
    return None


@safe_function(
    "night_raid",
    "combat",
    "The NPC leads troops on a raid: enemy strength falls by troops/2 to "
    "troops and morale by 5-15; a few troops are lost; the leader may be "
    "wounded.",
    (npc(), integer("troops", 5, 30)),
    check=_check_night_raid,
    gas=3,
    cooldown=2,
    per_turn=1,
    used_by=("events", "characters"),
)
def night_raid(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    troops = args["troops"]
    ctx.note("sortie", npc=h.name_of(ctx, "npcs", args["npc"]))
    h.hurt_enemy(ctx, roll.randint(troops // 2, troops))
    h.shake_enemy(ctx, roll.randint(5, 15))
    h.lose_garrison(ctx, roll.randint(0, troops // 5))
    h.tire(ctx, args["npc"], 15)
    if roll.chance(20):
        h.wound(ctx, args["npc"], roll.randint(10, 30))


def _check_reserve(data: Data, theme: Theme, args: Args) -> str | None:
    problem = h.structure_fallen(data, theme, theme.roles["keep"])
    if problem:
        return problem
    return _troops_short(data, theme, args["troops"])


@safe_function(
    "hold_reserve",
    "combat",
    "Troops held back guard the keep this turn (troops / 5).",
    (integer("troops", 10, 100),),
    check=_check_reserve,
    gas=1,
    per_turn=1,
    used_by=("events", "orders"),
)
def hold_reserve(ctx: Ctx, args: Args) -> None:
    h.add_guard(ctx, ctx.role("keep"), args["troops"] // 5)
    ctx.note("walls_manned", amount=args["troops"])


def _standing(data: Data, theme: Theme, args: Args) -> str | None:
    return h.structure_fallen(data, theme, args["structure"])


@safe_function(
    "enemy_sap",
    "combat",
    "Miners dig under a structure: damage equal to force, which guards do not stop.",
    (structure(), integer("force", 1, 60)),
    check=_standing,
    gas=0,
    per_turn=2,
    used_by=("world",),
)
def enemy_sap(ctx: Ctx, args: Args) -> None:
    h.damage_structure(ctx, args["structure"], args["force"])


@safe_function(
    "enemy_harass",
    "combat",
    "Raids and taunts through the night: morale falls by amount/2 to "
    "amount; NPCs on the walls tire by amount/2.",
    (integer("amount", 1, 20),),
    gas=0,
    per_turn=2,
    used_by=("world",),
)
def enemy_harass(ctx: Ctx, args: Args) -> None:
    roll = ctx.rng("combat")
    h.add_morale(ctx, -roll.randint(args["amount"] // 2, args["amount"]))
    for nid in h.on_duty(ctx, "walls"):
        h.tire(ctx, nid, args["amount"] // 2)
