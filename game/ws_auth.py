"""WebSocket authentication: the session cookie, or a one-use ticket.

Browsers arrive with their Django session cookie; API clients trade a JWT for
a ticket over REST and pass it as ``?ticket=``. The user is resolved before
the consumer runs so that it can refuse the connection before accepting it.
"""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from game.tickets import ticket_consume


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
            scope = dict(scope, user=await _user_for_ticket(tickets[0]))
        return await self.inner(scope, receive, send)


def TicketOrSessionAuthMiddleware(inner):  # noqa: N802 - used like a class
    return AuthMiddlewareStack(_TicketMiddleware(inner))
