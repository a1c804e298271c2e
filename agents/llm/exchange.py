"""The exchange: what one question to a language model and its answer look like.

Every time the engine asks a voice for help it gets back an exchange dict and
appends it to the turn's ``recordings``. Replays hand the same exchanges back,
so the dict must hold only JSON values and must say everything the engine
used: the validated reply, or None when the rule-based agent stood in.
"""

from __future__ import annotations

from typing import Any, Protocol

AGENTS = ("planner", "characters", "events", "narrator")
OUTCOMES = ("ok", "fallback")
REASONS = (
    "invalid_json",
    "schema",
    "refusal",
    "timeout",
    "connection",
    "http_error",
    "circuit_open",
    "disabled",
)
# The text a backend sent back is kept for audit, but never more than this.
RAW_CHARS = 4000
DETAIL_CHARS = 300
KEYS = (
    "agent",
    "backend",
    "model",
    "request",
    "reply",
    "raw",
    "outcome",
    "reason",
    "detail",
    "latency_ms",
    "tokens",
    "attempts",
)

Check = Any  # Callable[[Any], str | None]; kept loose for duck-typed voices


class Voice(Protocol):
    """Anything that can answer the engine's questions.

    ``ask`` must return an exchange (see ``make``). ``check`` is the engine's
    semantic test of a reply (None when the reply is sound); a voice should
    apply it after the JSON Schema so that the exchange it reports is final.
    The engine checks every reply again whatever the voice did.
    """

    def ask(self, agent: str, request: dict[str, Any], check: Check = None) -> Any: ...


def make(
    agent: str,
    *,
    backend: str | None = None,
    model: str | None = None,
    request: dict[str, Any] | None = None,
    reply: Any = None,
    raw: str = "",
    reason: str | None = None,
    detail: str | None = None,
    latency_ms: int = 0,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    attempts: int = 0,
) -> dict[str, Any]:
    """An exchange dict; a reason (or a missing reply) makes it a fallback."""
    if reason is not None and reason not in REASONS:
        raise ValueError(f"unknown fallback reason {reason!r}")
    if reason is None and reply is None:
        reason = "schema"
        detail = detail or "no reply"
    return {
        "agent": agent,
        "backend": backend,
        "model": model,
        "request": request,
        "reply": None if reason else reply,
        "raw": raw[:RAW_CHARS],
        "outcome": "fallback" if reason else "ok",
        "reason": reason,
        "detail": detail[:DETAIL_CHARS] if detail else None,
        "latency_ms": int(latency_ms),
        "tokens": {"prompt": prompt_tokens, "completion": completion_tokens},
        "attempts": attempts,
    }


def fallback(exchange: dict[str, Any], reason: str, detail: str) -> dict[str, Any]:
    """A copy of an exchange turned into a fallback (a reply failed a check)."""
    out = dict(exchange)
    out.update(
        reply=None, outcome="fallback", reason=reason, detail=detail[:DETAIL_CHARS]
    )
    return out


def shape_problem(exchange: Any) -> str | None:
    """Why a value is not a well-formed exchange, or None."""
    if not isinstance(exchange, dict):
        return "an exchange must be an object"
    missing = [
        key for key in ("agent", "outcome", "reply", "reason") if key not in exchange
    ]
    if missing:
        return f"an exchange needs {', '.join(missing)}"
    if exchange["outcome"] not in OUTCOMES:
        return f"outcome must be one of {', '.join(OUTCOMES)}"
    if exchange["outcome"] == "ok":
        if exchange["reply"] is None or exchange["reason"] is not None:
            return "an ok exchange has a reply and no reason"
    elif exchange["reply"] is not None or exchange["reason"] not in REASONS:
        return "a fallback exchange has no reply and a known reason"
    return None
