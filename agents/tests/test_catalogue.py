"""The documented function list and the registry agree, and the catalogue prints it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from agents.catalogue import catalogue, document, markdown
from agents.functions import REGISTRY, UPKEEP_ORDER

DOC = Path(__file__).resolve().parents[2] / "docs" / "themes.md"


def documented_functions() -> set[str]:
    names = set()
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([a-z_]+)` \|", line)
        if match:
            names.add(match.group(1))
    text = DOC.read_text(encoding="utf-8")
    names |= {name for name in UPKEEP_ORDER if f"`{name}`" in text}
    return names


def test_every_documented_function_is_registered():
    assert documented_functions() - set(REGISTRY) == set()


def test_every_registered_function_is_documented():
    assert set(REGISTRY) - documented_functions() == set()


def test_the_catalogue_lists_every_function_once_with_its_limits():
    entries = catalogue()
    assert sorted(e["name"] for e in entries) == sorted(REGISTRY)
    table = markdown().splitlines()
    assert len(table) == len(REGISTRY) + 2
    assert (
        "| `repair_structure` | structures | `structure` structure, `amount` int 5–40 |"
        in (markdown())
    )


def test_the_committed_functions_page_is_the_generated_catalogue():
    page = Path(__file__).resolve().parents[2] / "docs" / "functions.md"
    assert page.read_text(encoding="utf-8") == document(), (
        "docs/functions.md is stale: run `python -m agents.catalogue --write`"
    )


def test_the_catalogue_command_survives_a_reader_that_closes_early():
    root = Path(__file__).resolve().parents[2]
    reader = subprocess.run(
        f"{sys.executable} -m agents.catalogue | head -c 10",
        shell=True,
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert reader.stdout == "# Safe fun"
    assert "Error" not in reader.stderr


def test_the_catalogue_spans_the_required_categories():
    categories = {e["category"] for e in catalogue()} - {"upkeep"}
    assert len(categories) >= 11
    assert len(REGISTRY) >= 98
