"""The safe-function registry: the only way anything changes game state.

Each entry names its typed arguments, a validator that only reads, an effect
that assumes a validated call, its costs and its limits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.functions.context import Ctx
    from agents.theme import Theme

Check = Callable[[dict[str, Any], "Theme", dict[str, Any]], "str | None"]
Effect = Callable[["Ctx", dict[str, Any]], None]
StockCost = Callable[[dict[str, Any], "Theme"], dict[str, int]]

FLAG_NAME = re.compile(r"^[a-z0-9_]{1,40}$")
ARG_TYPES = ("npc", "structure", "stockpile", "metric", "int", "str", "flag")
CATEGORIES = (
    "combat",
    "structures",
    "npcs",
    "economy",
    "morale",
    "environment",
    "diplomacy",
    "crafting",
    "anomaly",
    "finale",
    "utility",
    "upkeep",
)


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.type == "int":
            out["min"] = self.min
            out["max"] = self.max
        if self.choices:
            out["choices"] = list(self.choices)
        return out


def _no_check(data: dict[str, Any], theme: Theme, args: dict[str, Any]) -> None:
    return None


def _no_cost(args: dict[str, Any], theme: Theme) -> dict[str, int]:
    return {}


@dataclass(frozen=True)
class SafeFunction:
    name: str
    category: str
    description: str
    args: tuple[Arg, ...]
    effect: Effect
    check: Check = _no_check
    stock_cost: StockCost = _no_cost
    # Stock an option shows as its cost without the Judge requiring all of it
    # (a loss that takes what is there); defaults to stock_cost.
    shown_cost: StockCost | None = None
    gas: int = 1
    cooldown: int = 0
    per_turn: int = 3
    used_by: tuple[str, ...] = ("events",)
    arg_index: dict[str, Arg] = field(default_factory=dict, compare=False)

    def catalogue_entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "args": {a.name: a.describe() for a in self.args},
            "gas": self.gas,
            "cooldown": self.cooldown,
            "per_turn": self.per_turn,
            "used_by": list(self.used_by),
        }


REGISTRY: dict[str, SafeFunction] = {}


def safe_function(
    name: str,
    category: str,
    description: str,
    args: tuple[Arg, ...] = (),
    *,
    check: Check = _no_check,
    stock_cost: StockCost = _no_cost,
    shown_cost: StockCost | None = None,
    gas: int = 1,
    cooldown: int = 0,
    per_turn: int = 3,
    used_by: tuple[str, ...] = ("events",),
) -> Callable[[Effect], Effect]:
    """Register the decorated effect under `name`."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")

    def register(effect: Effect) -> Effect:
        if name in REGISTRY:
            raise ValueError(f"safe function {name!r} registered twice")
        REGISTRY[name] = SafeFunction(
            name=name,
            category=category,
            description=description,
            args=args,
            effect=effect,
            check=check,
            stock_cost=stock_cost,
            shown_cost=shown_cost,
            gas=gas,
            cooldown=cooldown,
            per_turn=per_turn,
            used_by=used_by,
            arg_index={a.name: a for a in args},
        )
        return effect

    return register


def npc(name: str = "npc") -> Arg:
    return Arg(name, "npc")


def structure(name: str = "structure") -> Arg:
    return Arg(name, "structure")


def stockpile(name: str = "stockpile") -> Arg:
    return Arg(name, "stockpile")


def integer(name: str, low: int, high: int) -> Arg:
    return Arg(name, "int", low, high)


def choice(name: str, *choices: str) -> Arg:
    return Arg(name, "str", choices=choices)


def flag(name: str = "flag") -> Arg:
    return Arg(name, "flag")


def arg_problem(fn: SafeFunction, args: Any, theme: Theme) -> tuple[str, str] | None:
    """(field, message) for the first bad argument, or None when all are well typed."""
    if not isinstance(args, dict):
        return "args", "args must be an object"
    if not args and not fn.args:
        # Every upkeep call each turn is argument-free; nothing to check.
        return None
    for key in sorted(args):
        if key not in fn.arg_index:
            return f"args.{key}", f'{fn.name} takes no argument "{key}"'
    for arg in fn.args:
        if arg.name not in args:
            return f"args.{arg.name}", f"{fn.name} needs {arg.name}"
        problem = _value_problem(arg, args[arg.name], theme)
        if problem:
            return f"args.{arg.name}", problem
    return None


# The theme table that names the valid values of each kind of id argument.
_ID_TABLES = {
    "npc": "npcs",
    "structure": "structures",
    "stockpile": "stockpiles",
    "metric": "metrics",
}


def _value_problem(arg: Arg, value: Any, theme: Theme) -> str | None:
    if arg.type == "int":
        if type(value) is not int:
            return f"{arg.name} must be an integer"
        assert arg.min is not None and arg.max is not None
        if not arg.min <= value <= arg.max:
            return f"{arg.name} must be between {arg.min} and {arg.max}"
        return None
    if type(value) is not str:
        return f"{arg.name} must be a string"
    if arg.type == "str":
        if value not in arg.choices:
            return f"{arg.name} must be one of {', '.join(arg.choices)}"
        return None
    if arg.type == "flag":
        if not FLAG_NAME.match(value):
            return f"{arg.name} must be lowercase letters, digits and underscores"
        return None
    if value not in theme.data[_ID_TABLES[arg.type]]:
        return f'unknown {arg.type} "{value}"'
    return None
