"""Pushes committed turns to the WebSocket group of their session."""

import asyncio
import logging
import os
from concurrent.futures import Future

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

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

    On a request of the ASGI server the message is handed to the server's
    event loop and the request goes on without waiting for it to be sent;
    elsewhere (a worker, a command) the send is waited for.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    group = session_group(message["session"])
    event = {"type": "turn.message", "message": message}
    loop = _server_loop()
    if loop is not None:
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, event), loop)
        future.add_done_callback(lambda done: _log_failure(done, message))
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        _log_failure(None, message)


def broadcast_on_commit(kind: str, session_id, turn: int, **fields) -> None:
    """Tell a session's watchers ``{"type": kind, "session", "turn", ...}``
    once the caller's transaction commits (at once outside one)."""
    message = {"type": kind, "session": str(session_id), "turn": turn, **fields}
    transaction.on_commit(lambda: broadcast_event(message))


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop of the ASGI server this thread serves, if any."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() else None


def _log_failure(done: Future | None, message: dict) -> None:
    if done is not None:
        if done.cancelled() or done.exception() is None:
            return
        error = done.exception()
        exc_info = (type(error), error, error.__traceback__)
    else:
        exc_info = True
    logger.error(
        "broadcast of %s for session %s failed",
        message.get("type"),
        message.get("session"),
        exc_info=exc_info,
    )
