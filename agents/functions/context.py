"""The working context an effect runs in: a state copy, the theme and the streams."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.rng import Stream, Streams

if TYPE_CHECKING:
    from agents.theme import Theme


class Ctx:
    """Effects change `data` (a private working copy) and leave notes to narrate."""

    __slots__ = ("data", "theme", "streams", "turn", "notes")

    def __init__(self, data: dict[str, Any], theme: Theme, streams: Streams):
        self.data = data
        self.theme = theme
        self.streams = streams
        self.turn = streams.turn
        self.notes: list[dict[str, Any]] = []

    def rng(self, name: str) -> Stream:
        return self.streams(name)

    def role(self, name: str) -> str:
        return self.theme.roles[name]

    def note(self, key: str, **local: Any) -> None:
        self.notes.append({"key": key, **local})
