"""LiveVoice: asks real model servers, with retries, a circuit breaker and hooks.

The engine calls ``ask(agent, request, check)`` at each of its four points and
records whatever exchange comes back. A LiveVoice never raises for a server's
behaviour: failures become fallback exchanges with a reason, and the turn
goes on with the rule-based agent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from agents.llm import exchange as ex
from agents.llm.backends import BACKENDS, Backend, Result
from agents.llm.breaker import CircuitBreaker
from agents.llm.config import AgentConfig
from agents.llm.schemas import schema_problem

logger = logging.getLogger(__name__)

# Seconds to wait before retry n is backoff * n.
BACKOFF = 0.25
# Failures that say the server is unwell (as opposed to a poor reply).
SERVER_FAILURES = ("timeout", "connection", "http_error")


class LiveVoice:
    """Speaks for the agents that have a config; the others stay rule-based.

    ``on_progress(agent)`` is called just before the first HTTP attempt of an
    ask (a UI can say "the narrator is writing"); ``on_exchange(exchange)``
    after every ask, with the final exchange (for metrics). Exceptions from
    either hook are logged and ignored.
    """

    replaying = False

    def __init__(
        self,
        configs: Mapping[str, AgentConfig],
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_progress: Callable[[str], None] | None = None,
        on_exchange: Callable[[dict[str, Any]], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        self.configs = dict(configs)
        self.breaker = breaker or CircuitBreaker()
        self.clock = clock
        self.on_progress = on_progress
        self.on_exchange = on_exchange
        self.sleep = sleep
        self._transport = transport
        self._backends: dict[tuple[str, str], Backend] = {}
        self._lock = threading.Lock()

    def ask(
        self,
        agent: str,
        request: dict[str, Any],
        check: Callable[[Any], str | None] | None = None,
    ) -> dict[str, Any]:
        config = self.configs.get(agent)
        if config is None:
            return self._settle(
                ex.make(agent, reason="disabled", detail=f"no model for the {agent}")
            )
        config = config.tuned(request.get("tuning") or {})
        if not self.breaker.allow(config.circuit):
            return self._settle(
                ex.make(
                    agent,
                    backend=config.backend,
                    model=config.model,
                    reason="circuit_open",
                    detail=f"{config.circuit} failed repeatedly; resting it",
                )
            )

        self._hook(self.on_progress, agent)
        backend = self._backend(config)
        start = self.clock()
        attempts = 0
        while True:
            attempts += 1
            result = backend.chat(config, request)
            if not result.retryable or attempts > config.retries:
                break
            self.sleep(BACKOFF * attempts)
        latency_ms = int((self.clock() - start) * 1000)

        if result.reason in SERVER_FAILURES:
            self.breaker.failed(config.circuit)
        else:
            self.breaker.succeeded(config.circuit)
        reply, reason, detail = _judge_reply(result, request, check)
        return self._settle(
            ex.make(
                agent,
                backend=config.backend,
                model=config.model,
                request=request,
                reply=reply,
                raw=result.raw,
                reason=reason,
                detail=detail,
                latency_ms=latency_ms,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                attempts=attempts,
            )
        )

    def close(self) -> None:
        with self._lock:
            for backend in self._backends.values():
                backend.close()
            self._backends.clear()

    def __enter__(self) -> LiveVoice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _backend(self, config: AgentConfig) -> Backend:
        key = (config.backend, config.base_url)
        with self._lock:
            backend = self._backends.get(key)
            if backend is None:
                cls = BACKENDS[config.backend]
                backend = self._backends[key] = cls(config.base_url, self._transport)
            return backend

    def _settle(self, exchange: dict[str, Any]) -> dict[str, Any]:
        if exchange["outcome"] != "ok" and exchange["reason"] != "disabled":
            logger.info(
                "model voice fell back: agent=%s reason=%s detail=%s",
                exchange["agent"],
                exchange["reason"],
                exchange["detail"],
            )
        self._hook(self.on_exchange, exchange)
        return exchange

    @staticmethod
    def _hook(hook: Callable[[Any], None] | None, value: Any) -> None:
        if hook is None:
            return
        try:
            hook(value)
        except Exception:
            logger.exception("a model voice hook failed")


def _judge_reply(
    result: Result,
    request: dict[str, Any],
    check: Callable[[Any], str | None] | None,
) -> tuple[Any, str | None, str | None]:
    """(reply, reason, detail) for what the server sent."""
    if result.reason is not None or result.text is None:
        return None, result.reason or "invalid_json", result.detail
    try:
        reply = json.loads(result.text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        detail = "the reply is not JSON"
        if result.detail:
            detail += f" ({result.detail})"
        return None, "invalid_json", detail
    problem = schema_problem(request["schema"], reply)
    if problem is None and check is not None:
        problem = check(reply)
    if problem:
        return None, "schema", problem
    return reply, None, None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
