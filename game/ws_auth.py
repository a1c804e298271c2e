"""WebSocket authentication: the session cookie, or a one-use ticket.

Browsers arrive with their Django session cookie and always send an Origin
header, which must name one of the site's hosts. API clients trade a JWT for a
ticket over REST and pass it as ``?ticket=``; they usually send no Origin. A
handshake without an Origin therefore counts as a non-browser client and may
authenticate only with a ticket: its cookies are ignored, so a page on another
site can never ride a player's cookie into a socket.
"""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from game.tickets import ticket_consume


def _has_origin(scope) -> bool:
    return any(name == b"origin" for name, _ in scope.get("headers", []))


@database_sync_to_async
def _user_for_ticket(ticket: str):
    user_id = ticket_consume(ticket)
    if user_id is None:
        return AnonymousUser()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user or AnonymousUser()


class _TicketMiddleware:
    """Replaces the scope's user with the ticket's owner when a ticket is given.

    A bad or spent ticket leaves the connection anonymous rather than falling
    back to the cookie, so a client that asked for ticket auth gets exactly
    that.
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tickets = query.get("ticket")
        if tickets:
            user = await _user_for_ticket(tickets[0])
            scope = dict(scope, user=user, auth_via="ticket")
        elif not _has_origin(scope):
            scope = dict(scope, user=AnonymousUser())
        else:
            scope = dict(scope, auth_via="session")
        return await self.inner(scope, receive, send)


def TicketOrSessionAuthMiddleware(inner):  # noqa: N802 - used like a class
    return AuthMiddlewareStack(_TicketMiddleware(inner))


class _SiteOriginValidator(OriginValidator):
    """Refuses a foreign Origin; lets a handshake without one through."""

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def SiteOriginValidator(inner):  # noqa: N802 - used like a class
    """Origin check against ALLOWED_HOSTS, as browsers' handshakes need."""
    return _SiteOriginValidator(inner, settings.ALLOWED_HOSTS)
