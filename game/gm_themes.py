"""The game master's theme pages in the admin: upload, edit, clone, preview.

They parse the form, call ``game.themes`` and render; the engine's
validation decides what may be stored, and its problems are shown with the
path in the pack where each was found.
"""

import json

from django import forms
from django.contrib import messages
from django.contrib.admin.models import ADDITION
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from game import themes
from game.errors import InvalidInput
from game.gm_console import audit
from game.models import Theme
from game.services import SEED_MAX


class ThemePackForm(forms.Form):
    """A pack as text (JSON or YAML) or as a file of either."""

    text = forms.CharField(
        required=False,
        label="Pack",
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "false"}),
        help_text="The whole theme pack as JSON or YAML (docs/themes.md).",
    )
    upload = forms.FileField(
        required=False, label="Or a file", help_text="A .json, .yaml or .yml file."
    )

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload is not None:
            if upload.size > themes.MAX_PACK_BYTES:
                raise forms.ValidationError("That file is too large for a theme pack.")
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise forms.ValidationError("The file is not UTF-8 text.") from exc
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("Paste a pack or choose a file.")
        return data


def _pack_page(model_admin, request, *, title, form, theme=None, problems=None):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "original": theme,
        "form": form,
        "problems": problems or [],
    }
    return TemplateResponse(request, "admin/game/theme/pack.html", context)


def _store(model_admin, request, form, verb: str, theme=None):
    """Save the form's pack; the response to give, and any problems listed."""
    try:
        raw = themes.theme_parse(form.cleaned_data["text"])
        stored, created = themes.theme_save(raw=raw)
    except InvalidInput as exc:
        problems = [
            {"path": path, "message": "; ".join(text)}
            for path, text in exc.details.items()
        ]
        form.add_error(None, exc.message)
        return None, problems
    if created:
        audit(request, stored, f"{verb} as {stored.slug} {stored.version}.", ADDITION)
        model_admin.message_user(
            request,
            f"Stored {stored.slug} {stored.version}; new games start on it, "
            "games already begun keep their version.",
            messages.SUCCESS,
        )
    else:
        model_admin.message_user(
            request,
            f"Nothing new: that is {stored.slug} {stored.version} as stored.",
            messages.INFO,
        )
    return redirect("admin:game_theme_change", stored.pk), []


def upload_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ThemePackForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        response, problems = _store(model_admin, request, form, "Uploaded")
        if response is not None:
            return response
    return _pack_page(
        model_admin, request, title="Upload a theme", form=form, problems=problems
    )


def edit_view(model_admin, request, object_id):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    theme = get_object_or_404(Theme, pk=object_id)
    if theme.builtin:
        model_admin.message_user(
            request,
            "Built-in themes are edited as a copy: use Clone, then edit the copy.",
            messages.WARNING,
        )
        return redirect("admin:game_theme_change", theme.pk)
    initial = {"text": json.dumps(theme.data, indent=2, ensure_ascii=False)}
    form = ThemePackForm(request.POST or None, request.FILES or None, initial=initial)
    problems = []
    if request.method == "POST" and form.is_valid():
        response, problems = _store(
            model_admin, request, form, f"Edited from {theme.version}", theme
        )
        if response is not None:
            return response
    return _pack_page(
        model_admin,
        request,
        title=f"Edit {theme.slug} {theme.version}",
        form=form,
        theme=theme,
        problems=problems,
    )


def clone_view(model_admin, request, object_id):
    if not model_admin.has_add_permission(request) or request.method != "POST":
        raise PermissionDenied
    theme = get_object_or_404(Theme, pk=object_id)
    try:
        clone = themes.theme_clone(theme=theme)
    except InvalidInput as exc:
        model_admin.message_user(request, exc.message, messages.ERROR)
        return redirect("admin:game_theme_change", theme.pk)
    audit(request, clone, f"Cloned from {theme.slug} {theme.version}.", ADDITION)
    model_admin.message_user(
        request, f"Cloned as {clone.slug}; edit it below.", messages.SUCCESS
    )
    return redirect("admin:game_theme_edit", clone.pk)


def preview_view(model_admin, request, object_id):
    theme = get_object_or_404(Theme, pk=object_id)
    try:
        seed = int(request.GET.get("seed", "1"))
    except ValueError:
        seed = 1
    seed = min(max(seed, 0), SEED_MAX)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Preview {theme.slug} {theme.version}",
        "opts": model_admin.model._meta,
        "original": theme,
        "seed": seed,
        "scenes": themes.theme_preview(theme=theme, seed=seed),
    }
    return TemplateResponse(request, "admin/game/theme/preview.html", context)
