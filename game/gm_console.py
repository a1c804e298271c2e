"""The game master's pages beside a game's admin page: inspect and intervene.

``inspect`` shows a game turn by turn with every state rebuilt by replay and
the changes between any two turns; ``intervene`` plays a game master's event
as the next turn. Both only parse, call a selector or service, and render.
"""

import json

from django import forms
from django.contrib import messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse

import agents
from agents.engine import GM_TEXT_MAX
from agents.functions import REGISTRY
from game import selectors, services
from game.errors import GameError
from game.models import GameSession

ARGS_MAX = 2000


def audit(request, obj, message: str, flag: int = CHANGE) -> None:
    """Record a game master's action in the admin's history of the object."""
    LogEntry.objects.log_actions(
        user_id=request.user.pk,
        queryset=[obj],
        action_flag=flag,
        change_message=message,
        single_object=True,
    )


class InterventionForm(forms.Form):
    """A game master's event: a safe-function call, the next scene, or both."""

    function = forms.ChoiceField(
        required=False,
        help_text="A safe function the theme enables (upkeep excepted); the "
        "Judge rules on it like on any proposal.",
    )
    args = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='The function\'s arguments as JSON, e.g. {"amount": 10}.',
    )
    scene = forms.ChoiceField(
        required=False,
        help_text="A scene of the deck to come next, whatever "
        "the Director would have drawn.",
    )
    text = forms.CharField(
        required=False,
        max_length=GM_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="How the chronicle tells it, in the world's voice.",
    )
    expected_turn = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, theme: agents.Theme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function"].choices = [("", "none")] + [
            (name, f"{name} ({REGISTRY[name].category})")
            for name in sorted(REGISTRY)
            if REGISTRY[name].category != "upkeep" and name not in theme.disabled
        ]
        self.fields["scene"].choices = [("", "as the Director draws")] + [
            (sid, f"{scene['title']} ({sid})")
            for sid, scene in sorted(theme.scenes.items())
        ]

    def clean_args(self):
        raw = self.cleaned_data["args"].strip()
        if not raw:
            return None
        if len(raw) > ARGS_MAX:
            raise forms.ValidationError(f"At most {ARGS_MAX} characters.")
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}.") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("Give an object of argument names to values.")
        return value

    def event(self) -> dict:
        data = self.cleaned_data
        event = {}
        if data["function"]:
            event["function"] = data["function"]
            event["args"] = data["args"] or {}
        elif data["args"]:
            event["args"] = data["args"]
        if data["scene"]:
            event["scene"] = data["scene"]
        if data["text"].strip():
            event["text"] = data["text"].strip()
        return event


def intervene_view(model_admin, request, object_id):
    if not request.user.has_perm("game.intervene"):
        raise PermissionDenied
    session = selectors.session_by_id(object_id)
    if session.status != GameSession.Status.ACTIVE:
        model_admin.message_user(
            request,
            f"This game is {session.get_status_display().lower()}; it takes no "
            "more turns, so there is nothing to intervene in.",
            messages.WARNING,
        )
        return redirect("admin:game_gamesession_change", session.pk)
    theme = selectors.theme_engine(session.theme)
    form = InterventionForm(
        request.POST or None,
        theme=theme,
        initial={"expected_turn": session.turn_number},
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = services.turn_submit_gm(
                session_id=session.pk,
                user=request.user,
                event=form.event(),
                expected_turn=form.cleaned_data["expected_turn"],
            )
        except GameError as exc:
            field = exc.details.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            number = result.payload.get("turn")
            audit(request, session, f"Game-master event played as turn {number}.")
            model_admin.message_user(
                request,
                f"Your event was played as turn {number}; the player sees it now.",
                messages.SUCCESS,
            )
            return redirect("admin:game_gamesession_inspect", session.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Intervene in {session}",
        "opts": model_admin.model._meta,
        "original": session,
        "session": session,
        "form": form,
        "scene": (session.state or {}).get("scene"),
    }
    return TemplateResponse(request, "admin/game/gamesession/intervene.html", context)


def _turn_number(raw, last: int) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= last else None


def inspect_view(model_admin, request, object_id):
    session = selectors.session_by_id(object_id)
    inspected = selectors.session_inspect(session)
    states = inspected["states"]
    last = len(states) - 1

    shown = _turn_number(request.GET.get("state"), last)
    diff_from = _turn_number(request.GET.get("from"), last)
    diff_to = _turn_number(request.GET.get("to"), last)
    for name, value in (("state", shown), ("from", diff_from), ("to", diff_to)):
        asked = request.GET.get(name)
        if asked not in (None, "") and value is None:
            messages.warning(
                request,
                f"There is no turn {asked[:20]!r} to show ({name}=): this game has "
                f"turns 0 to {last}.",
            )
    diff = None
    if diff_from is not None and diff_to is not None:
        before, after = states[diff_from], states[diff_to]
        diff = (
            selectors.state_diff(before, after)
            if before is not None and after is not None
            else None
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Inspect {session}",
        "opts": model_admin.model._meta,
        "original": session,
        "session": session,
        "turns": inspected["turns"],
        "last": last,
        "shown": shown,
        "shown_state": (
            json.dumps(states[shown], indent=2, sort_keys=True, ensure_ascii=False)
            if shown is not None and states[shown] is not None
            else None
        ),
        "diff_from": diff_from,
        "diff_to": diff_to,
        "diff": diff,
        "can_intervene": request.user.has_perm("game.intervene")
        and session.status == GameSession.Status.ACTIVE,
    }
    return TemplateResponse(request, "admin/game/gamesession/inspect.html", context)
