"""Named deterministic random streams (splitmix64) seeded per seed, turn and name.

Each stream is seeded from sha256 of "seed:turn:name", so opening a new stream
never shifts the numbers another stream produces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_MASK = (1 << 64) - 1
_SPAN = 1 << 64
_GAMMA = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


class Stream:
    """A splitmix64 generator with integer-only helpers."""

    __slots__ = ("_state",)

    def __init__(self, seed: int, turn: int, name: str):
        digest = hashlib.sha256(f"{seed}:{turn}:{name}".encode()).digest()
        self._state = int.from_bytes(digest[:8], "big")

    def next_u64(self) -> int:
        self._state = (self._state + _GAMMA) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * _MIX1) & _MASK
        z = ((z ^ (z >> 27)) * _MIX2) & _MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """Uniform integer in [0, n) by rejection sampling, so there is no bias."""
        if n <= 0:
            raise ValueError("below() needs a positive bound")
        limit = _SPAN - _SPAN % n
        # The step of next_u64() written out: every draw of a turn comes
        # through here, and the method call and attribute writes cost more
        # than the arithmetic. The same numbers come out in the same order.
        state = self._state
        while True:
            state = (state + _GAMMA) & _MASK
            z = ((state ^ (state >> 30)) * _MIX1) & _MASK
            z = ((z ^ (z >> 27)) * _MIX2) & _MASK
            x = z ^ (z >> 31)
            if x < limit:
                self._state = state
                return x % n

    def randint(self, low: int, high: int) -> int:
        """Uniform integer in [low, high], both ends included."""
        return low + self.below(high - low + 1)

    def chance(self, percent: int) -> bool:
        return self.below(100) < percent

    def choice(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def weighted(self, items: Sequence[T], weights: Sequence[int]) -> T:
        total = sum(weights)
        if total <= 0:
            raise ValueError("weighted() needs a positive total weight")
        roll = self.below(total)
        for item, weight in zip(items, weights, strict=True):
            if roll < weight:
                return item
            roll -= weight
        raise AssertionError("unreachable")

    def shuffle(self, items: list[T]) -> None:
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


class Streams:
    """The streams of one turn, opened lazily by name."""

    __slots__ = ("seed", "turn", "_open")

    def __init__(self, seed: int, turn: int):
        self.seed = seed
        self.turn = turn
        self._open: dict[str, Stream] = {}

    def __call__(self, name: str) -> Stream:
        stream = self._open.get(name)
        if stream is None:
            stream = self._open[name] = Stream(self.seed, self.turn, name)
        return stream


def stream(seed: int, turn: int, name: str) -> Stream:
    return Stream(seed, turn, name)
