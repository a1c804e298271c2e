"""Admin for game masters: browse games turn by turn, manage themes.

Sessions and turns are read-mostly here; game state changes only through the
services, so the admin never saves state or records.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from agents.engine import STORYTELLERS
from agents.policies import POLICIES
from game import (
    gm_console,
    gm_themes,
    portability,
    selectors,
    services,
    sim_report,
    voices,
)
from game.errors import GameError
from game.jobs import services as job_services
from game.models import GameSession, IdempotencyKey, Job, PendingTurn, Theme, Turn


def _tokens(tokens) -> str:
    if not isinstance(tokens, dict):
        return "-"
    return f"{tokens.get('prompt') or '?'} in, {tokens.get('completion') or '?'} out"


def _pretty(value) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre style="max-height:40em;overflow:auto">{}</pre>', text)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows that are read here and written only by the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecordAdmin(ViewOnlyAdmin):
    """Records that stay as they were written: nobody deletes them here either."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["slug", "version", "title", "builtin", "enabled", "created"]
    list_filter = ["builtin", "enabled", "slug"]
    list_editable = ["enabled"]
    search_fields = ["slug", "title"]
    readonly_fields = ["slug", "version", "content_hash", "builtin", "pretty_data"]
    exclude = ["data"]

    change_form_template = "admin/game/theme/change_form.html"
    change_list_template = "admin/game/theme/change_list.html"

    def has_add_permission(self, request):
        # New packs come through the upload and edit pages, which store them
        # through game.themes after the engine's validation.
        return request.user.has_perm("game.add_theme")

    def get_readonly_fields(self, request, obj=None):
        # The content is changed only by storing a new version; the title too,
        # since it is part of the pack.
        return [*self.readonly_fields, "title"]

    def get_urls(self):
        def wrap(view):
            def wrapped(request, *args, **kwargs):
                return view(self, request, *args, **kwargs)

            return self.admin_site.admin_view(wrapped)

        return [
            path("upload/", wrap(gm_themes.upload_view), name="game_theme_upload"),
            path(
                "<int:object_id>/edit/",
                wrap(gm_themes.edit_view),
                name="game_theme_edit",
            ),
            path(
                "<int:object_id>/clone/",
                wrap(gm_themes.clone_view),
                name="game_theme_clone",
            ),
            path(
                "<int:object_id>/preview/",
                wrap(gm_themes.preview_view),
                name="game_theme_preview",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:game_theme_upload")

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


RULE_BASED = "rule-based"


def _voice_choices():
    return [("", "choose a voice"), (RULE_BASED, "rule-based (no model)")] + [
        (name, name) for name in sorted(voices.voice_profiles())
    ]


class SessionActionForm(ActionForm):
    """The action bar's extra fields: the turn "Fork at turn" starts from, and
    the voice "Switch voice" gives."""

    # Text, not a number field: a bad value is explained by the action
    # rather than the whole form being dropped as "no action selected".
    turn = forms.CharField(
        required=False,
        max_length=12,
        label="Turn",
        help_text="For “Fork at turn”: how many turns the new game keeps.",
    )
    voice = forms.ChoiceField(
        required=False,
        label="Voice",
        choices=_voice_choices,
        help_text="For “Switch voice”: the voice profile of the next turns.",
    )


@admin.register(GameSession)
class GameSessionAdmin(ViewOnlyAdmin):
    # Viewing is allowed; saving would bypass the services.
    action_form = SessionActionForm
    change_form_template = "admin/game/gamesession/change_form.html"
    actions = [
        "verify_chain",
        "fork_at_turn",
        "switch_voice",
        "make_public",
        "make_private",
        "abandon",
        "export_transcript",
    ]
    list_display = [
        "id",
        "owner",
        "theme",
        "status",
        "turn_number",
        "ending",
        "visibility",
        "voice_profile",
        "updated",
    ]
    list_filter = ["status", "theme", "visibility"]
    search_fields = ["id", "owner__username"]
    list_select_related = ["owner", "theme"]
    date_hierarchy = "created"
    inlines = [TurnInline]
    exclude = ["state", "voice"]
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
        "voice_setting",
        "version",
        "created",
        "updated",
        "pretty_state",
    ]

    def get_urls(self):
        def wrap(view):
            def wrapped(request, object_id):
                return view(self, request, object_id)

            return self.admin_site.admin_view(wrapped)

        return [
            path(
                "<uuid:object_id>/inspect/",
                wrap(gm_console.inspect_view),
                name="game_gamesession_inspect",
            ),
            path(
                "<uuid:object_id>/intervene/",
                wrap(gm_console.intervene_view),
                name="game_gamesession_intervene",
            ),
            *super().get_urls(),
        ]

    def has_intervene_permission(self, request, obj=None):
        # Actions that change a game (visibility, voice, ending it) are a game
        # master's, like interventions; viewers may read, verify and fork.
        return request.user.has_perm("game.intervene")

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_intervene"] = request.user.has_perm("game.intervene")
        return super().render_change_form(request, context, *args, **kwargs)

    def _each(self, request, queryset, verb, run, done):
        """Run a service on each selected game and say how each went."""
        for session in queryset:
            try:
                changed = run(session)
            except GameError as exc:
                self.message_user(
                    request, f"{session.id} not {verb}: {exc.message}", messages.ERROR
                )
            else:
                gm_console.audit(request, changed, done)
                self.message_user(request, f"{session.id}: {done}", messages.SUCCESS)

    @admin.action(
        description="Make public (spectators may watch)", permissions=["intervene"]
    )
    def make_public(self, request, queryset):
        self._each(
            request,
            queryset,
            "made public",
            lambda session: services.session_set_visibility_for_operator(
                session_id=session.id, visibility="public"
            ),
            "Made public.",
        )

    @admin.action(description="Make private", permissions=["intervene"])
    def make_private(self, request, queryset):
        self._each(
            request,
            queryset,
            "made private",
            lambda session: services.session_set_visibility_for_operator(
                session_id=session.id, visibility="private"
            ),
            "Made private.",
        )

    @admin.action(
        description="End as abandoned (no more turns)", permissions=["intervene"]
    )
    def abandon(self, request, queryset):
        self._each(
            request,
            queryset,
            "ended",
            lambda session: services.session_abandon(session_id=session.id),
            "Ended as abandoned.",
        )

    @admin.action(description="Export transcript (one game, as JSON)")
    def export_transcript(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one game to export.", messages.ERROR
            )
            return None
        session = queryset.get()
        document = portability.session_export_for_operator(session_id=session.id)
        response = HttpResponse(
            json.dumps(document, indent=1, ensure_ascii=False),
            content_type="application/json",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="fortress-{session.id}.json"'
        )
        return response

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

    @admin.display(description="Voice")
    def voice_profile(self, obj):
        return (obj.voice or {}).get("profile") or "rule-based"

    @admin.display(description="Voice")
    def voice_setting(self, obj):
        summary = voices.voice_summary(obj.voice)
        if summary is None:
            return "rule-based"
        models = ", ".join(
            f"{agent}: {value['model']} ({value['backend']})"
            for agent, value in summary["agents"].items()
        )
        return f"{summary['profile']} — {models}"

    @admin.action(
        description="Switch voice (for the next turns)", permissions=["intervene"]
    )
    def switch_voice(self, request, queryset):
        choice = request.POST.get("voice", "")
        if not choice:
            self.message_user(
                request,
                "Choose the voice in the Voice box, or “rule-based”.",
                messages.ERROR,
            )
            return
        profile = "" if choice == RULE_BASED else choice
        for session in queryset:
            try:
                services.session_set_voice(session_id=session.id, voice=profile or None)
            except GameError as exc:
                self.message_user(
                    request, f"{session.id} not switched: {exc.message}", messages.ERROR
                )
            else:
                self.log_change(
                    request, session, f"Voice switched to {profile or 'rule-based'}."
                )
                self.message_user(
                    request,
                    f"{session.id} now plays {profile or 'rule-based'}.",
                    messages.SUCCESS,
                )

    @admin.action(description="Fork at turn (the new game is yours)")
    def fork_at_turn(self, request, queryset):
        raw = request.POST.get("turn", "").strip()
        try:
            turn = int(raw)
        except ValueError:
            self.message_user(
                request,
                "Enter the turn to fork at, a whole number, in the Turn box.",
                messages.ERROR,
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
                gm_console.audit(
                    request, session, f"Forked at turn {turn} into {fork.id}."
                )
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
class TurnAdmin(RecordAdmin):
    # A turn is a link in its game's hash chain; removing one alone would
    # leave a game that no longer replays.
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
        "exchanges",
        "pretty_record",
    ]

    @admin.display(description="Model exchanges")
    def exchanges(self, obj):
        record = obj.record if isinstance(obj.record, dict) else {}
        recordings = record.get("recordings") or []
        if not recordings:
            return "none: every agent was rule-based"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td><details><summary>request and reply"
            "</summary>{}</details></td></tr>",
            (
                (
                    item.get("agent"),
                    f"{item.get('backend') or '-'} / {item.get('model') or '-'}",
                    item.get("outcome"),
                    " ".join(
                        str(part)
                        for part in (item.get("reason"), item.get("detail"))
                        if part
                    )
                    or "-",
                    item.get("latency_ms"),
                    _tokens(item.get("tokens")),
                    item.get("attempts"),
                    _pretty(
                        {"request": item.get("request"), "reply": item.get("reply")}
                    ),
                )
                for item in recordings
                if isinstance(item, dict)
            ),
        )
        return format_html(
            "<table><thead><tr><th>Agent</th><th>Backend / model</th>"
            "<th>Outcome</th><th>Reason</th><th>ms</th><th>Tokens</th>"
            "<th>Attempts</th><th></th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Action")
    def pretty_action(self, obj):
        return _pretty(obj.action)

    @admin.display(description="Record")
    def pretty_record(self, obj):
        return _pretty(obj.record)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ViewOnlyAdmin):
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


