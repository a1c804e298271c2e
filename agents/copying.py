"""A fast deep copy for the plain JSON data that game state is made of."""

from __future__ import annotations

from typing import Any


def clone(obj: Any) -> Any:
    # copy.deepcopy spends most of its time on memo bookkeeping that plain
    # JSON (no cycles, no shared objects worth keeping) never needs.
    kind = type(obj)
    if kind is dict:
        return {key: clone(value) for key, value in obj.items()}
    if kind is list:
        return [clone(value) for value in obj]
    return obj
