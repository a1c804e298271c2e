"""REST endpoints: each parses input, calls a service or selector, and renders."""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from game import selectors, services
from game.api import serializers as s
from game.api.parsers import JSONParser
from game.tickets import ticket_issue

ERRORS = {
    400: OpenApiResponse(s.ErrorResponse, description="Invalid input."),
    401: OpenApiResponse(s.ErrorResponse, description="Not authenticated."),
    403: OpenApiResponse(
        s.ErrorResponse,
        description="Someone else's public game (watch_only): spectators may "
        "watch it, not play it or change it.",
    ),
    404: OpenApiResponse(s.ErrorResponse, description="No such game or turn."),
}


def _errors(*codes):
    return {code: ERRORS[code] for code in codes}


def _parsed(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"

    @extend_schema(
        request=s.RegisterInput,
        responses={201: s.UserOutput, **_errors(400)},
        summary="Create a player account",
        tags=["auth"],
    )
    def post(self, request):
        data = _parsed(s.RegisterInput, request)
        user = services.user_register(
            username=data["username"], password=data["password"], email=data["email"]
        )
        return Response(
            {"id": user.pk, "username": user.get_username(), "email": user.email},
            status=status.HTTP_201_CREATED,
        )


class MeView(APIView):
    @extend_schema(
        responses={200: s.UserOutput, **_errors(401)},
        summary="The account the request is signed in as",
        tags=["auth"],
    )
    def get(self, request):
        user = request.user
        return Response(
            {"id": user.pk, "username": user.get_username(), "email": user.email}
        )


class ThemeListView(GenericAPIView):
    serializer_class = s.ThemeOutput
    pagination_class = None

    @extend_schema(
        responses={200: s.ThemeOutput(many=True), **_errors(401)},
        summary="Themes a new game can start on",
        tags=["themes"],
    )
    def get(self, request):
        themes = selectors.theme_list()
        return Response(s.ThemeOutput(themes, many=True).data)


class SessionListView(GenericAPIView):
    serializer_class = s.SessionMetaOutput

    @extend_schema(
        responses={200: s.SessionMetaOutput(many=True), **_errors(401)},
        summary="My games, most recently played first",
        tags=["sessions"],
    )
    def get(self, request):
        sessions = selectors.session_list_for_user(user=request.user)
        page = self.paginate_queryset(sessions)
        return self.get_paginated_response(
            [selectors.session_meta(session) for session in page]
        )

    @extend_schema(
        request=s.SessionCreateInput,
        responses={201: s.SessionOutput, **_errors(400, 401)},
        summary="Start a game",
        tags=["sessions"],
    )
    def post(self, request):
        data = _parsed(s.SessionCreateInput, request)
        voice = data.get("voice", services.SITE_DEFAULT)
        session = services.session_create(
            owner=request.user,
            theme_slug=data["theme"],
            seed=data.get("seed"),
            storyteller=data.get("storyteller"),
            voice=voice,
            voice_overrides=data.get("voice_overrides"),
        )
        return Response(selectors.session_view(session), status=status.HTTP_201_CREATED)


class SessionDetailView(APIView):
    @extend_schema(
        responses={200: s.SessionOutput, **_errors(401, 404)},
        summary="A game and the client view of its current state",
        tags=["sessions"],
    )
    def get(self, request, session_id):
        session = selectors.session_get(user=request.user, session_id=session_id)
        return Response(selectors.session_view(session))

    @extend_schema(
        request=s.SessionUpdateInput,
        responses={200: s.SessionOutput, **_errors(400, 401, 403, 404)},
        summary="Make a game public or private, or switch its voice profile",
        tags=["sessions"],
    )
    def patch(self, request, session_id):
        data = _parsed(s.SessionUpdateInput, request)
        with transaction.atomic():
            session = None
            if "visibility" in data:
                session = services.session_set_visibility(
                    session_id=session_id,
                    user=request.user,
                    visibility=data["visibility"],
                )
            if "voice" in data or "voice_overrides" in data:
                if "voice" in data:
                    voice = data["voice"]
                else:
                    # Overrides alone retune the profile the game has.
                    current = selectors.session_get(
                        user=request.user, session_id=session_id
                    )
                    voice = (current.voice or {}).get("profile")
                session = services.session_set_voice(
                    session_id=session_id,
                    user=request.user,
                    voice=voice,
                    voice_overrides=data.get("voice_overrides"),
                )
        return Response(selectors.session_view(session))


class TurnListView(GenericAPIView):
    serializer_class = s.TurnOutput
    # An action is a JSON object with typed values (an option is an integer),
    # which form fields cannot carry, so a turn is submitted as JSON only.
    parser_classes = [JSONParser]

    def get_throttles(self):
        # Each player's turn submissions have a rate of their own, on top of
        # the overall per-user rate; reading turns does not count against it.
        self.throttle_scope = "turns" if self.request.method == "POST" else None
        return super().get_throttles()

    @extend_schema(
        responses={200: s.TurnOutput(many=True), **_errors(401, 404)},
        summary="Turns played so far, in order",
        tags=["turns"],
    )
    def get(self, request, session_id):
        session = selectors.session_get(user=request.user, session_id=session_id)
        page = self.paginate_queryset(selectors.turn_list(session=session))
        return self.get_paginated_response(s.TurnOutput(page, many=True).data)

    @extend_schema(
        request=s.TurnSubmitInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": services.IDEMPOTENCY_KEY_MAX,
                },
                OpenApiParameter.HEADER,
                required=False,
                description=s.IDEMPOTENCY_HELP,
            )
        ],
        responses={
            201: s.TurnSubmitOutput,
            202: OpenApiResponse(
                s.TurnQueuedOutput,
                description="The game speaks through language models: the turn "
                "is being played on a worker. Follow it at the Location given, "
                "or wait for it on the game's WebSocket.",
            ),
            **_errors(400, 401, 403, 404),
            409: OpenApiResponse(
                s.ErrorResponse,
                description="Stale expected_turn (details.current_turn), a turn "
                "still being played (turn_pending), or the game has ended.",
            ),
            422: OpenApiResponse(
                s.ErrorResponse,
                description="Idempotency-Key reused for a different request.",
            ),
        },
        summary="Play the next turn",
        tags=["turns"],
    )
    def post(self, request, session_id):
        data = _parsed(s.TurnSubmitInput, request)
        result = services.turn_submit(
            session_id=session_id,
            user=request.user,
            action=data["action"],
            expected_turn=data["expected_turn"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        payload = result.payload
        if result.status == status.HTTP_202_ACCEPTED and not result.replayed:
            # Where the worker ran at once (no broker), the turn may be played
            # already: say how it stands now, not how it stood when queued.
            payload = selectors.pending_submitted_view(payload)
        response = Response(payload, status=result.status)
        if result.status == status.HTTP_202_ACCEPTED:
            pending_id = result.payload["pending"]["id"]
            response["Location"] = (
                f"/api/v1/sessions/{session_id}/pending/{pending_id}/"
            )
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class PendingTurnView(APIView):
    @extend_schema(
        responses={200: s.PendingTurnOutput, **_errors(401, 404)},
        summary="A turn queued for a worker: its state, agent at work, or error",
        tags=["turns"],
    )
    def get(self, request, session_id, pending_id):
        session = selectors.session_get(user=request.user, session_id=session_id)
        pending = selectors.pending_get(session=session, pending_id=pending_id)
        return Response(selectors.pending_view(pending))


class TurnDetailView(APIView):
    @extend_schema(
        responses={200: s.TurnOutput, **_errors(401, 404)},
        summary="One played turn with its full record",
        tags=["turns"],
    )
    def get(self, request, session_id, number):
        session = selectors.session_get(user=request.user, session_id=session_id)
        turn = selectors.turn_get(session=session, number=number)
        return Response(s.TurnOutput(turn).data)


FORK_ERRORS = {
    **_errors(400, 401, 404),
    409: OpenApiResponse(
        s.ErrorResponse,
        description="The source's stored turns do not replay to their hashes.",
    ),
}


class SessionForkView(APIView):
    @extend_schema(
        request=s.SessionForkInput,
        responses={201: s.SessionOutput, **FORK_ERRORS},
        summary="Start a new private game from a game as it stood at a turn",
        description="The new game keeps the source's first `turn` turns with "
        "the same hashes. Spectators may fork a public game into their own.",
        tags=["sessions"],
    )
    def post(self, request, session_id):
        data = _parsed(s.SessionForkInput, request)
        session = services.session_fork(
            session_id=session_id, user=request.user, at_turn=data["turn"]
        )
        return Response(selectors.session_view(session), status=status.HTTP_201_CREATED)


class SessionUndoView(APIView):
    @extend_schema(
        request=None,
        responses={201: s.SessionOutput, **FORK_ERRORS},
        summary="Take back the last turn: a new game forked one turn earlier",
        description="The original game is kept; 400 at turn 0.",
        tags=["sessions"],
    )
    def post(self, request, session_id):
        session = services.session_undo(session_id=session_id, user=request.user)
        return Response(selectors.session_view(session), status=status.HTTP_201_CREATED)


class SessionVerifyView(APIView):
    @extend_schema(
        responses={200: s.VerifyOutput, **_errors(401, 404)},
        summary="Replay a game and check every stored turn's hashes",
        tags=["sessions"],
    )
    def get(self, request, session_id):
        session = selectors.session_get(user=request.user, session_id=session_id)
        report = selectors.session_verify(session)
        return Response({key: report[key] for key in s.VerifyOutput().fields})


class WsTicketView(APIView):
    @extend_schema(
        request=None,
        responses={201: s.TicketOutput, **_errors(400, 401)},
        summary="A one-use ticket for opening /ws/sessions/<id>/?ticket=...",
        tags=["auth"],
    )
    def post(self, request):
        # A ticket opens any socket its holder may open; it takes no fields.
        _parsed(s.TicketInput, request)
        ticket, seconds = ticket_issue(user=request.user)
        return Response(
            {"ticket": ticket, "expires_in": seconds}, status=status.HTTP_201_CREATED
        )


@extend_schema(exclude=True)
class UnknownEndpointView(APIView):
    """Answers any unmatched /api/v1/ path in the API's error shape."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.request = self.initialize_request(request, *args, **kwargs)
        self.headers = self.default_response_headers
        message = "No such API endpoint."
        if not request.path.endswith("/"):
            message += f" API paths end with a slash: {request.path}/"
        response = self.handle_exception(exceptions.NotFound(message))
        self.response = self.finalize_response(self.request, response)
        return self.response
