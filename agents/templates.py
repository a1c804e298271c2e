"""Text templates: `{dotted.name}` placeholders filled from the state and theme."""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]*)\}")

# Placeholders that only make sense in some kinds of text, keyed by kind.
LOCALS: dict[str, tuple[str, ...]] = {
    "scene": (),
    "ending": (),
    "npc_line": ("name", "role", "duty"),
    "fate": ("name", "role"),
    "effect": (
        "structure",
        "npc",
        "stockpile",
        "amount",
        "weather",
        "level",
        "duty",
        "name",
    ),
    "atmosphere": (),
    "order": ("order", "description"),
}


def placeholder_problem(name: str, theme_data: dict[str, Any], kind: str) -> str | None:
    """Why a placeholder cannot be filled, or None if it can."""
    if name in LOCALS.get(kind, ()):
        return None
    if name in ("turn", "turns_left", "enemy.name", "enemy.strength"):
        return None
    if name in ("enemy.morale", "enemy.engines"):
        return None
    parts = name.split(".")
    if len(parts) in (2, 3) and parts[0] in (
        "npcs",
        "structures",
        "stockpiles",
        "metrics",
    ):
        table = theme_data.get(parts[0], {})
        if not isinstance(table, dict) or parts[1] not in table:
            return f'unknown {parts[0][:-1]} "{parts[1]}" in placeholder {{{name}}}'
        if len(parts) == 2:
            if parts[0] in ("stockpiles", "metrics"):
                return None
            return f"placeholder {{{name}}} needs a field such as .name"
        allowed = {
            "npcs": ("name", "role"),
            "structures": ("name", "integrity", "max"),
            "stockpiles": ("name",),
            "metrics": ("name",),
        }[parts[0]]
        if parts[2] in allowed:
            return None
    return f"unknown placeholder {{{name}}}"


# Characters after which a filled-in name opens a new sentence.
SENTENCE_ENDS = '.!?\n"“'


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def fill(
    text: str,
    data: dict[str, Any],
    theme_data: dict[str, Any],
    local: dict[str, Any] | None = None,
) -> str:
    """Fill every placeholder; unknown ones are left as written."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if local and name in local:
            value = local[name]
        else:
            value = _value(name, data, theme_data)
            if value is None:
                return match.group(0)
        text_value = str(value)
        if _starts_sentence(text, match.start()):
            # "the Grey Wake" opens a sentence as "The Grey Wake".
            text_value = text_value[:1].upper() + text_value[1:]
        return text_value

    if "{" not in text:
        return text
    return PLACEHOLDER.sub(lookup, text)


def _starts_sentence(text: str, at: int) -> bool:
    """True when position `at` of `text` begins a sentence or a quotation."""
    before = text[:at].rstrip(" ")
    return not before or before[-1] in SENTENCE_ENDS


def _value(name: str, data: dict[str, Any], theme_data: dict[str, Any]) -> Any:
    if name == "turn":
        return data["turn"]
    if name == "turns_left":
        return max(0, data["turn_limit"] - data["turn"])
    parts = name.split(".")
    head = parts[0]
    if head == "enemy" and len(parts) == 2:
        if parts[1] == "name":
            return theme_data["enemy"]["name"]
        return data["enemy"].get(parts[1])
    if head in ("npcs", "structures", "stockpiles", "metrics") and len(parts) >= 2:
        spec = theme_data.get(head, {}).get(parts[1])
        if spec is None:
            return None
        if len(parts) == 2:
            return data[head].get(parts[1])
        field = parts[2]
        if field in ("name", "role"):
            return spec.get(field)
        live = data[head].get(parts[1])
        if isinstance(live, dict):
            return live.get(field)
    return None
