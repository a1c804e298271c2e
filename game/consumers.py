"""Streams a session's committed turns to its owner and, if public, spectators.

The socket is read-only: clients fetch and submit over REST, and use the turn
number in each message to notice gaps and re-fetch.
"""

import asyncio
import json
import logging
import time
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import (
    AsyncJsonWebsocketConsumer,
    AsyncWebsocketConsumer,
)
from channels.layers import InMemoryChannelLayer
from django.conf import settings

from game import metrics, selectors
from game.broadcast import session_group
from game.errors import NotFound
from game.sockets import user_group
from game.watchers import watchers_announce, watchers_join, watchers_leave

logger = logging.getLogger(__name__)

# Close codes in the application range (4000-4999), mirroring HTTP statuses.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_IDLE = 4408
CLOSE_TOO_LARGE = 4413
CLOSE_TOO_MANY = 4429
# The live-update service (the channel layer) is down: try again later.
CLOSE_UNAVAILABLE = 4503

# Clients only ever send pings, so a frame larger than this is a mistake or
# an attack, and so is a burst of more than RATE_BURST frames.
MAX_FRAME_BYTES = 4096
RATE_BURST = 20
RATE_PER_SECOND = 1.0
# A socket that left the game is told the turns it missed, up to this many;
# longer gaps are fetched over REST.
RESYNC_MAX = 100
# How often a server process makes sure its channel layer still answers;
# every socket looks at the latest answer this often too.
HEALTH_SECONDS = 3.0

_layer_health = {"checked": float("-inf"), "ok": True}


async def layer_answers(layer) -> bool:
    """Whether the channel layer takes a message, asked at most every few seconds.

    One publish to a group nobody joins: cheap, and it fails at once when
    Redis is gone. The answer is shared by every socket of the process.
    """
    now = time.monotonic()
    if now - _layer_health["checked"] < HEALTH_SECONDS:
        return _layer_health["ok"]
    _layer_health["checked"] = now
    try:
        await asyncio.wait_for(
            layer.group_send("fortress.health", {"type": "health.check"}),
            HEALTH_SECONDS,
        )
    except Exception as exc:
        if _layer_health["ok"]:
            logger.warning("channel layer not answering: %s", exc)
        _layer_health["ok"] = False
    else:
        _layer_health["ok"] = True
    return _layer_health["ok"]


@database_sync_to_async
def _visible_session(user, session_id):
    try:
        session = selectors.session_get(user=user, session_id=session_id)
    except NotFound:
        return None
    return {
        "id": str(session.id),
        "turn": session.turn_number,
        "owner": session.owner_id,
    }


@database_sync_to_async
def _missed_turns(session_id, since: int) -> list[dict]:
    """The turns after ``since`` as turn messages, oldest first.

    The last carries the game's current view, like a live turn message; the
    earlier ones carry what happened (the record) only.
    """
    from agents import restore, view

    session = selectors.session_by_id(session_id)
    turns = list(
        selectors.turn_list(session=session).filter(number__gt=since)[: RESYNC_MAX + 1]
    )
    if len(turns) > RESYNC_MAX:
        return [
            {
                "type": "resync",
                "session": str(session.pk),
                "turn": session.turn_number,
                "truncated": True,
                "message": "Too many turns missed; fetch them over REST.",
            }
        ]
    messages = [
        {
            "type": "turn",
            "session": str(session.pk),
            "turn": turn.number,
            "status": "active",
            "record": turn.record,
            "resync": True,
        }
        for turn in turns
    ]
    if messages:
        messages[-1]["status"] = session.status
        messages[-1]["view"] = view(
            restore(selectors.theme_engine(session.theme), session.state)
        )
    return messages


def _since(scope) -> int | None:
    """The ``?since=<turn>`` a reconnecting client passes; None if it passed none.

    ValueError if it is not a whole number from 0.
    """
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("since")
    if not values:
        return None
    value = values[0]
    if len(values) > 1 or not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise ValueError(value)
    return int(value)


_BAD_SINCE = {
    "type": "error",
    "code": "bad_since",
    "message": "since must be given once, as the number of the last turn you "
    "saw (a whole number from 0); no missed turns were resent.",
}


