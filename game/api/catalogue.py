"""GET /api/v1/functions/: the safe-function catalogue, generated from the registry.

Public: the catalogue is the same for everyone and reveals no game.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.catalogue import catalogue
from agents.functions.registry import CATEGORIES
from game.api.serializers import ErrorResponse


class FunctionArgOutput(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["npc", "structure", "stockpile", "metric", "int", "str", "flag"]
    )
    min = serializers.IntegerField(required=False)
    max = serializers.IntegerField(required=False)
    choices = serializers.ListField(child=serializers.CharField(), required=False)


class FunctionOutput(serializers.Serializer):
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=list(CATEGORIES))
    description = serializers.CharField()
    args = serializers.DictField(
        child=FunctionArgOutput(), help_text="Argument name to its type and range."
    )
    gas = serializers.IntegerField(min_value=0)
    cooldown = serializers.IntegerField(min_value=0, help_text="In turns.")
    per_turn = serializers.IntegerField(min_value=1)
    used_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="Who is meant to call it: events, orders, characters, world, upkeep.",
    )


class FunctionListView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "category",
                str,
                required=False,
                enum=list(CATEGORIES),
                description="Only the functions of this category.",
            )
        ],
        responses={
            200: FunctionOutput(many=True),
            400: OpenApiResponse(ErrorResponse, description="Unknown category."),
        },
        summary="The safe-function catalogue (every theme's building blocks)",
        tags=["functions"],
    )
    def get(self, request):
        entries = catalogue()
        category = request.query_params.get("category")
        if category is not None:
            if category not in CATEGORIES:
                raise exceptions.ValidationError(
                    {"category": [f"must be one of {', '.join(CATEGORIES)}"]}
                )
            entries = [e for e in entries if e["category"] == category]
        return Response(entries)
