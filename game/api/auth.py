"""Token endpoints: sign in, refresh, sign out.

They wrap simplejwt's views with three guarantees of their own:

- A refresh token is spent exactly once. Marking it spent is one INSERT
  into a table that holds each token at most once, so of two refreshes
  racing with the same token one inserts and gets a new pair, the other is
  refused, on SQLite and on PostgreSQL alike.
- Repeated failed sign-ins lock the username out from that address for a
  while (django-axes counts them); a locked-out client gets 429 with
  Retry-After, in the API's error shape.
- Signing out spends the refresh token and closes the account's API sockets.
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch
from rest_framework_simplejwt.views import (
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)

from game.api.serializers import ErrorResponse
from game.errors import GameError
from game.lockout import lockout_seconds
from game.sockets import sockets_close_for_user

logger = logging.getLogger(__name__)


class LockedOut(GameError):
    status = 429
    code = "locked_out"
    default_message = (
        "Too many failed sign-ins for this account from your address; "
        "wait before trying again."
    )


class SingleUseRefreshToken(RefreshToken):
    """A refresh token whose spending is a single INSERT that can't happen twice."""

    def blacklist(self):
        jti = self.payload[api_settings.JTI_CLAIM]
        user = (
            get_user_model()
            .objects.filter(pk=self.payload.get(api_settings.USER_ID_CLAIM))
            .first()
        )
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=jti,
            defaults={
                "user": user,
                "token": str(self),
                "created_at": self.current_time,
                "expires_at": datetime_from_epoch(self.payload["exp"]),
            },
        )
        try:
            with transaction.atomic():
                return BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError as exc:
            # Another request spent this token a moment ago.
            raise TokenError("Token is blacklisted") from exc


class RefreshSerializer(TokenRefreshSerializer):
    token_class = SingleUseRefreshToken

    def validate(self, attrs):
        try:
            # Spending the old token and recording the new one stand or fall
            # together.
            with transaction.atomic():
                return super().validate(attrs)
        except get_user_model().DoesNotExist as exc:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from exc


AUTH_ERRORS = {
    400: OpenApiResponse(ErrorResponse, description="Invalid input."),
    401: OpenApiResponse(ErrorResponse, description="Bad credentials or token."),
    429: OpenApiResponse(ErrorResponse, description="Too many attempts."),
}


class SignInView(TokenObtainPairView):
    """Username and password for an access and a refresh token."""

    throttle_scope = "auth"

    @extend_schema(responses={200: TokenObtainPairSerializer, **AUTH_ERRORS})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        except AuthenticationFailed:
            self._refuse_if_locked_out(request)
            raise
        self._refuse_if_locked_out(request)
        # A token sign-in is a sign-in: the failure count is cleared and the
        # last-login time is kept, as for the login page.
        user = serializer.user
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(serializer.validated_data, status=status.HTTP_200_OK)

    @staticmethod
    def _refuse_if_locked_out(request):
        # django-axes marks the request it saw during authenticate(); that is
        # the REST framework's request here, not Django's.
        if getattr(request, "axes_locked_out", False):
            seconds = lockout_seconds()
            raise LockedOut(
                details={"retry_after": seconds},
                headers={"Retry-After": str(seconds)},
            )


class RefreshView(TokenRefreshView):
    """A refresh token for a new pair; the old refresh token is spent."""

    serializer_class = RefreshSerializer
    throttle_scope = "auth"

    @extend_schema(responses={200: RefreshSerializer, **AUTH_ERRORS})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class VerifyView(TokenVerifyView):
    """Whether a token is valid: 200 with an empty object if so, else 401."""

    @extend_schema(
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Valid."),
            **AUTH_ERRORS,
        }
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class SignOutInput(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to spend.")


class SignOutView(APIView):
    """Spends a refresh token and closes the account's API sockets.

    Access tokens already issued stay valid until they expire (minutes), as
    is the nature of signed tokens; the refresh token can never be used again.
    """

    throttle_scope = "auth"

    @extend_schema(
        request=SignOutInput,
        responses={204: None, **AUTH_ERRORS},
        summary="Sign out: spend the refresh token, close API sockets",
        tags=["auth"],
    )
    def post(self, request):
        serializer = SignOutInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data["refresh"]
        try:
            token = SingleUseRefreshToken(raw)
        except TokenError as exc:
            if not _spent_by(raw, request.user):
                raise InvalidToken(exc.args[0]) from exc
            # Already spent: signing out twice is still signed out.
        else:
            if str(token.payload.get(api_settings.USER_ID_CLAIM)) != str(
                request.user.pk
            ):
                raise InvalidToken("This refresh token belongs to another account.")
            try:
                token.blacklist()
            except TokenError:
                pass  # Spent by a request racing this one.
        sockets_close_for_user(request.user.pk, reason="signed_out", api_only=True)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _spent_by(raw: str, user) -> bool:
    """Whether raw is a refresh token of user's that was already spent.

    Only tokens this site issued are on its lists, so a match proves the
    token is genuine without checking its (possibly expired) signature.
    """
    try:
        payload = SingleUseRefreshToken(raw, verify=False).payload
    except TokenError:
        return False
    return BlacklistedToken.objects.filter(
        token__jti=payload.get(api_settings.JTI_CLAIM),
        token__token=raw,
        token__user=user,
    ).exists()
