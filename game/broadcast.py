"""Pushes committed turns to the WebSocket group of their session."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def session_group(session_id) -> str:
    """The channel-layer group every watcher of a session joins."""
    hex_id = session_id.hex if hasattr(session_id, "hex") else str(session_id)
    return f"session.{hex_id.replace('-', '')}"


def broadcast_turn(payload: dict) -> None:
    """Send a committed turn to its session's watchers.

    A broadcast failure must not undo a committed turn, and clients re-fetch
    over REST when they notice a gap, so failures are logged and dropped.
    """
    broadcast_event({"type": "turn", **payload})


def broadcast_event(message: dict) -> None:
    """Send a message to a session's watchers: a turn, a pending turn's progress.

    ``message`` carries its own "type", "session" and "turn" (the game's
    current turn number); failures are logged and dropped.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            session_group(message["session"]),
            {"type": "turn.message", "message": message},
        )
    except Exception:
        logger.exception(
            "broadcast of %s for session %s failed",
            message.get("type"),
            message.get("session"),
        )
