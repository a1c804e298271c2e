"""Writes to themes that game masters make: upload, edit, clone, preview.

A stored theme version never changes once a game may have used it: saving
edited content stores a new version (the patch number raised, unless the
pack names a new version itself), so running games keep the version they
started on and new games get the newest. Built-in themes are edited by
cloning them under a slug of their own; ``load_themes`` alone writes those.
"""

import json
import logging

import yaml
from django.db import IntegrityError, transaction

import agents
from game.errors import InvalidInput
from game.models import Theme

logger = logging.getLogger(__name__)

MAX_PACK_BYTES = 2_000_000
PREVIEW_TURNS = 3


def _refused(message: str, problems: list[dict]) -> InvalidInput:
    return InvalidInput(
        message,
        details={(p.get("path") or "<root>"): [p["message"]] for p in problems[:50]},
    )


def theme_parse(text: str) -> dict:
    """A theme pack from JSON or YAML text; InvalidInput says where it breaks."""
    if len(text.encode("utf-8")) > MAX_PACK_BYTES:
        raise InvalidInput(
            f"A theme pack may be at most {MAX_PACK_BYTES // 1000} kB.",
            details={"data": ["Too large."]},
        )
    stripped = text.lstrip()
    if not stripped:
        raise InvalidInput("The theme pack is empty.", details={"data": ["Empty."]})
    if stripped.startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                details={"data": [exc.msg]},
            ) from exc
    else:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = (
                f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            )
            problem = getattr(exc, "problem", None) or "unreadable"
            raise InvalidInput(
                f"Not valid YAML: {problem}{where}.", details={"data": [str(problem)]}
            ) from exc
    if not isinstance(raw, dict):
        raise InvalidInput(
            "A theme pack is an object (a mapping) at the top.",
            details={"data": ["Not an object."]},
        )
    # YAML may carry dates and other non-JSON values; the engine takes JSON.
    try:
        return json.loads(json.dumps(raw))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"The pack holds a value JSON cannot carry: {exc}.",
            details={"data": [str(exc)]},
        ) from exc


def theme_compile(raw: dict) -> agents.Theme:
    """The engine's compiled pack; InvalidInput lists each problem by its path."""
    try:
        return agents.load_theme(raw)
    except agents.ThemeError as exc:
        count = len(exc.errors)
        raise _refused(
            f"The theme pack has {count} problem{'s' if count != 1 else ''}; "
            f"the first: {exc}",
            exc.errors,
        ) from exc


def _next_patch(version: str) -> str:
    parts = version.split(".")
    try:
        major, minor, patch = (int(part) for part in parts)
    except ValueError:
        return f"{version}.1"
    return f"{major}.{minor}.{patch + 1}"


def _without_version(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "version"}


def theme_save(*, raw: dict) -> tuple[Theme, bool]:
    """Store a game master's pack; (theme, created).

    The same content as a stored version, whatever version number it
    names, is that version (nothing new is stored). New content under a
    version that is taken becomes the next free patch version. A built-in
    slug is refused: clone it.
    """
    compiled = theme_compile(raw)
    slug = compiled.slug
    if Theme.objects.filter(slug=slug, builtin=True).exists():
        raise InvalidInput(
            f'"{slug}" is a built-in theme; clone it to make a theme of your own.',
            details={"slug": ["A built-in theme."]},
        )

    with transaction.atomic():
        stored = {
            t.version: t for t in Theme.objects.select_for_update().filter(slug=slug)
        }
        # A version number is no change of content: the same pack saved again
        # under its old number is the version that holds it.
        body = _without_version(compiled.data)
        for theme in stored.values():
            if _without_version(theme.data) == body:
                return theme, False
        data = compiled.data
        version = compiled.version
        while version in stored:
            version = _next_patch(version)
        if version != compiled.version:
            data = {**data, "version": version}
            compiled = theme_compile(data)
        try:
            theme = Theme.objects.create(
                slug=slug,
                version=version,
                title=compiled.title,
                data=compiled.data,
                content_hash=compiled.content_hash,
                builtin=False,
            )
        except IntegrityError as exc:
            raise InvalidInput(
                f"{slug} {version} was stored meanwhile; save again.",
                details={"version": ["Taken."]},
            ) from exc
    logger.info("theme %s %s stored", slug, version)
    return theme, True


def theme_clone(*, theme: Theme, slug: str | None = None) -> Theme:
    """A copy of a theme under a slug of its own, version 1.0.0, to edit freely.

    The copy starts disabled, so no new game starts on it before it is edited
    and enabled.
    """
    slug = slug or _free_slug(f"{theme.slug}_custom"[:37])
    if Theme.objects.filter(slug=slug).exists():
        raise InvalidInput(
            f'A theme "{slug}" exists already.', details={"slug": ["Taken."]}
        )
    raw = {
        **theme.data,
        "slug": slug,
        "version": "1.0.0",
        "title": f"{theme.title[:113]} (copy)",
    }
    clone, _ = theme_save(raw=raw)
    # Players see it only once a game master has made it theirs and enabled it.
    Theme.objects.filter(pk=clone.pk).update(enabled=False)
    clone.refresh_from_db()
    return clone


def _free_slug(base: str) -> str:
    taken = set(
        Theme.objects.filter(slug__startswith=base).values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def theme_preview(*, theme: Theme, seed: int, turns: int = PREVIEW_TURNS) -> list:
    """The opening scene and the ones that follow choosing the first option."""
    compiled = theme_compile(theme.data)
    state = agents.new_game(compiled, seed)
    scenes = []
    for _ in range(turns + 1):
        view = agents.view(state)
        if view.get("scene") is None:
            break
        scenes.append(view["scene"])
        if len(scenes) > turns:
            break
        state = agents.resolve_turn(state, {"type": "choose", "option": 0}).state
    return scenes