class ReadOnlySocket(AsyncJsonWebsocketConsumer):
    """A socket that only streams: it answers pings, refuses everything else.

    ``streams`` words what it streams in the refusal. Subclasses call
    ``admit()`` instead of ``accept()``. The base class holds the limits every
    socket shares:

    - frames over MAX_FRAME_BYTES close the socket (4413), and so does a
      burst beyond RATE_BURST frames refilled at RATE_PER_SECOND (4429);
    - a client that sends nothing (not even a ping) for WS_IDLE_SECONDS is
      closed (4408);
    - the account's sockets close (4401) when it signs out or is disabled;
    - if the live-update service (the channel layer) fails, the client is
      told and the socket closes with 4503 (try again later), within a few
      seconds of the failure;
    - a message that reaches a socket its client has just closed is dropped.

    Malformed frames are answered, never allowed to crash the consumer.
    """

    streams = "events"
    account_group = None
    _watchdog = None

    async def admit(self):
        user = self.scope["user"]
        self.account_group = user_group(user.pk)
        await self.channel_layer.group_add(self.account_group, self.channel_name)
        await self.accept()
        self._tokens = float(RATE_BURST)
        self._last_frame = time.monotonic()
        self._watchdog = asyncio.ensure_future(self._close_when_idle())

    async def __call__(self, scope, receive, send):
        self._accepted = False

        async def send_unless_gone(message):
            try:
                await send(message)
            except Disconnected:
                # The client closed the socket while this message was on its
                # way; its disconnect is next in line, and nothing is lost
                # that a reconnect with ?since= would not bring back.
                pass

        try:
            await super().__call__(scope, receive, send_unless_gone)
        except Exception:
            # The channel layer (Redis) failing under a socket ends up here.
            logger.exception("socket %s failed", scope.get("path"))
            if self._accepted:
                await send({"type": "websocket.send", "text": json.dumps(_DOWN)})
            await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})
        finally:
            self._stop_watchdog()

    async def accept(self, subprotocol=None, headers=None):
        await super().accept(subprotocol, headers)
        self._accepted = True

    async def websocket_disconnect(self, message):
        self._stop_watchdog()
        if self.account_group is not None:
            try:
                await self.channel_layer.group_discard(
                    self.account_group, self.channel_name
                )
            except Exception:
                logger.warning("leaving %s failed", self.account_group)
            self.account_group = None
        await super().websocket_disconnect(message)

    def _stop_watchdog(self):
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    async def _close_when_idle(self):
        """Close the socket when its client falls silent or live updates fail."""
        idle = float(settings.WS_IDLE_SECONDS)
        # The in-memory layer cannot fail; a Redis one can, without telling
        # the sockets that wait on it.
        watch_layer = not isinstance(self.channel_layer, InMemoryChannelLayer)
        while True:
            left = self._last_frame + idle - time.monotonic()
            if left <= 0:
                break
            await asyncio.sleep(min(left, HEALTH_SECONDS) if watch_layer else left)
            if watch_layer and not await layer_answers(self.channel_layer):
                await self.send_json(_DOWN)
                await self.close(code=CLOSE_UNAVAILABLE)
                return
        await self.send_json(
            {
                "type": "error",
                "code": "idle",
                "message": f"Nothing received for {idle:g} s; "
                'send {"type": "ping"} to keep a socket open.',
            }
        )
        await self.close(code=CLOSE_IDLE)

    async def account_closed(self, event):
        if event.get("api_only") and self.scope.get("auth_via") != "ticket":
            return
        key = event.get("session_key")
        if key is not None:
            session = self.scope.get("session")
            if session is None or session.session_key != key:
                return
        await self.send_json({"type": "closed", "reason": event.get("reason")})
        await self.close(code=CLOSE_UNAUTHENTICATED)

    def _allow_frame(self) -> bool:
        now = time.monotonic()
        elapsed = now - self._last_frame
        self._last_frame = now
        self._tokens = min(float(RATE_BURST), self._tokens + elapsed * RATE_PER_SECOND)
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def receive_json(self, content, **kwargs):
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
        size = (
            len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        )
        if size > MAX_FRAME_BYTES:
            await self._refuse(
                "too_large",
                f"Frames are at most {MAX_FRAME_BYTES} bytes.",
                CLOSE_TOO_LARGE,
            )
            return
        if not self._allow_frame():
            await self._refuse(
                "too_many", "Too many frames; slow down.", CLOSE_TOO_MANY
            )
            return
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

    async def _refuse(self, code: str, message: str, close_code: int):
        await self.send_json({"type": "error", "code": code, "message": message})
        await self.close(code=close_code)


_DOWN = {
    "type": "error",
    "code": "live_updates_unavailable",
    "message": "Live updates are down for now; play goes on over REST. "
    "Reconnect later with ?since=<last turn seen>.",
}


class SessionConsumer(ReadOnlySocket):
    """A game's committed turns, for its owner and, if public, spectators.

    A client that reconnects passes ``?since=<last turn it saw>`` and gets
    the turns it missed before anything new; no turn is sent twice.
    """

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
        await self.admit()
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
        try:
            since = _since(self.scope)
        except ValueError:
            since = None
            await self.send_json(_BAD_SINCE)
        if since is not None and since < session["turn"]:
            for message in await _missed_turns(session["id"], since):
                await self.send_json(message)
        # Turns up to here are told; a live message for one of them that was
        # queued meanwhile is dropped in turn_message.
        self.told = session["turn"]
        await self._tell_watchers(count)

    async def _tell_watchers(self, count: int) -> None:
        """The game's other sockets hear how many are watching it now."""
        await watchers_announce(
            self.channel_layer,
            self.group,
            self.session["id"],
            self.session["turn"],
            count,
            self.channel_name,
        )

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

    def _may_watch(self, visibility_change: dict) -> bool:
        """Whether this socket may go on watching after the game's change."""
        if visibility_change.get("visibility") != "private":
            return True
        user = self.scope.get("user")
        return user is not None and user.pk == self.session["owner"]

    async def turn_message(self, event):
        if event.get("from") == self.channel_name:
            # A socket's own join or leave is not news to it.
            return
        message = event["message"]
        if message.get("type") == "visibility" and not self._may_watch(message):
            await self.send_json({"type": "closed", "reason": "game_private"})
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if message.get("type") == "turn":
            number = message.get("turn", self.session["turn"])
            if isinstance(number, int) and number <= self.told:
                return
            self.told = number
            self.session["turn"] = number
        await self.send_json(message)


class NoSuchSocket(AsyncWebsocketConsumer):
    """Answers a handshake on an unknown path by refusing it."""

    async def connect(self):
        await self.close(code=CLOSE_NOT_FOUND)
