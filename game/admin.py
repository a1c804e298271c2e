"""Admin for game masters: browse games turn by turn, manage themes.

Sessions and turns are read-mostly here; game state changes only through the
services, so the admin never saves state or records.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.urls import reverse
from django.utils.html import format_html

from game import selectors, services
from game.errors import GameError
from game.models import GameSession, IdempotencyKey, Theme, Turn


def _pretty(value) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre style="max-height:40em;overflow:auto">{}</pre>', text)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["slug", "version", "title", "builtin", "enabled", "created"]
    list_filter = ["builtin", "enabled", "slug"]
    list_editable = ["enabled"]
    search_fields = ["slug", "title"]
    readonly_fields = ["slug", "version", "content_hash", "builtin", "pretty_data"]
    exclude = ["data"]

    def has_add_permission(self, request):
        # Packs must pass the engine's validation, which only services run.
        return False

    @admin.display(description="Data")
    def pretty_data(self, obj):
        return _pretty(obj.data)


class TurnInline(admin.TabularInline):
    model = Turn
    fields = ["number_link", "action", "state_hash", "chain_hash", "duration_us"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["number"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Turn")
    def number_link(self, obj):
        url = reverse("admin:game_turn_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.number)


class SessionActionForm(ActionForm):
    """The action bar's extra field: the turn "Fork at turn" starts from."""

    turn = forms.IntegerField(
        required=False,
        min_value=0,
        label="Turn",
        help_text="For “Fork at turn”: how many turns the new game keeps.",
    )


@admin.register(GameSession)
class GameSessionAdmin(admin.ModelAdmin):
    action_form = SessionActionForm
    actions = ["verify_chain", "fork_at_turn"]
    list_display = [
        "id",
        "owner",
        "theme",
        "status",
        "turn_number",
        "ending",
        "visibility",
        "updated",
    ]
    list_filter = ["status", "theme", "visibility"]
    search_fields = ["id", "owner__username"]
    list_select_related = ["owner", "theme"]
    date_hierarchy = "created"
    inlines = [TurnInline]
    exclude = ["state"]
    readonly_fields = [
        "id",
        "owner",
        "theme",
        "seed",
        "status",
        "turn_number",
        "head_chain_hash",
        "ending",
        "visibility",
        "parent",
        "fork_turn",
        "version",
        "created",
        "updated",
        "pretty_state",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewing is allowed; saving would bypass the services.
        return False

    @admin.display(description="State")
    def pretty_state(self, obj):
        return _pretty(obj.state)

    @admin.action(description="Verify chain")
    def verify_chain(self, request, queryset):
        for session in queryset.select_related("theme", "owner"):
            report = selectors.session_verify(session)
            if report["ok"]:
                self.message_user(
                    request,
                    f"OK {session.id}: {report['turns']} turn(s) replay to their "
                    "stored hashes.",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    f"MISMATCH {session.id}: first bad turn "
                    f"{report['first_bad_turn']} ({report['detail']}).",
                    messages.ERROR,
                )

    @admin.action(description="Fork at turn (the new game is yours)")
    def fork_at_turn(self, request, queryset):
        raw = request.POST.get("turn", "").strip()
        try:
            turn = int(raw)
        except ValueError:
            self.message_user(
                request, "Enter the turn to fork at in the Turn box.", messages.ERROR
            )
            return
        for session in queryset:
            try:
                fork = services.session_fork_for_operator(
                    session_id=session.id, user=request.user, at_turn=turn
                )
            except GameError as exc:
                self.message_user(
                    request, f"{session.id} not forked: {exc.message}", messages.ERROR
                )
            else:
                url = reverse("admin:game_gamesession_change", args=[fork.pk])
                self.message_user(
                    request,
                    format_html(
                        'Forked {} at turn {}: <a href="{}">{}</a>',
                        session.id,
                        turn,
                        url,
                        fork.id,
                    ),
                    messages.SUCCESS,
                )


@admin.register(Turn)
class TurnAdmin(admin.ModelAdmin):
    list_display = ["session", "number", "chain_hash", "duration_us", "created"]
    list_filter = ["session__theme", "session__status"]
    search_fields = ["session__id", "session__owner__username"]
    list_select_related = ["session", "session__theme"]
    exclude = ["record", "action"]
    readonly_fields = [
        "session",
        "number",
        "pretty_action",
        "state_hash",
        "chain_hash",
        "duration_us",
        "created",
        "pretty_record",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A turn is a link in its game's hash chain; removing one alone would
        # leave a game that no longer replays.
        return False

    @admin.display(description="Action")
    def pretty_action(self, obj):
        return _pretty(obj.action)

    @admin.display(description="Record")
    def pretty_record(self, obj):
        return _pretty(obj.record)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "session", "response_status", "created"]
    search_fields = ["key", "user__username", "session__id"]
    readonly_fields = [
        "user",
        "key",
        "session",
        "fingerprint",
        "turn",
        "response_status",
        "response_body",
        "created",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
