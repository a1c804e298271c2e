"""Streams a session's committed turns to its owner and, if public, spectators.

The socket is read-only: clients fetch and submit over REST, and use the turn
number in each message to notice gaps and re-fetch.
"""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import (
    AsyncJsonWebsocketConsumer,
    AsyncWebsocketConsumer,
)

from game import metrics, selectors
from game.broadcast import session_group
from game.errors import NotFound
from game.watchers import watchers_join, watchers_leave

logger = logging.getLogger(__name__)

# Close codes in the application range (4000-4999), mirroring HTTP statuses.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
# A chatty client gets cut off rather than allowed to tie up the worker.
MAX_CLIENT_MESSAGES = 120


@database_sync_to_async
def _visible_session(user, session_id):
    try:
        session = selectors.session_get(user=user, session_id=session_id)
    except NotFound:
        return None
    return {"id": str(session.id), "turn": session.turn_number}


class ReadOnlySocket(AsyncJsonWebsocketConsumer):
    """A socket that only streams: it answers pings, refuses everything else.

    ``streams`` words what it streams in the refusal. Malformed frames are
    answered, never allowed to crash the consumer, and a chatty client is
    cut off after MAX_CLIENT_MESSAGES.
    """

    streams = "events"
    received = 0

    async def receive_json(self, content, **kwargs):
        self.received += 1
        if self.received > MAX_CLIENT_MESSAGES:
            await self.close(code=4429)
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json(
                {
                    "type": "error",
                    "code": "read_only",
                    "message": f"This socket only streams {self.streams}; "
                    'send {"type": "ping"} or use the REST API.',
                }
            )

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        content = None
        if text_data is not None:
            try:
                content = await self.decode_json(text_data)
            except (ValueError, RecursionError):
                content = None
        if content is None:
            await self.send_json(
                {"type": "error", "code": "bad_frame", "message": "Send JSON text."}
            )
            return
        await self.receive_json(content, **kwargs)


class SessionConsumer(ReadOnlySocket):
    group = None
    streams = "turns"

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        # Join before reading the game, so that a turn committed between the
        # read and the join still reaches this socket; the hello's turn number
        # is then never ahead of what the socket will be told.
        group = session_group(session_id)
        await self.channel_layer.group_add(group, self.channel_name)
        session = await _visible_session(user, session_id)
        if session is None:
            await self.channel_layer.group_discard(group, self.channel_name)
            await self.close(code=CLOSE_NOT_FOUND)
            return

        self.group = group
        self.session = session
        self.received = 0
        await self.accept()
        metrics.WS_CONNECTIONS.inc()
        count = await database_sync_to_async(watchers_join)(session["id"])
        await self.send_json(
            {
                "type": "hello",
                "session": session["id"],
                "turn": session["turn"],
                "watchers": count,
            }
        )
        await self._tell_watchers(count)

    async def _tell_watchers(self, count: int) -> None:
        """The game's other sockets hear how many are watching it now."""
        message = {
            "type": "watchers",
            "session": self.session["id"],
            "turn": self.session["turn"],
            "count": count,
        }
        try:
            await self.channel_layer.group_send(
                self.group,
                {"type": "turn.message", "message": message, "from": self.channel_name},
            )
        except Exception:
            logger.exception("watcher count of %s not sent", self.session["id"])

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            count = await database_sync_to_async(watchers_leave)(self.session["id"])
            await self._tell_watchers(count)
            metrics.WS_CONNECTIONS.dec()
            self.group = None

    async def send_json(self, content, close=False):
        metrics.WS_MESSAGES.labels(direction="out").inc()
        await super().send_json(content, close=close)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        metrics.WS_MESSAGES.labels(direction="in").inc()
        await super().receive(text_data, bytes_data, **kwargs)

    async def turn_message(self, event):
        if event.get("from") == self.channel_name:
            # A socket's own join or leave is not news to it.
            return
        message = event["message"]
        if message.get("type") == "turn":
            self.session["turn"] = message.get("turn", self.session["turn"])
        await self.send_json(message)


class NoSuchSocket(AsyncWebsocketConsumer):
    """Answers a handshake on an unknown path by refusing it."""

    async def connect(self):
        await self.close(code=CLOSE_NOT_FOUND)
