"""Errors the services and selectors raise; each knows its HTTP status and code.

The REST API, the browser views and the WebSocket consumer all render these the
same way, so a service never needs to know who called it.
"""


class GameError(Exception):
    """Base of every expected failure: a status, a stable code and a message."""

    status = 400
    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message=None, *, details=None, headers=None):
        self.message = message or self.default_message
        self.details = details or {}
        # Response headers that go with the error, such as Retry-After.
        self.headers = headers or {}
        super().__init__(self.message)

    def as_dict(self):
        return {"code": self.code, "message": self.message, "details": self.details}


class Forbidden(GameError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"
    default_message = "You may not do that."


class WatchOnly(Forbidden):
    """A spectator of someone else's public game tried to play or change it."""

    code = "watch_only"
    default_message = (
        "This game is someone else's: you may watch it, not play it or change it."
    )


class ServiceUnavailable(GameError):
    """A backing service (the database, Redis) is not answering."""

    status = 503
    code = "unavailable"
    default_message = "The service is briefly unavailable; try again shortly."


class NotFound(GameError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class StaleTurn(GameError):
    """The client acted on a turn that is no longer the current one."""

    status = 409
    code = "stale_turn"
    default_message = "The game has moved on; fetch the current turn and retry."

    def __init__(self, message=None, *, current_turn, details=None):
        details = {"current_turn": current_turn, **(details or {})}
        super().__init__(message, details=details)
        self.current_turn = current_turn


class GameOver(GameError):
    status = 409
    code = "game_over"
    default_message = "This game has ended; no more turns can be played."


class ThemeVersionConflict(GameError):
    """A theme's content changed but its version did not, and games use it."""

    status = 409
    code = "theme_version_conflict"
    default_message = (
        "This theme version is already played with different content; "
        "give the changed theme a new version."
    )


class IdempotencyConflict(GameError):
    """An idempotency key was reused for a different request."""

    status = 422
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used for a different request."


class InvalidAction(GameError):
    """The engine refused the action; details name the offending field."""

    status = 400
    code = "invalid_action"
    default_message = "That action is not allowed now."

    def __init__(self, message=None, *, field="action", details=None):
        details = {"field": field, **(details or {})}
        super().__init__(message, details=details)
        self.field = field


class InvalidInput(GameError):
    status = 400
    code = "invalid_input"
    default_message = "The input is not valid."


class ThemeUnavailable(GameError):
    status = 400
    code = "theme_unavailable"
    default_message = "That theme is not available."


class ChainCorrupt(GameError):
    """A stored game no longer replays to its own hashes; it cannot be forked."""

    status = 409
    code = "chain_corrupt"
    default_message = "This game's stored turns do not replay to their hashes."


class TurnPending(StaleTurn):
    """A turn is still being played on a worker; no other is taken meanwhile."""

    code = "turn_pending"
    default_message = "A turn is still being played; wait for it, then go on."
