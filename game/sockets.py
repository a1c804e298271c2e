"""Closing an account's open sockets when it signs out or is disabled.

Every socket of a signed-in account also joins that account's group on the
channel layer. Signing out of the browser closes the sockets of that browser
session; signing out over the API closes the account's API (ticket) sockets;
disabling or deleting the account closes all of them. The close code is 4401,
so well-behaved clients do not reconnect on their own.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id) -> str:
    return f"user.{user_id}"


def sockets_close_for_user(
    user_id, *, reason: str, api_only: bool = False, session_key: str | None = None
) -> None:
    """Ask every socket of this account (or the chosen ones) to close.

    Sent once the surrounding transaction commits. ``api_only`` picks the
    sockets opened with a ticket; ``session_key`` the sockets of one browser
    session. A channel-layer failure is logged: the credentials are already
    refused, and a socket that misses the message is cut off by the idle
    timeout at the latest.
    """
    message = {
        "type": "account.closed",
        "reason": reason,
        "api_only": api_only,
        "session_key": session_key,
    }

    def send():
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(user_group(user_id), message)
        except Exception:
            logger.exception("closing the sockets of user %s failed", user_id)

    transaction.on_commit(send)


def _on_logged_out(sender, request, user, **kwargs):
    if user is None or request is None:
        return
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if key:
        sockets_close_for_user(user.pk, reason="signed_out", session_key=key)


def _on_user_saved(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        sockets_close_for_user(instance.pk, reason="account_disabled")


def _on_user_deleted(sender, instance, **kwargs):
    sockets_close_for_user(instance.pk, reason="account_deleted")


def connect_signals() -> None:
    """Close sockets on sign-out, and when an account is disabled or deleted."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_out
    from django.db.models.signals import post_delete, post_save

    user_model = get_user_model()
    user_logged_out.connect(_on_logged_out, dispatch_uid="game.sockets.logout")
    post_save.connect(
        _on_user_saved, sender=user_model, dispatch_uid="game.sockets.disabled"
    )
    post_delete.connect(
        _on_user_deleted, sender=user_model, dispatch_uid="game.sockets.deleted"
    )
