"""Cross-reference checks after the JSON Schema: every name a theme uses must exist."""

from __future__ import annotations

from typing import Any

from agents.conditions import ref_problem
from agents.functions import REGISTRY, UPKEEP_ORDER, arg_problem
from agents.hashing import canonical_json
from agents.narrator import EFFECT_KEYS
from agents.templates import placeholder_problem, placeholders

RESERVED_SNAPSHOT_KEYS = ("structures", "enemy_strength", "tension")
ROLE_TABLES = {
    "morale": "metrics",
    "garrison": "metrics",
    "food": "stockpiles",
    "ammo": "stockpiles",
    "materials": "stockpiles",
    "medicine": "stockpiles",
    "fuel": "stockpiles",
    "wealth": "stockpiles",
    "keep": "structures",
}


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append({"path": path, "message": message})


def cross_check(raw: dict[str, Any]) -> list[dict[str, str]]:
    from agents.theme import Theme

    out = _Problems()
    _check_ranges(raw, out)
    _check_roles(raw, out)
    if out.items:
        # Later checks lean on roles and ranges being sound.
        return out.items
    theme = Theme(raw)
    _check_functions(raw, out)
    _check_tactics(raw, theme, out)
    _check_scenes(raw, theme, out)
    _check_endings(raw, out)
    _check_texts(raw, out)
    return out.items


def _check_ranges(raw: dict[str, Any], out: _Problems) -> None:
    for mid, spec in raw["metrics"].items():
        if not spec["min"] <= spec["start"] <= spec["max"]:
            out.add(f"metrics.{mid}.start", "start must lie within [min, max]")
        if mid in raw["stockpiles"]:
            out.add(f"metrics.{mid}", f'"{mid}" is also a stockpile id')
        if mid in RESERVED_SNAPSHOT_KEYS:
            out.add(f"metrics.{mid}", f'"{mid}" is a reserved name')
    for sid, spec in raw["stockpiles"].items():
        if spec["start"] > spec["max"]:
            out.add(f"stockpiles.{sid}.start", "start must not exceed max")
        if sid in RESERVED_SNAPSHOT_KEYS:
            out.add(f"stockpiles.{sid}", f'"{sid}" is a reserved name')
    for sid, spec in raw["structures"].items():
        if spec["start"] > spec["max"]:
            out.add(f"structures.{sid}.start", "start must not exceed max")


def _check_roles(raw: dict[str, Any], out: _Problems) -> None:
    for role, table in ROLE_TABLES.items():
        target = raw["roles"][role]
        if target not in raw[table]:
            kind = table[:-1]
            out.add(f"roles.{role}", f'unknown {kind} "{target}"')


def _check_functions(raw: dict[str, Any], out: _Problems) -> None:
    functions = raw["functions"]
    disabled = set(functions.get("disabled", ()))
    for i, name in enumerate(functions.get("disabled", [])):
        if name not in REGISTRY:
            out.add(f"functions.disabled[{i}]", f'unknown function "{name}"')
        elif name in UPKEEP_ORDER:
            out.add(f"functions.disabled[{i}]", f'upkeep "{name}" cannot be disabled')
    for name in functions.get("overrides", {}):
        if name not in REGISTRY:
            out.add(f"functions.overrides.{name}", f'unknown function "{name}"')
    for i, name in enumerate(functions["player_orders"]):
        path = f"functions.player_orders[{i}]"
        if name not in REGISTRY:
            out.add(path, f'unknown function "{name}"')
        elif name in disabled:
            out.add(path, f'"{name}" is disabled')
        elif REGISTRY[name].category == "upkeep":
            out.add(path, f'upkeep "{name}" cannot be ordered')
    for name in functions.get("order_text", {}):
        if name not in functions["player_orders"]:
            out.add(f"functions.order_text.{name}", f'"{name}" is not a player order')


def _check_call(fn_name: str, args: Any, path: str, theme: Any, out: _Problems) -> None:
    fn = REGISTRY.get(fn_name)
    if fn is None:
        out.add(f"{path}.fn", f'unknown function "{fn_name}"')
        return
    if fn_name in theme.disabled:
        out.add(f"{path}.fn", f'"{fn_name}" is disabled by this theme')
        return
    if fn.category == "upkeep":
        out.add(f"{path}.fn", f'upkeep "{fn_name}" is run by the world only')
        return
    problem = arg_problem(fn, {} if args is None else args, theme)
    if problem:
        field, message = problem
        out.add(f"{path}.{field}", message)


def _check_conditions(
    conds: Any, path: str, raw: dict[str, Any], out: _Problems
) -> None:
    if isinstance(conds, list):
        for i, cond in enumerate(conds):
            _check_conditions(cond, f"{path}[{i}]", raw, out)
        return
    if "any" in conds:
        _check_conditions(conds["any"], f"{path}.any", raw, out)
        return
    if "not" in conds:
        _check_conditions(conds["not"], f"{path}.not", raw, out)
        return
    problem = ref_problem(
        conds["ref"],
        raw["npcs"],
        raw["structures"],
        raw["stockpiles"],
        raw["metrics"],
        {s["id"] for s in raw["scenes"]},
    )
    if problem:
        out.add(f"{path}.ref", problem)
    op, value = conds["op"], conds["value"]
    if op == "in" and not isinstance(value, list):
        out.add(f"{path}.value", '"in" needs a list of values')
    if op in ("<", "<=", ">", ">=") and type(value) is not int:
        out.add(f"{path}.value", f'"{op}" needs an integer value')


