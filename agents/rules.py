"""The rules engine: judges and applies proposals in a fixed order, all or nothing."""

from __future__ import annotations

import time
from typing import Any

from agents import judge
from agents.errors import EngineError
from agents.functions import REGISTRY, Ctx

GROUP_ORDER = ("gm", "player", "characters", "world", "upkeep")
_GROUP_RANK = {group: rank for rank, group in enumerate(GROUP_ORDER)}


def apply_all(
    ctx: Ctx, proposals: list[dict[str, Any]], timings: dict[str, int]
) -> list[dict[str, Any]]:
    """Rule on and apply every proposal to `ctx.data` (a private working copy).

    Each proposal is judged against the state as it stands after the calls
    accepted before it, so two calls cannot both spend the last of a stock.
    Any effect that raises aborts the turn with EngineError; since the caller
    only ever hands in a copy, nothing half-applied can escape.
    """
    ordered = sorted(proposals, key=lambda p: _GROUP_RANK[p["group"]])
    ledger = judge.Ledger()
    records: list[dict[str, Any]] = []
    judge_ns = rules_ns = 0
    for proposal in ordered:
        t0 = time.perf_counter_ns()
        reason = judge.rule(ctx.data, ctx.theme, proposal, ledger, ctx.turn)
        t1 = time.perf_counter_ns()
        judge_ns += t1 - t0
        accepted = reason == judge.OK
        records.append(
            {
                "agent": proposal["agent"],
                "function": proposal["function"],
                "args": proposal["args"],
                "verdict": "accepted" if accepted else "rejected",
                "reason": reason,
            }
        )
        if not accepted:
            continue
        judge.grant(ctx.data, ctx.theme, proposal, ledger, ctx.turn)
        try:
            REGISTRY[proposal["function"]].effect(ctx, proposal["args"])
        except Exception as exc:
            raise EngineError(
                f"{proposal['function']} proposed by {proposal['agent']} failed: {exc}"
            ) from exc
        rules_ns += time.perf_counter_ns() - t1
    timings["judge"] = judge_ns // 1000
    timings["rules"] = rules_ns // 1000
    return records
