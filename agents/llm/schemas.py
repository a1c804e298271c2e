"""The JSON Schemas a model's replies must match, and their semantic checks.

A reply is used only if it passes both: the schema (types, lengths, ids drawn
from the theme) and the checks below (text a player may see is plain text,
options stay distinct, a planner call is one the theme lets players make).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import jsonschema

from agents.functions import REGISTRY, arg_problem
from agents.functions.registry import FLAG_NAME, Arg
from agents.theme import Theme

MAX_CALLS = 3
SCENE_TEXT_CHARS = 1500
LABEL_CHARS = 80
OPTION_TEXT_CHARS = 600
LINE_CHARS = 300
PARAGRAPH_CHARS = 800
MAX_PARAGRAPHS = 6

# Keywords some OpenAI-compatible servers refuse in strict mode; the engine
# enforces them itself after the reply arrives.
_NOT_ON_THE_WIRE = ("title", "minLength", "maxLength")


def _text(limit: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    # Every property required and nothing else allowed: the shape strict
    # structured output needs, and the shape the engine wants anyway.
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def narrator_schema() -> dict[str, Any]:
    paragraphs = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_PARAGRAPHS,
        "items": _text(PARAGRAPH_CHARS),
    }
    return {"title": "fortress_narrator", **_object({"paragraphs": paragraphs})}


def characters_schema(speakers: list[str]) -> dict[str, Any]:
    line = _object(
        {"npc": {"type": "string", "enum": speakers}, "line": _text(LINE_CHARS)}
    )
    lines = {"type": "array", "minItems": 1, "maxItems": len(speakers), "items": line}
    return {"title": "fortress_characters", **_object({"lines": lines})}


def events_schema(options: int) -> dict[str, Any]:
    option = _object({"label": _text(LABEL_CHARS), "text": _text(OPTION_TEXT_CHARS)})
    listed = {
        "type": "array",
        "minItems": options,
        "maxItems": options,
        "items": option,
    }
    return {
        "title": "fortress_events",
        **_object({"text": _text(SCENE_TEXT_CHARS), "options": listed}),
    }


_PLANNER_CACHE: dict[str, dict[str, Any]] = {}


def planner_schema(theme: Theme) -> dict[str, Any]:
    """Calls of the theme's player orders, each with its own typed arguments."""
    cached = _PLANNER_CACHE.get(theme.content_hash)
    if cached is not None:
        return cached
    shapes = []
    for name in theme.player_orders:
        fn = REGISTRY[name]
        args = _object({arg.name: _arg_schema(arg, theme) for arg in fn.args})
        shapes.append(
            _object({"function": {"type": "string", "enum": [name]}, "args": args})
        )
    calls = {"type": "array", "maxItems": MAX_CALLS, "items": {"anyOf": shapes}}
    schema = {"title": "fortress_planner", **_object({"calls": calls})}
    if len(_PLANNER_CACHE) > 32:
        _PLANNER_CACHE.clear()
    _PLANNER_CACHE[theme.content_hash] = schema
    return schema


_ID_TABLES = {
    "npc": "npc_ids",
    "structure": "structure_ids",
    "stockpile": "stockpile_ids",
    "metric": "metric_ids",
}


def _arg_schema(arg: Arg, theme: Theme) -> dict[str, Any]:
    if arg.type == "int":
        return {"type": "integer", "minimum": arg.min, "maximum": arg.max}
    if arg.type == "str":
        return {"type": "string", "enum": list(arg.choices)}
    if arg.type == "flag":
        return {"type": "string", "pattern": FLAG_NAME.pattern}
    return {"type": "string", "enum": list(getattr(theme, _ID_TABLES[arg.type]))}


def wire_schema(schema: Any) -> Any:
    """The schema as sent to a strict structured-output API (lengths left out)."""
    if isinstance(schema, dict):
        return {
            key: wire_schema(value)
            for key, value in schema.items()
            if key not in _NOT_ON_THE_WIRE
        }
    if isinstance(schema, list):
        return [wire_schema(item) for item in schema]
    return schema


def schema_problem(schema: dict[str, Any], reply: Any) -> str | None:
    """The first way a reply breaks its schema, or None."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(reply))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "reply"
    return f"{where}: {error.message}"[:300]


# -- semantic checks --------------------------------------------------------


def text_problem(text: str, where: str, newlines: bool = False) -> str | None:
    """Text a player may read must be plain: no control characters, no braces.

    Braces are refused so that model text can never be read as a template.
    """
    if not text.strip():
        return f"{where} is blank"
    for char in text:
        if char == "\n" and newlines:
            continue
        if char in "{}":
            return f"{where} contains a brace"
        if unicodedata.category(char)[0] == "C":
            return f"{where} contains a control character"
    return None


def narrator_problem(reply: dict[str, Any]) -> str | None:
    for index, paragraph in enumerate(reply["paragraphs"]):
        problem = text_problem(paragraph, f"paragraphs/{index}")
        if problem:
            return problem
    return None


def characters_problem(reply: dict[str, Any], speakers: list[str]) -> str | None:
    seen: set[str] = set()
    for index, item in enumerate(reply["lines"]):
        if item["npc"] not in speakers:
            return f"lines/{index}: {item['npc']} does not speak this turn"
        if item["npc"] in seen:
            return f"lines/{index}: {item['npc']} speaks twice"
        seen.add(item["npc"])
        problem = text_problem(item["line"], f"lines/{index}/line")
        if problem:
            return problem
    return None


def events_problem(reply: dict[str, Any], options: int) -> str | None:
    if len(reply["options"]) != options:
        return f"options: {options} expected"
    problem = text_problem(reply["text"], "text", newlines=True)
    if problem:
        return problem
    labels = set()
    for index, option in enumerate(reply["options"]):
        for key in ("label", "text"):
            problem = text_problem(option[key], f"options/{index}/{key}")
            if problem:
                return problem
        labels.add(option["label"].strip().casefold())
    if len(labels) != options:
        return "options: two options have the same label"
    return None


def planner_problem(reply: dict[str, Any], theme: Theme) -> str | None:
    if len(reply["calls"]) > MAX_CALLS:
        return f"calls: at most {MAX_CALLS}"
    for index, call in enumerate(reply["calls"]):
        name = call["function"]
        if name not in theme.player_orders:
            return f"calls/{index}: {name} is not an order this theme allows"
        problem = arg_problem(REGISTRY[name], call["args"], theme)
        if problem:
            return f"calls/{index}/{problem[0]}: {problem[1]}"
    return None
