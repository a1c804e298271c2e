"""The Judge: a verdict and a reason for every proposed safe-function call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.functions import REGISTRY, arg_problem
from agents.functions.helpers import stock_short
from agents.theme import Theme

OK = "ok"


@dataclass
class Ledger:
    """What has been granted so far this turn: gas spent and calls per function."""

    gas_used: int = 0
    calls: dict[str, int] = field(default_factory=dict)


def rule(
    data: dict[str, Any],
    theme: Theme,
    proposal: dict[str, Any],
    ledger: Ledger,
    turn: int,
) -> str:
    """The reason a proposal is refused, or "ok". Reads only; never mutates."""
    name = proposal["function"]
    group = proposal["group"]
    fn = REGISTRY.get(name) if isinstance(name, str) else None
    if fn is None:
        return f"unknown function: {name}"
    if name in theme.disabled:
        return f"not allowed: {name} is disabled in this theme"
    if (fn.category == "upkeep") != (group == "upkeep"):
        return (
            f"not allowed: {name} is world upkeep"
            if group != "upkeep"
            else (f"not allowed: {name} is not upkeep")
        )

    problem = arg_problem(fn, proposal["args"], theme)
    if problem:
        return f"bad args: {problem[0]}: {problem[1]}"

    gas, cooldown, per_turn = theme.limits(name, fn.gas, fn.cooldown, fn.per_turn)
    if group != "upkeep":
        ready_at = data["cooldowns"].get(name, 0)
        if ready_at > turn:
            return f"cooldown: available again at turn {ready_at}"
        if ledger.calls.get(name, 0) >= per_turn:
            return f"per-turn limit: {name} may run {per_turn} time(s) a turn"
        if group in ("player", "characters") and gas:
            left = theme.gas_per_turn - ledger.gas_used
            if gas > left:
                return (
                    f"gas budget: needs {gas}, {max(left, 0)} left of "
                    f"{theme.gas_per_turn} this turn"
                )

    args = proposal["args"]
    reason = fn.check(data, theme, args) or stock_short(
        data, theme, fn.stock_cost(args, theme)
    )
    if reason:
        return f"precondition: {reason}"
    return OK


def grant(
    data: dict[str, Any],
    theme: Theme,
    proposal: dict[str, Any],
    ledger: Ledger,
    turn: int,
) -> None:
    """Charge an accepted proposal to the turn's ledger and start its cooldown."""
    name = proposal["function"]
    fn = REGISTRY[name]
    gas, cooldown, _ = theme.limits(name, fn.gas, fn.cooldown, fn.per_turn)
    ledger.calls[name] = ledger.calls.get(name, 0) + 1
    if proposal["group"] in ("player", "characters"):
        ledger.gas_used += gas
    if cooldown and proposal["group"] != "upkeep":
        data["cooldowns"][name] = turn + cooldown + 1
