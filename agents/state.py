"""The immutable `State` handed to callers and the `Outcome` of a turn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.hashing import chain_hash, state_hash

if TYPE_CHECKING:
    from agents.theme import Theme


class State:
    """A game state: treat `.data` as read-only; the engine never changes it."""

    __slots__ = ("theme", "data", "_hash", "_chain")

    def __init__(self, theme: Theme, data: dict[str, Any], digest: str | None = None):
        self.theme = theme
        self.data = data
        self._hash = digest
        self._chain: str | None = None

    @property
    def hash(self) -> str:
        if self._hash is None:
            self._hash = state_hash(self.data)
        return self._hash

    @property
    def chain(self) -> str:
        """The chain hash of the turn that produced this state.

        The state carries the previous chain hash and the action that led to
        it, so a state read back from storage can continue its own chain.
        """
        if self._chain is None:
            prev = self.data.get("prev_chain")
            action = self.data.get("last_action")
            if prev is None or action is None:
                self._chain = self.hash
            else:
                self._chain = chain_hash(prev, action, self.hash)
        return self._chain

    @property
    def ended(self) -> bool:
        return bool(self.data["status"] != "active")

    def __repr__(self) -> str:
        return (
            f"<State {self.theme.slug} turn={self.data['turn']} {self.data['status']}>"
        )


class Outcome:
    __slots__ = ("state", "record")

    def __init__(self, state: State, record: dict[str, Any]):
        self.state = state
        self.record = record
