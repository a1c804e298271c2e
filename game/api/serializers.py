"""Input validation and documented output shapes for the REST API.

Input serializers refuse unknown fields so a misspelt key is an error rather
than silently ignored; output serializers exist mainly to describe responses
in the OpenAPI schema.
"""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.engine import STORYTELLERS
from agents.planner import FREE_TEXT_CHARS
from game.models import GameSession, PendingTurn, Theme, Turn
from game.services import IDEMPOTENCY_KEY_MAX, SEED_MAX


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not declare."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}
                )
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """An integer given as a JSON number, never as text or true/false.

    DRF's own field reads "7", 7.0 and true as numbers; a client that sends
    those has a bug worth hearing about, so here they are refused.
    """

    default_error_messages = {
        "not_a_number": "Give a whole number (a JSON number, not text or a boolean)."
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_a_number")
        return super().to_internal_value(data)


# -- input -------------------------------------------------------------------


class TicketInput(StrictSerializer):
    """No fields: a body, if any, must be an empty object."""


class RegisterInput(StrictSerializer):
    username = serializers.CharField(max_length=150, trim_whitespace=True)
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    email = serializers.CharField(required=False, allow_blank=True, default="")


class SessionCreateInput(StrictSerializer):
    theme = serializers.CharField(max_length=64, help_text="Theme slug.")
    seed = WholeNumberField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=SEED_MAX,
        help_text="Leave out for a random seed.",
    )
    storyteller = serializers.ChoiceField(
        choices=STORYTELLERS,
        required=False,
        allow_null=True,
        help_text="The Director's profile; leave out for the theme's own.",
    )
    voice = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=40,
        help_text="A language-model voice profile the site configures; null for "
        "the rule-based agents. Leave out for the site's default.",
    )
    voice_overrides = serializers.DictField(
        required=False,
        help_text="Per agent, any of model, temperature, max_tokens, timeout: "
        '{"narrator": {"temperature": 0.2}}.',
    )


class SessionForkInput(StrictSerializer):
    turn = WholeNumberField(
        min_value=0,
        help_text="How many of the source's turns the new game keeps (0 to its "
        "current turn).",
    )


class SessionUpdateInput(StrictSerializer):
    visibility = serializers.ChoiceField(
        choices=GameSession.Visibility.choices, required=False
    )
    voice = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=40,
        help_text="Switch the game's voice profile; null for rule-based. "
        "voice_overrides alone change the current profile's settings.",
    )
    voice_overrides = serializers.DictField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"visibility": ["Give visibility, voice or both."]}
            )
        return attrs


def _action(kind: str, description: str, required: dict, optional=None) -> dict:
    return {
        "type": "object",
        "title": kind,
        "description": description,
        "properties": {
            "type": {"type": "string", "enum": [kind]},
            **required,
            **(optional or {}),
        },
        "required": ["type", *required],
        "additionalProperties": False,
    }


@extend_schema_field(
    {
        "oneOf": [
            _action(
                "choose",
                "One of the scene's options, numbered from 0.",
                {"option": {"type": "integer", "minimum": 0}},
            ),
            _action(
                "order",
                "A direct order: one of the functions the session's view.orders "
                "lists, with its arguments.",
                {"function": {"type": "string"}},
                {"args": {"type": "object"}},
            ),
            _action(
                "free_text",
                "Orders in the player's own words, on one line.",
                {
                    "text": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": FREE_TEXT_CHARS,
                    }
                },
            ),
        ]
    }
)
class ActionField(serializers.DictField):
    """A player's action; its shape is documented here, checked by the engine."""


class TurnSubmitInput(StrictSerializer):
    expected_turn = WholeNumberField(
        min_value=0, help_text="The game's current turn, as the client last saw it."
    )
    action = ActionField(help_text='For example {"type": "choose", "option": 0}.')


# -- output ------------------------------------------------------------------


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ErrorResponse(serializers.Serializer):
    error = ErrorDetail()


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()


class ThemeOutput(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField()
    turn_limit = serializers.SerializerMethodField()

    class Meta:
        model = Theme
        fields = ["slug", "version", "title", "summary", "turn_limit"]

    def get_summary(self, theme) -> str:
        return str(theme.data.get("summary", ""))

    def get_turn_limit(self, theme) -> int | None:
        limit = theme.data.get("turn_limit")
        return limit if isinstance(limit, int) else None


class ThemeRef(serializers.Serializer):
    slug = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()


class SessionMetaOutput(serializers.Serializer):
    id = serializers.UUIDField()
    owner = serializers.CharField()
    theme = ThemeRef()
    seed = serializers.IntegerField()
    status = serializers.ChoiceField(choices=GameSession.Status.choices)
    turn = serializers.IntegerField()
    ending = serializers.CharField(allow_null=True)
    visibility = serializers.ChoiceField(choices=GameSession.Visibility.choices)
    parent = serializers.UUIDField(allow_null=True)
    fork_turn = serializers.IntegerField(allow_null=True)
    storyteller = serializers.CharField(
        allow_null=True, help_text="The Director profile chosen at the start."
    )
    voice = serializers.DictField(
        allow_null=True,
        help_text="The voice profile and each voiced agent's backend and model; "
        "null for rule-based.",
    )
    head_chain_hash = serializers.CharField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class PendingTurnOutput(serializers.Serializer):
    id = serializers.UUIDField()
    turn = serializers.IntegerField(help_text="The number the turn will have.")
    state = serializers.ChoiceField(choices=PendingTurn.State.choices)
    agent = serializers.CharField(
        allow_null=True, help_text="The agent asking its model now."
    )
    error = serializers.CharField(
        allow_null=True, help_text="Why it failed; the game takes a new turn."
    )
    created = serializers.DateTimeField()


class SessionOutput(SessionMetaOutput):
    view = serializers.DictField(help_text="The engine's client view of the state.")
    pending = PendingTurnOutput(
        allow_null=True, help_text="A turn being played on a worker, if any."
    )


class TurnQueuedOutput(serializers.Serializer):
    session = serializers.UUIDField()
    turn = serializers.IntegerField(help_text="The game's current turn (unchanged).")
    status = serializers.ChoiceField(choices=GameSession.Status.choices)
    pending = PendingTurnOutput()


class TurnOutput(serializers.ModelSerializer):
    class Meta:
        model = Turn
        fields = [
            "number",
            "action",
            "record",
            "state_hash",
            "chain_hash",
            "duration_us",
            "created",
        ]


class TurnSubmitOutput(serializers.Serializer):
    session = serializers.UUIDField()
    turn = serializers.IntegerField(help_text="Number of the turn just played.")
    status = serializers.ChoiceField(choices=GameSession.Status.choices)
    record = serializers.DictField(help_text="The engine's record of the turn.")
    view = serializers.DictField(help_text="The client view after the turn.")


class VerifyTurnOutput(serializers.Serializer):
    turn = serializers.IntegerField()
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())


class VerifyOutput(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Every stored turn replays to its hashes.")
    turns = serializers.IntegerField(help_text="Number of stored turns checked.")
    first_bad_turn = serializers.IntegerField(
        allow_null=True,
        help_text="The earliest turn that disagrees (0: the opening state).",
    )
    detail = serializers.CharField(help_text="The first problem found, or empty.")
    results = VerifyTurnOutput(many=True)


class TicketOutput(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid.")


IDEMPOTENCY_HELP = (
    f"Optional client-chosen key (1-{IDEMPOTENCY_KEY_MAX} characters). "
    "Repeating a request with the same key returns the stored response "
    "instead of playing another turn."
)
