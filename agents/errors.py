"""Errors the engine raises to its callers."""

from __future__ import annotations

from typing import Any


class ActionError(Exception):
    """A player's action is not valid for the current state; nothing changed."""

    def __init__(self, message: str, field: str = "action", turn: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.turn = turn

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "field": self.field}
        if self.turn is not None:
            out["turn"] = self.turn
        return out


class ThemeError(Exception):
    """A theme pack failed validation; `.errors` lists every problem with its path."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        first = errors[0] if errors else {"path": "", "message": "invalid theme"}
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first['path'] or '<root>'}: {first['message']}{more}")


class EngineError(Exception):
    """An effect failed while applying a turn; the whole turn was discarded."""