def _check_tactics(raw: dict[str, Any], theme: Any, out: _Problems) -> None:
    seen: set[str] = set()
    for i, tactic in enumerate(raw["enemy"]["tactics"]):
        path = f"enemy.tactics[{i}]"
        if tactic["id"] in seen:
            out.add(f"{path}.id", f'duplicate tactic id "{tactic["id"]}"')
        seen.add(tactic["id"])
        _check_call(tactic["fn"], tactic["args"], path, theme, out)
        _check_conditions(tactic.get("requires", []), f"{path}.requires", raw, out)


def _check_scenes(raw: dict[str, Any], theme: Any, out: _Problems) -> None:
    ids: set[str] = set()
    for i, scene in enumerate(raw["scenes"]):
        path = f"scenes[{i}]"
        if scene["id"] in ids:
            out.add(f"{path}.id", f'duplicate scene id "{scene["id"]}"')
        ids.add(scene["id"])
        _check_conditions(scene.get("requires", []), f"{path}.requires", raw, out)
        for j, text in enumerate(scene["text"]):
            _check_text(text, f"{path}.text[{j}]", "scene", raw, out)
        options = scene["options"]
        if len(options) != 3:
            out.add(
                f"{path}.options",
                f"a scene needs exactly 3 options, not {len(options)}",
            )
        labels: set[str] = set()
        plans: set[str] = set()
        for j, option in enumerate(options):
            opath = f"{path}.options[{j}]"
            if option["label"] in labels:
                out.add(f"{opath}.label", f'duplicate label "{option["label"]}"')
            labels.add(option["label"])
            plan_key = canonical_json(option["plan"])
            if plan_key in plans:
                out.add(f"{opath}.plan", "the same plan as another option")
            plans.add(plan_key)
            _check_text(option["text"], f"{opath}.text", "scene", raw, out)
            _check_text(option["hint"], f"{opath}.hint", "scene", raw, out)
            for k, call in enumerate(option["plan"]):
                _check_call(
                    call["fn"], call.get("args"), f"{opath}.plan[{k}]", theme, out
                )


def _check_endings(raw: dict[str, Any], out: _Problems) -> None:
    ids: set[str] = set()
    fallback = False
    for i, ending in enumerate(raw["endings"]):
        path = f"endings[{i}]"
        if ending["id"] in ids:
            out.add(f"{path}.id", f'duplicate ending id "{ending["id"]}"')
        ids.add(ending["id"])
        if ending["when"] == "final" and not ending["conditions"]:
            fallback = True
        _check_conditions(ending["conditions"], f"{path}.conditions", raw, out)
        _check_text(ending["text"], f"{path}.text", "ending", raw, out)
        _check_text(ending["epilogue"], f"{path}.epilogue", "ending", raw, out)
    if not fallback:
        out.add("endings", "needs a final ending with no conditions as the fallback")


def _check_texts(raw: dict[str, Any], out: _Problems) -> None:
    for nid, npc in raw["npcs"].items():
        for mood, lines in npc["lines"].items():
            for i, line in enumerate(lines):
                _check_text(line, f"npcs.{nid}.lines.{mood}[{i}]", "npc_line", raw, out)
        for fate, line in npc["fates"].items():
            _check_text(line, f"npcs.{nid}.fates.{fate}", "fate", raw, out)
    narrative = raw["narrative"]
    for i, text in enumerate(narrative["openings"]):
        _check_text(text, f"narrative.openings[{i}]", "scene", raw, out)
    for i, text in enumerate(narrative.get("order", [])):
        _check_text(text, f"narrative.order[{i}]", "order", raw, out)
    for key, texts in narrative.get("effects", {}).items():
        if key not in EFFECT_KEYS:
            out.add(
                f"narrative.effects.{key}",
                f'unknown effect "{key}"; known: {", ".join(sorted(EFFECT_KEYS))}',
            )
            continue
        for i, text in enumerate(texts):
            _check_text(text, f"narrative.effects.{key}[{i}]", "effect", raw, out)
    atmosphere = narrative["atmosphere"]
    for mood, text in atmosphere["mood"].items():
        _check_text(text, f"narrative.atmosphere.mood.{mood}", "atmosphere", raw, out)
    for part in ("sights", "sounds"):
        for i, text in enumerate(atmosphere[part]):
            _check_text(
                text, f"narrative.atmosphere.{part}[{i}]", "atmosphere", raw, out
            )
    for weather, texts in atmosphere.get("weather", {}).items():
        for i, text in enumerate(texts):
            path = f"narrative.atmosphere.weather.{weather}[{i}]"
            _check_text(text, path, "atmosphere", raw, out)


def _check_text(
    text: str, path: str, kind: str, raw: dict[str, Any], out: _Problems
) -> None:
    for name in placeholders(text):
        problem = placeholder_problem(name, raw, kind)
        if problem:
            out.add(path, problem)
