"""The safe-function catalogue as a Markdown table: `python -m agents.catalogue`."""

from __future__ import annotations

from typing import Any

from agents.functions import REGISTRY


def catalogue() -> list[dict[str, Any]]:
    """Every registered function, sorted by category then name."""
    entries = [fn.catalogue_entry() for fn in REGISTRY.values()]
    return sorted(entries, key=lambda e: (e["category"], e["name"]))


def _args_text(args: dict[str, dict[str, Any]]) -> str:
    parts = []
    for name, spec in args.items():
        if spec["type"] == "int":
            parts.append(f"`{name}` int {spec['min']}–{spec['max']}")
        elif spec["type"] == "str":
            parts.append(f"`{name}` str {'/'.join(spec['choices'])}")
        else:
            parts.append(f"`{name}` {spec['type']}")
    return ", ".join(parts) or "—"


def markdown() -> str:
    lines = [
        "| function | category | args | gas | cooldown | per turn | what it does |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in catalogue():
        lines.append(
            f"| `{e['name']}` | {e['category']} | {_args_text(e['args'])} | "
            f"{e['gas']} | {e['cooldown']} | {e['per_turn']} | {e['description']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
