"""The Planner: turns the player's action into proposed safe-function calls."""

from __future__ import annotations

from typing import Any

from agents.copying import clone
from agents.theme import Theme


def plan(
    theme: Theme, data: dict[str, Any], action: dict[str, Any]
) -> list[dict[str, Any]]:
    agent, group = "planner", "player"
    if action["type"] == "gm_event":
        agent = group = "gm"
    if action["type"] in ("order", "gm_event"):
        calls = [{"fn": action["function"], "args": action.get("args", {})}]
    else:
        scene = theme.scenes[data["scene"]["id"]]
        calls = scene["options"][action["option"]]["plan"]
    return [
        {
            "agent": agent,
            "group": group,
            "function": call["fn"],
            "args": clone(call.get("args", {})),
        }
        for call in calls
    ]
