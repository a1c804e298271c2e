"""REST endpoints for exporting a game as a JSON document and importing one back.

The serializers here only describe the document in the OpenAPI schema; the
document itself is checked by game.portability, which replays it before
anything is stored.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.engine import STORYTELLERS
from game import portability, selectors
from game.api import serializers as s
from game.api.parsers import JSONParser
from game.models import GameSession

# -- the export document, for the schema --------------------------------------


class ExportThemeRef(serializers.Serializer):
    slug = serializers.CharField()
    version = serializers.CharField()
    content_hash = serializers.CharField(
        help_text="sha256 of the theme's canonical JSON; must match on import."
    )


class ExportSource(serializers.Serializer):
    id = serializers.UUIDField(help_text="The game's id where it was exported.")
    created = serializers.DateTimeField()


class ExportParent(serializers.Serializer):
    id = serializers.UUIDField()
    fork_turn = serializers.IntegerField(min_value=0)


class ExportTurn(serializers.Serializer):
    number = serializers.IntegerField(min_value=1)
    action = serializers.DictField()
    record = serializers.DictField(help_text="The engine's full record of the turn.")
    state_hash = serializers.CharField()
    chain_hash = serializers.CharField()
    duration_us = serializers.IntegerField(min_value=0, required=False)


class SessionExport(serializers.Serializer):
    format = serializers.ChoiceField(choices=[portability.FORMAT])
    version = serializers.ChoiceField(
        choices=[portability.FORMAT_VERSION], help_text="Format version."
    )
    exported_at = serializers.DateTimeField(required=False)
    source = ExportSource(required=False)
    theme = ExportThemeRef()
    seed = serializers.IntegerField(min_value=0)
    storyteller = serializers.ChoiceField(choices=STORYTELLERS, allow_null=True)
    status = serializers.ChoiceField(choices=GameSession.Status.choices)
    ending = serializers.CharField(allow_null=True)
    visibility = serializers.ChoiceField(choices=GameSession.Visibility.choices)
    parent = ExportParent(
        allow_null=True,
        help_text="The game this one was forked from; kept on import only when "
        "that game exists on the importing site and matches up to the fork.",
    )
    turn = serializers.IntegerField(min_value=0, help_text="Turns played.")
    head_chain_hash = serializers.CharField()
    turns = ExportTurn(many=True)


# -- views -------------------------------------------------------------------


class SessionExportView(APIView):
    @extend_schema(
        responses={
            200: SessionExport,
            401: OpenApiResponse(s.ErrorResponse, description="Not authenticated."),
            403: OpenApiResponse(
                s.ErrorResponse,
                description="Someone else's public game: only its owner or "
                "staff may export it.",
            ),
            404: OpenApiResponse(s.ErrorResponse, description="No such game."),
        },
        summary="Export a game with every turn and its hashes",
        description="A versioned JSON document that POST /sessions/import/ "
        "(here or on another site with the same theme version) turns back into "
        "a playable game.",
        tags=["sessions"],
    )
    def get(self, request, session_id):
        document = portability.session_export(session_id=session_id, user=request.user)
        response = Response(document)
        response["Content-Disposition"] = (
            f'attachment; filename="fortress-{session_id}.json"'
        )
        return response


class SessionImportView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=SessionExport,
        responses={
            201: s.SessionOutput,
            400: OpenApiResponse(
                s.ErrorResponse,
                description="The document is malformed (invalid_document), its "
                "theme version is not installed here or differs "
                "(theme_unavailable), or its turns do not replay to their "
                "hashes (replay_mismatch, details.first_bad_turn). Nothing is "
                "stored.",
            ),
            401: OpenApiResponse(s.ErrorResponse, description="Not authenticated."),
            413: OpenApiResponse(
                s.ErrorResponse, description="The body is over the size limit."
            ),
        },
        summary="Import an exported game as a new game of mine",
        description="Every turn is replayed through the engine and its state "
        "and chain hashes checked before anything is written. The new game "
        "gets a new id, belongs to the caller and continues from where the "
        "exported game stood.",
        tags=["sessions"],
    )
    def post(self, request):
        # Reading the body through Django applies DATA_UPLOAD_MAX_MEMORY_SIZE
        # (a 413) before the JSON parser sees a byte of it.
        request.body  # noqa: B018
        session = portability.session_import(owner=request.user, document=request.data)
        return Response(selectors.session_view(session), status=status.HTTP_201_CREATED)
