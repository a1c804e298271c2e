"""The safe-function catalogue generated from the registry.

`python -m agents.catalogue` prints docs/functions.md; `--write` updates it.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from agents.functions import REGISTRY

DOC = Path(__file__).resolve().parents[1] / "docs" / "functions.md"


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


def document() -> str:
    """The whole docs/functions.md page."""
    counts = Counter(e["category"] for e in catalogue())
    summary = ", ".join(f"{cat} {n}" for cat, n in sorted(counts.items()))
    return "\n".join(
        [
            "# Safe functions",
            "",
            "Generated from the registry by `python -m agents.catalogue --write`;",
            "do not edit by hand (a test compares this page with the registry).",
            "The same entries are served at `GET /api/v1/functions/`.",
            "",
            f"{len(REGISTRY)} functions: {summary}.",
            "",
            "Gas is charged against the turn's budget for the player's and the",
            "characters' calls; cooldown is in turns; per turn is how many calls",
            "of the function the Judge grants in one turn. Themes may disable",
            "any function and override gas, cooldown and per-turn limits.",
            "",
            markdown(),
            "",
        ]
    )


def main(argv: list[str]) -> int:
    text = document()
    if "--write" in argv:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
        return 0
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader such as `head` left early; silence the interpreter's own
        # complaint when it flushes stdout again at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