class SimulationForm(forms.Form):
    """What a game master chooses for a batch simulation."""

    theme = forms.ChoiceField(help_text="Its newest enabled version is played.")
    policy = forms.ChoiceField(
        choices=[(name, name) for name in POLICIES],
        help_text="random and cautious are quick; greedy and scripted look ahead "
        "and take several times longer a game.",
    )
    games = forms.IntegerField(
        min_value=1, max_value=job_services.SIMULATION_MAX_GAMES, initial=200
    )
    seed = forms.IntegerField(
        min_value=0,
        max_value=services.SEED_MAX,
        initial=1,
        help_text="The first game's seed; game n plays seed + n.",
    )
    storyteller = forms.ChoiceField(
        required=False,
        choices=[("", "the theme's own")] + [(name, name) for name in STORYTELLERS],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [
            (theme.slug, f"{theme.title} ({theme.slug} {theme.version})")
            for theme in selectors.theme_list()
        ]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Simulations and clean-ups: started here, run by the Celery workers."""

    change_list_template = "admin/game/job/change_list.html"
    list_display = [
        "kind",
        "state",
        "progress",
        "summary",
        "requested_by",
        "created",
        "finished",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["id", "task_id", "requested_by__username"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created"
    exclude = ["parameters", "result"]
    readonly_fields = [
        "id",
        "kind",
        "live_progress",
        "pretty_parameters",
        "error",
        "requested_by",
        "task_id",
        "created",
        "started",
        "finished",
        "report",
    ]

    class Media:
        js = ["js/job.js"]

    def has_add_permission(self, request):
        # Jobs are started through the simulation form, which checks its input
        # through the service; the permission is what the form asks for.
        return request.user.has_perm("game.add_job")

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.simulate_view)
        return [
            path("simulate/", view, name="game_job_simulate"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:game_job_simulate")

    def simulate_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SimulationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                job = job_services.simulation_start(
                    requested_by=request.user,
                    theme_slug=data["theme"],
                    policy=data["policy"],
                    games=data["games"],
                    seed=data["seed"],
                    storyteller=data["storyteller"] or None,
                )
            except GameError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_addition(request, job, [{"added": {}}])
                self.message_user(
                    request,
                    f"Simulation queued: {data['games']} game(s) of {data['theme']} "
                    f"by the {data['policy']} policy.",
                    messages.SUCCESS,
                )
                return redirect("admin:game_job_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a simulation",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/game/job/simulate.html", context)

    @admin.display(description="Progress")
    def progress(self, obj):
        return f"{obj.progress_done}/{obj.progress_total}"

    @admin.display(description="Summary")
    def summary(self, obj):
        if obj.kind == Job.Kind.SIMULATION:
            params = obj.parameters
            text = f"{params.get('theme')} · {params.get('policy')}"
            report = (obj.result or {}).get("report")
            if report:
                text += f" · {report['victory_share']:.1f}% victories"
            return text
        if obj.result:
            return ", ".join(f"{key} {value}" for key, value in obj.result.items())
        return ""

    @admin.display(description="Progress")
    def live_progress(self, obj):
        # job.js follows /ws/jobs/<id>/ and reloads the page when the job ends.
        return format_html(
            '<div class="job-progress" data-job-id="{}" data-state="{}">'
            '<progress max="{}" value="{}"></progress> '
            '<span class="job-progress-text" aria-live="polite">{} of {} · {}</span>'
            "</div>",
            obj.pk,
            obj.state,
            max(obj.progress_total, 1),
            obj.progress_done,
            obj.progress_done,
            obj.progress_total,
            obj.get_state_display(),
        )

    @admin.display(description="Parameters")
    def pretty_parameters(self, obj):
        return _pretty(obj.parameters)

    @admin.display(description="Report")
    def report(self, obj):
        result = obj.result or {}
        if obj.kind != Job.Kind.SIMULATION:
            return _pretty(result) if result else "-"
        if "report" not in result:
            return "-"
        slug = result["report"]["theme"]["slug"]
        # report_html escapes every value it takes from the report.
        body = sim_report.report_html(
            [result["report"]], {slug: result.get("balance", [])}
        )
        return mark_safe(f"<style>{sim_report.STYLE}</style>{body}")


@admin.register(PendingTurn)
class PendingTurnAdmin(RecordAdmin):
    """Turns played on a worker: which are waiting, which failed and why."""

    list_display = ["session", "number", "state", "agent", "error", "created"]
    list_filter = ["state"]
    search_fields = ["session__id", "submitted_by__username", "task_id"]
    list_select_related = ["session", "session__theme"]
    readonly_fields = [
        "session",
        "number",
        "action",
        "submitted_by",
        "state",
        "agent",
        "error",
        "task_id",
        "turn",
        "created",
        "started",
        "finished",
    ]


@admin.register(LogEntry)
class LogEntryAdmin(RecordAdmin):
    """Who changed what in the admin, for every game master to read.

    The history is only worth something if nobody can edit it.
    """

    list_display = [
        "action_time",
        "user",
        "content_type",
        "object_repr",
        "action_flag",
        "change_message",
    ]
    list_filter = ["action_flag", "content_type", "user"]
    search_fields = ["object_repr", "change_message", "user__username"]
    date_hierarchy = "action_time"
    readonly_fields = list_display + ["object_id"]
