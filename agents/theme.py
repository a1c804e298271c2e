"""Theme packs: loading, validation and the compiled `Theme` the engine plays."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from agents.conditions import compile_condition
from agents.errors import ThemeError
from agents.hashing import canonical_json, state_hash

SCHEMA_PATH = Path(__file__).parent / "schema" / "theme.schema.json"
THEMES_DIR = Path(__file__).parent / "themes"
DEFAULT_GAS_PER_TURN = 20


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # The schema itself is checked against its metaschema by the test suite;
    # doing it here would cost half a second on every cold start.
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def json_path(parts: Any) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_QUOTED = re.compile(r"'([^']+)'")


def _schema_problem(err: Any) -> dict[str, str]:
    """One schema error as {path, message}, pointing as close to the fault as it can."""
    while err.validator == "oneOf" and err.context:
        # A condition matched none of its shapes: report what is wrong with
        # the shape it was meant to be (told by its key), not every shape.
        branch = _condition_branch(err.instance)
        near = [e for e in err.context if e.relative_schema_path[0] == branch]
        err = jsonschema.exceptions.best_match(near or err.context)
    parts = list(err.absolute_path)
    if err.validator == "required":
        missing = _QUOTED.search(err.message)
        if missing:
            parts.append(missing.group(1))
    return {"path": json_path(parts), "message": err.message}


def _condition_branch(instance: Any) -> int:
    if isinstance(instance, dict):
        for index, key in enumerate(("ref", "any", "not")):
            if key in instance:
                return index
    return 0


class Theme:
    """A validated theme with lookups precomputed for the hot path of a turn."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.slug: str = data["slug"]
        self.version: str = data["version"]
        self.title: str = data["title"]
        self.content_hash = state_hash(data)
        self.roles: dict[str, str] = dict(data["roles"])
        self.npc_ids = sorted(data["npcs"])
        self.structure_ids = sorted(data["structures"])
        self.stockpile_ids = sorted(data["stockpiles"])
        self.metric_ids = sorted(data["metrics"])
        self.scenes: dict[str, dict[str, Any]] = {s["id"]: s for s in data["scenes"]}
        self.scene_order = [s["id"] for s in data["scenes"]]
        self.once_scenes = frozenset(s["id"] for s in data["scenes"] if s.get("once"))
        self.scenes_by_phase: dict[str, list[str]] = {
            phase: [s["id"] for s in data["scenes"] if phase in s["phases"]]
            for phase in ("buildup", "peak", "relax")
        }
        functions = data["functions"]
        self.disabled = frozenset(functions.get("disabled", ()))
        self.overrides: dict[str, dict[str, int]] = functions.get("overrides", {})
        self.player_orders = [
            name for name in functions["player_orders"] if name not in self.disabled
        ]
        self.gas_per_turn: int = functions.get("gas_per_turn", DEFAULT_GAS_PER_TURN)
        self.immediate_endings = _ranked(data["endings"], "immediate")
        self.final_endings = _ranked(data["endings"], "final")
        self.scene_check = {
            s["id"]: compile_condition(s.get("requires", [])) for s in data["scenes"]
        }
        self.tactics = [
            (t, compile_condition(t.get("requires", [])))
            for t in data["enemy"]["tactics"]
        ]
        self.immediate_checks = [
            (e, compile_condition(e["conditions"])) for e in self.immediate_endings
        ]
        self.final_checks = [
            (e, compile_condition(e["conditions"])) for e in self.final_endings
        ]
        self._costs: dict[tuple[str, int], list[dict[str, Any]]] = {}

    def costs_of(self, scene_id: str, option: int) -> list[dict[str, Any]]:
        """An option's visible stock costs; plans are static, so computed once."""
        key = (scene_id, option)
        costs = self._costs.get(key)
        if costs is None:
            from agents.events import option_costs

            plan = self.scenes[scene_id]["options"][option]["plan"]
            costs = self._costs[key] = option_costs(self, plan)
        return costs

    def limits(
        self, fn_name: str, gas: int, cooldown: int, per_turn: int
    ) -> tuple[int, int, int]:
        """(gas, cooldown, per_turn) for a function after the theme's overrides."""
        tuned = self.overrides.get(fn_name)
        if not tuned:
            return gas, cooldown, per_turn
        return (
            tuned.get("gas", gas),
            tuned.get("cooldown", cooldown),
            tuned.get("per_turn", per_turn),
        )

    def __repr__(self) -> str:
        return f"<Theme {self.slug} {self.version}>"


def _ranked(endings: list[dict[str, Any]], when: str) -> list[dict[str, Any]]:
    # Stable on ties: the first written of equal priority wins.
    chosen = [e for e in endings if e["when"] == when]
    return sorted(chosen, key=lambda e: -e["priority"])


_CACHE: dict[str, Theme] = {}


def load_theme(raw: Any) -> Theme:
    """Validate and compile a raw theme; ThemeError lists every problem found."""
    if not isinstance(raw, dict):
        raise ThemeError([{"path": "", "message": "a theme must be a JSON object"}])
    key = canonical_json(raw)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached

    errors = sorted(
        (_schema_problem(err) for err in _validator().iter_errors(raw)),
        key=lambda p: p["path"],
    )
    if errors:
        raise ThemeError(errors)

    from agents.validation import cross_check

    errors = cross_check(raw)
    if errors:
        raise ThemeError(errors)

    # The engine keeps its own copy so later edits to `raw` cannot leak in.
    theme = Theme(json.loads(key))
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[key] = theme
    return theme


def builtin_theme_data() -> dict[str, dict[str, Any]]:
    """The raw packs shipped in agents/themes/, keyed by slug, in file order."""
    packs: dict[str, dict[str, Any]] = {}
    for path in sorted(THEMES_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        packs[raw.get("slug", path.stem)] = raw
    return packs
