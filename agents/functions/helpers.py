"""Small state primitives shared by effects (clamped, status-aware) and validators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

PRESENT = ("active", "wounded")


def structure_status(integrity: int, maximum: int) -> str:
    if integrity <= 0:
        return "collapsed"
    if integrity * 3 > maximum:
        return "standing"
    return "damaged"


# --- validators' helpers: they only read ---------------------------------


def npc_absent(data: dict[str, Any], theme: Theme, npc_id: str) -> str | None:
    """Why the NPC cannot be given anything to do, or None if present."""
    npc = data["npcs"][npc_id]
    name = theme.data["npcs"][npc_id]["name"]
    if npc["status"] == "dead":
        return f"{name} is dead"
    if npc["status"] == "deserted":
        return f"{name} has deserted"
    if npc["status"] not in PRESENT:
        # Any later status (captured, ...) means the NPC cannot act.
        return f"{name} is {npc['status']}"
    if npc.get("away", 0) > 0:
        return f"{name} is away from the walls"
    return None


def npc_unfit(data: dict[str, Any], theme: Theme, npc_id: str) -> str | None:
    """Why the NPC cannot lead anything dangerous, or None if able."""
    problem = npc_absent(data, theme, npc_id)
    if problem:
        return problem
    if data["npcs"][npc_id]["status"] == "wounded":
        return f"{theme.data['npcs'][npc_id]['name']} is wounded"
    return None


def structure_fallen(data: dict[str, Any], theme: Theme, sid: str) -> str | None:
    if data["structures"][sid]["status"] == "collapsed":
        return f"{theme.data['structures'][sid]['name']} has collapsed"
    return None


def stock_short(
    data: dict[str, Any], theme: Theme, costs: dict[str, int]
) -> str | None:
    for sid in sorted(costs):
        need = costs[sid]
        have = data["stockpiles"].get(sid, 0)
        if need > have:
            name = theme.data["stockpiles"][sid]["name"]
            return f"not enough {name}: needs {need}, has {have}"
    return None


# --- effects' helpers: they change the working copy ----------------------


def add_stock(ctx: Ctx, sid: str, delta: int) -> int:
    """Change a stockpile within [0, max]; returns the change actually made."""
    stocks = ctx.data["stockpiles"]
    before = stocks[sid]
    after = min(max(before + delta, 0), ctx.theme.data["stockpiles"][sid]["max"])
    stocks[sid] = after
    return int(after - before)


def add_metric(ctx: Ctx, mid: str, delta: int) -> int:
    spec = ctx.theme.data["metrics"][mid]
    metrics = ctx.data["metrics"]
    before = metrics[mid]
    after = min(max(before + delta, spec["min"]), spec["max"])
    metrics[mid] = after
    return int(after - before)


def add_morale(ctx: Ctx, delta: int) -> int:
    change = add_metric(ctx, ctx.role("morale"), delta)
    if change > 0:
        ctx.note("morale_up", amount=change)
    elif change < 0:
        ctx.note("morale_down", amount=-change)
    return change


def lose_garrison(ctx: Ctx, count: int) -> int:
    lost = -add_metric(ctx, ctx.role("garrison"), -max(0, count))
    if lost:
        ctx.note("garrison_losses", amount=lost)
    return lost


def set_integrity(ctx: Ctx, sid: str, value: int) -> None:
    live = ctx.data["structures"][sid]
    was = live["status"]
    live["integrity"] = min(max(value, 0), live["max"])
    live["status"] = structure_status(live["integrity"], live["max"])
    if live["status"] == "collapsed":
        live["fire"] = 0
        if was != "collapsed":
            ctx.note("structure_collapsed", structure=_name(ctx, "structures", sid))


def damage_structure(ctx: Ctx, sid: str, amount: int) -> int:
    live = ctx.data["structures"][sid]
    before = live["integrity"]
    set_integrity(ctx, sid, before - max(0, amount))
    done = before - live["integrity"]
    if done and live["status"] != "collapsed":
        ctx.note(
            "structure_damaged", structure=_name(ctx, "structures", sid), amount=done
        )
    return int(done)


def guard_of(ctx: Ctx, sid: str) -> int:
    return int(ctx.data["guards"].get("structures", {}).get(sid, 0))


def add_guard(ctx: Ctx, sid: str, amount: int) -> None:
    table = ctx.data["guards"].setdefault("structures", {})
    table[sid] = table.get(sid, 0) + amount


def wound(ctx: Ctx, npc_id: str, amount: int) -> None:
    npc = ctx.data["npcs"][npc_id]
    if npc["status"] not in PRESENT:
        return
    npc["health"] = max(0, npc["health"] - max(0, amount))
    name = _name(ctx, "npcs", npc_id)
    if npc["health"] == 0:
        npc["status"] = "dead"
        ctx.note("npc_killed", npc=name)
    elif npc["health"] <= 60:
        npc["status"] = "wounded"
        ctx.note("npc_wounded", npc=name, amount=amount)


def heal(ctx: Ctx, npc_id: str, amount: int) -> None:
    npc = ctx.data["npcs"][npc_id]
    if npc["status"] not in PRESENT:
        return
    npc["health"] = min(100, npc["health"] + amount)
    if npc["status"] == "wounded" and npc["health"] > 60:
        npc["status"] = "active"
        ctx.note("npc_healed", npc=_name(ctx, "npcs", npc_id))


def tire(ctx: Ctx, npc_id: str, amount: int) -> None:
    npc = ctx.data["npcs"][npc_id]
    npc["fatigue"] = min(100, max(0, npc["fatigue"] + amount))


def shift_loyalty(ctx: Ctx, npc_id: str, amount: int) -> None:
    npc = ctx.data["npcs"][npc_id]
    npc["loyalty"] = min(100, max(0, npc["loyalty"] + amount))


def has_trait(ctx: Ctx, npc_id: str, trait: str) -> bool:
    return trait in ctx.theme.data["npcs"][npc_id].get("traits", ())


def present_npcs(ctx: Ctx) -> list[str]:
    return [
        nid
        for nid in ctx.theme.npc_ids
        if ctx.data["npcs"][nid]["status"] in PRESENT
        and ctx.data["npcs"][nid].get("away", 0) == 0
    ]


def hurt_enemy(ctx: Ctx, amount: int) -> int:
    enemy = ctx.data["enemy"]
    before = enemy["strength"]
    enemy["strength"] = max(0, before - max(0, amount))
    lost = before - enemy["strength"]
    if lost:
        ctx.note("enemy_losses", amount=lost)
    return int(lost)


def shake_enemy(ctx: Ctx, amount: int) -> None:
    enemy = ctx.data["enemy"]
    enemy["morale"] = min(100, max(0, enemy["morale"] - amount))


def change_stock(ctx: Ctx, sid: str, delta: int) -> int:
    """add_stock with a stock_gained / stock_lost note for the narrator."""
    done = add_stock(ctx, sid, delta)
    if done:
        key = "stock_gained" if done > 0 else "stock_lost"
        ctx.note(key, stockpile=_name(ctx, "stockpiles", sid), amount=abs(done))
    return done


def shift_tension(ctx: Ctx, amount: int) -> None:
    director = ctx.data["director"]
    director["tension"] = min(100, max(0, director["tension"] + amount))


def npcs_lost(data: dict[str, Any]) -> int:
    return sum(1 for npc in data["npcs"].values() if npc["status"] not in PRESENT)


def on_duty(ctx: Ctx, duty: str) -> list[str]:
    return [nid for nid in present_npcs(ctx) if ctx.data["npcs"][nid]["duty"] == duty]


def any_trait(ctx: Ctx, trait: str) -> bool:
    return any(has_trait(ctx, nid, trait) for nid in present_npcs(ctx))


def _name(ctx: Ctx, table: str, key: str) -> str:
    return str(ctx.theme.data[table][key]["name"])


def name_of(ctx: Ctx, table: str, key: str) -> str:
    return _name(ctx, table, key)


def role_cost(**amounts: int) -> Any:
    """A stock_cost that spends fixed amounts of the theme's role stockpiles."""

    def cost(args: dict[str, Any], theme: Theme) -> dict[str, int]:
        out: dict[str, int] = {}
        for role, amount in amounts.items():
            sid = theme.roles[role]
            out[sid] = out.get(sid, 0) + amount
        return out

    return cost


def once(flag_name: str, what: str) -> Any:
    """A check refusing a once-a-game function whose flag is already set."""

    def check(data: dict[str, Any], theme: Theme, args: dict[str, Any]) -> str | None:
        if data["flags"].get(flag_name, 0):
            return f"{what} has already happened this game"
        return None

    return check
