"""A circuit breaker per backend address, so a dead model server costs little.

After ``threshold`` failures in a row the circuit opens and calls are refused
at once (the rule-based agents stand in). After ``cooloff`` seconds one trial
call is let through (half-open): success closes the circuit, failure opens it
for another cool-off. State lives in this process only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    trial: bool = False


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 3,
        cooloff: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if threshold < 1 or cooloff <= 0:
            raise ValueError("threshold must be at least 1 and cooloff above 0")
        self.threshold = threshold
        self.cooloff = cooloff
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Whether a call may go out now; a half-open circuit allows one at a time."""
        with self._lock:
            circuit = self._circuits.get(key)
            if circuit is None or circuit.opened_at is None:
                return True
            if circuit.trial or self._clock() - circuit.opened_at < self.cooloff:
                return False
            circuit.trial = True
            return True

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._circuits.pop(key, None)

    def failed(self, key: str) -> None:
        with self._lock:
            circuit = self._circuits.setdefault(key, _Circuit())
            circuit.failures += 1
            if circuit.trial or circuit.failures >= self.threshold:
                circuit.opened_at = self._clock()
            circuit.trial = False

    def state(self, key: str) -> str:
        """ "closed", "open" or "half-open" (a trial may go, or is out)."""
        with self._lock:
            circuit = self._circuits.get(key)
            if circuit is None or circuit.opened_at is None:
                return "closed"
            if circuit.trial or self._clock() - circuit.opened_at >= self.cooloff:
                return "half-open"
            return "open"
