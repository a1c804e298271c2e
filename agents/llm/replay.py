"""Replaying a turn's recorded exchanges instead of calling a model."""

from __future__ import annotations

from typing import Any

from agents.copying import clone
from agents.errors import EngineError
from agents.llm.exchange import Check, shape_problem


class RecordingError(EngineError, ValueError):
    """The recordings do not fit the turn being replayed; nothing was kept.

    A ValueError as well, so callers that treat bad stored data as a value
    problem (a stored game that no longer verifies) catch it without change.
    ``replay()`` sets ``turn`` to the turn it was replaying.
    """

    turn: int | None = None


class ReplayVoice:
    """Hands back recorded exchanges in order; never calls out.

    The engine asks its agents in a fixed order, so a recording made by a
    live voice lines up with a replay of the same turn. Any difference (an
    agent asked that the recording does not have next, a reply that no
    longer passes its checks, exchanges left over) means the recording is
    not this turn's, and replay stops with RecordingError.
    """

    replaying = True

    def __init__(self, recordings: list[Any]):
        if not isinstance(recordings, list):
            raise RecordingError("recordings must be a list of exchanges")
        self._tape = list(recordings)
        self._next = 0

    def ask(self, agent: str, request: dict[str, Any], check: Check = None) -> Any:
        index = self._next
        if index >= len(self._tape):
            raise RecordingError(
                f"the turn asks the {agent} but the recording has no exchange "
                f"{index + 1} (it holds {len(self._tape)})"
            )
        exchange = self._tape[index]
        problem = shape_problem(exchange)
        if problem:
            raise RecordingError(f"recorded exchange {index + 1}: {problem}")
        if exchange["agent"] != agent:
            raise RecordingError(
                f"recorded exchange {index + 1} answers the {exchange['agent']}, "
                f"but the turn asks the {agent} at this point"
            )
        self._next += 1
        return clone(exchange)

    def finish(self) -> None:
        """Raise unless every recorded exchange was asked for."""
        left = len(self._tape) - self._next
        if left:
            raise RecordingError(
                f"the recording holds {left} exchange(s) the turn never asked for"
            )
