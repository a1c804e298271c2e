"""Renders every API error in one shape: {"error": {"code", "message", "details"}}.

Service errors (game.errors) carry their own status and code; DRF's and
Django's own exceptions are translated so a client never sees another shape.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from game.errors import GameError

logger = logging.getLogger(__name__)

_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid_input",
}


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _first_message(detail) -> str:
    """A readable one-line summary of a DRF detail, naming the first field."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _first_message(value)
            if field in ("non_field_errors", "detail"):
                return inner
            return f"{field}: {inner}"
        return "Invalid input."
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "Invalid input."
    return str(detail)


def _plain(detail):
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_plain(v) for v in detail]
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, GameError):
        return Response(
            error_body(exc.code, exc.message, exc.details),
            status=exc.status,
            headers=exc.headers,
        )

    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return _server_failure(exc, context)

    # Exact-type lookup, so that a library's subclass (simplejwt's
    # InvalidToken) keeps its own more specific code.
    code = _CODES.get(type(exc)) or getattr(exc, "default_code", "error")
    detail = getattr(exc, "detail", response.data)
    if isinstance(exc, exceptions.ValidationError):
        details = (
            _plain(detail)
            if isinstance(detail, dict)
            else {"non_field_errors": _plain(detail)}
        )
        message = _first_message(detail)
    else:
        message = _first_message(detail)
        details = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details = {"retry_after": int(exc.wait)}
        if isinstance(detail, dict) and "code" in detail and "messages" in detail:
            # simplejwt's token errors carry a reason worth keeping.
            message = str(detail.get("detail", message))
            code = str(detail["code"])

    response.data = error_body(code, message, details)
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data["error"]["code"] = (
            code if code != "error" else "not_authenticated"
        )
    return response


def _server_failure(exc, context) -> Response:
    """A failure that is not the client's: logged in full, answered in brief.

    A database that went away mid-request is 503 (the transaction was rolled
    back, so trying again is safe); anything else is 500. Neither response
    says more than that, so no stack trace or internal detail leaks.
    """
    request = context.get("request")
    where = f"{request.method} {request.path}" if request is not None else "?"
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable during %s: %s", where, exc)
        return Response(
            error_body("unavailable", "The service is briefly unavailable; try again."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    logger.error("unexpected failure during %s", where, exc_info=exc)
    return Response(
        error_body("server_error", "Something went wrong on our side."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
