"""Condition evaluation for scene preconditions, tactics and endings."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

OPS = ("==", "!=", "<", "<=", ">", ">=", "in")

NPC_FIELDS = ("health", "loyalty", "fatigue", "status")
STRUCTURE_FIELDS = ("integrity", "status", "fire")
ENEMY_FIELDS = ("strength", "morale", "engines")
DIRECTOR_FIELDS = ("tension", "phase")
WORLD_FIELDS = ("weather", "ration", "hunger", "disease")
COUNTS = (
    "structures_standing",
    "structures_collapsed",
    "npcs_alive",
    "npcs_lost",
)


def ref_problem(
    ref: str,
    npcs: Any,
    structures: Any,
    stockpiles: Any,
    metrics: Any,
    scenes: Any,
) -> str | None:
    """Why a ref cannot be read from a theme's state, or None if it can."""
    parts = ref.split(".")
    head = parts[0]
    if ref == "turn":
        return None
    if head in ("flags", "timers") and len(parts) == 2 and parts[1]:
        return None
    if len(parts) == 2:
        table = {
            "metrics": (metrics, "metric"),
            "stockpiles": (stockpiles, "stockpile"),
            "seen": (scenes, "scene"),
        }
        if head in table:
            known, kind = table[head]
            return None if parts[1] in known else f'unknown {kind} "{parts[1]}"'
        fields = {
            "enemy": ENEMY_FIELDS,
            "director": DIRECTOR_FIELDS,
            "world": WORLD_FIELDS,
            "count": COUNTS,
        }
        if head in fields:
            if parts[1] in fields[head]:
                return None
            return f'unknown field "{parts[1]}" of {head}'
    if len(parts) == 3 and head in ("npcs", "structures"):
        known, kind, allowed = (
            (npcs, "npc", NPC_FIELDS)
            if head == "npcs"
            else (structures, "structure", STRUCTURE_FIELDS)
        )
        if parts[1] not in known:
            return f'unknown {kind} "{parts[1]}"'
        if parts[2] not in allowed:
            return f'unknown field "{parts[2]}" of {kind}'
        return None
    return f'unknown ref "{ref}"'


def read_ref(data: dict[str, Any], ref: str) -> Any:
    parts = ref.split(".")
    head = parts[0]
    if head == "turn":
        return data["turn"]
    if head in ("flags", "timers"):
        return data[head].get(parts[1], 0)
    if head == "seen":
        return 1 if parts[1] in data["seen"] else 0
    if head == "count":
        return _count(data, parts[1])
    value: Any = data
    for part in parts:
        value = value[part]
    return value


def _count(data: dict[str, Any], what: str) -> int:
    if what == "structures_standing":
        return sum(1 for s in data["structures"].values() if s["status"] == "standing")
    if what == "structures_collapsed":
        return sum(1 for s in data["structures"].values() if s["status"] == "collapsed")
    alive = sum(
        1 for n in data["npcs"].values() if n["status"] in ("active", "wounded")
    )
    if what == "npcs_alive":
        return alive
    return len(data["npcs"]) - alive


def holds(data: dict[str, Any], cond: Any) -> bool:
    """True when a condition (or a list of them, all required) holds."""
    if type(cond) is list:
        for item in cond:
            if not holds(data, item):
                return False
        return True
    if "any" in cond:
        return any(holds(data, c) for c in cond["any"])
    if "not" in cond:
        return not holds(data, cond["not"])
    left = read_ref(data, cond["ref"])
    op = cond["op"]
    right = cond["value"]
    if op == "in":
        return left in right
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if type(left) is not type(right):
        # Ordering a string against a number is a content mistake that
        # validation normally catches; it never holds rather than crash a turn.
        return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


Check = Callable[[dict[str, Any]], bool]


def compile_condition(cond: Any) -> Check:
    """A condition turned into a function of the state; same answers as holds()."""
    if type(cond) is list:
        parts = [compile_condition(c) for c in cond]
        if not parts:
            return _always
        if len(parts) == 1:
            return parts[0]
        # Plain loops rather than all()/any() over a generator: these run for
        # every scene each turn, and the generator costs more than the tests.

        def every(data: dict[str, Any]) -> bool:
            for part in parts:
                if not part(data):
                    return False
            return True

        return every
    if "any" in cond:
        options = [compile_condition(c) for c in cond["any"]]

        def some(data: dict[str, Any]) -> bool:
            for option in options:
                if option(data):
                    return True
            return False

        return some
    if "not" in cond:
        inner = compile_condition(cond["not"])
        return lambda data: not inner(data)
    read = _reader(cond["ref"])
    right = cond["value"]
    op = cond["op"]
    if op == "==":
        return lambda data: bool(read(data) == right)
    if op == "!=":
        return lambda data: bool(read(data) != right)
    if op == "in":
        return lambda data: read(data) in right
    compare = _ORDERING[op]

    def ordered(data: dict[str, Any]) -> bool:
        left = read(data)
        return type(left) is type(right) and compare(left, right)

    return ordered


def _always(data: dict[str, Any]) -> bool:
    return True


_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _reader(ref: str) -> Callable[[dict[str, Any]], Any]:
    parts = ref.split(".")
    head = parts[0]
    if head == "turn":
        return lambda data: data["turn"]
    if head in ("flags", "timers"):
        name = parts[1]
        return lambda data: data[head].get(name, 0)
    if head == "seen":
        scene = parts[1]
        return lambda data: 1 if scene in data["seen"] else 0
    if head == "count":
        what = parts[1]
        return lambda data: _count(data, what)
    if len(parts) == 2:
        a, b = parts
        return lambda data: data[a][b]
    a, b, c = parts
    return lambda data: data[a][b][c]
