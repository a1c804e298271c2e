"""One-use, short-lived tickets that let an API client open a WebSocket.

A ticket stands in for the JWT so that no long-lived credential ever travels
in a URL; it lives in the Django cache and is deleted on first use.
"""

import secrets

from django.conf import settings
from django.core.cache import cache

from game.errors import ServiceUnavailable

_PREFIX = "ws-ticket:"


def ticket_issue(*, user) -> tuple[str, int]:
    """A fresh ticket for this user and the seconds it stays valid."""
    ticket = secrets.token_urlsafe(32)
    seconds = int(settings.WS_TICKET_SECONDS)
    cache.set(_PREFIX + ticket, user.pk, timeout=seconds)
    # The cache skips its errors (a Redis outage must not stop play), so a
    # ticket that was not stored is caught by reading it back.
    if cache.get(_PREFIX + ticket) != user.pk:
        raise ServiceUnavailable(
            "Live updates are unavailable right now; play goes on over REST.",
            headers={"Retry-After": "10"},
        )
    return ticket, seconds


def ticket_consume(ticket: str):
    """The user id a ticket was issued to, or None; the ticket is spent either way.

    Only the caller whose delete actually removed the key wins, so two
    connections racing with one ticket cannot both get in.
    """
    if not ticket or len(ticket) > 100:
        return None
    key = _PREFIX + ticket
    user_id = cache.get(key)
    if user_id is None:
        return None
    if not cache.delete(key):
        return None
    return user_id
