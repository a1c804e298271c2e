"""Endings: immediate ones after every turn, final ones at the turn limit."""

from __future__ import annotations

from typing import Any

from agents.templates import fill
from agents.theme import Theme


def check(theme: Theme, data: dict[str, Any]) -> dict[str, Any] | None:
    """The ending reached in this state, or None while the siege goes on."""
    for ending, check_ending in theme.immediate_checks:
        if check_ending(data):
            return build(theme, data, ending)
    if data["turn"] >= data["turn_limit"]:
        for ending, check_ending in theme.final_checks:
            if check_ending(data):
                return build(theme, data, ending)
    return None


# Said of a captive when the theme wrote no "captured" fate; plain for any world.
CAPTURED_FATE = "{name} was last seen a prisoner of {enemy.name}."


def fate_of(npc: dict[str, Any]) -> str:
    if npc["status"] in ("dead", "deserted", "captured"):
        return str(npc["status"])
    return "wounded" if npc["status"] == "wounded" else "alive"


def build(theme: Theme, data: dict[str, Any], ending: dict[str, Any]) -> dict[str, Any]:
    epilogue = []
    for nid in theme.npc_ids:
        spec = theme.data["npcs"][nid]
        fate = fate_of(data["npcs"][nid])
        # A survivor of a lost siege has a different story from a victor's;
        # themes may write it as "<fate>_defeat".
        line = (
            spec["fates"].get(f"{fate}_defeat") if ending["kind"] == "defeat" else None
        ) or spec["fates"].get(fate)
        if not line:
            line = CAPTURED_FATE if fate == "captured" else spec["fates"]["alive"]
        local = {"name": spec["name"], "role": spec["role"]}
        epilogue.append(
            {
                "npc": nid,
                "name": spec["name"],
                "fate": fate,
                "line": fill(line, data, theme.data, local),
            }
        )
    return {
        "id": ending["id"],
        "title": ending["title"],
        "kind": ending["kind"],
        "text": fill(ending["text"], data, theme.data),
        "closing": fill(ending["epilogue"], data, theme.data),
        "epilogue": epilogue,
    }
