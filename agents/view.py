"""The client-facing projection of a state: everything a UI needs, no theme pack."""

from __future__ import annotations

from typing import Any

from agents.functions import REGISTRY
from agents.state import State


def view(state: State) -> dict[str, Any]:
    theme = state.theme
    spec = theme.data
    data = state.data
    ended = data["status"] != "active"
    return {
        "theme": {"slug": theme.slug, "version": theme.version, "title": theme.title},
        "turn": data["turn"],
        "turn_limit": data["turn_limit"],
        "status": data["status"],
        "ending": data["ending"],
        "metrics": [
            {
                "id": mid,
                "name": spec["metrics"][mid]["name"],
                "value": data["metrics"][mid],
                "min": spec["metrics"][mid]["min"],
                "max": spec["metrics"][mid]["max"],
            }
            for mid in spec["metrics"]
        ],
        "stockpiles": [
            {
                "id": sid,
                "name": spec["stockpiles"][sid]["name"],
                "value": data["stockpiles"][sid],
                "max": spec["stockpiles"][sid]["max"],
            }
            for sid in spec["stockpiles"]
        ],
        "structures": [
            {
                "id": sid,
                "name": spec["structures"][sid]["name"],
                "integrity": live["integrity"],
                "max": live["max"],
                "status": live["status"],
                "on_fire": live["fire"] > 0,
                "fire": live["fire"],
                "x": spec["structures"][sid]["x"],
                "y": spec["structures"][sid]["y"],
                "description": spec["structures"][sid].get("description", ""),
            }
            for sid, live in ((s, data["structures"][s]) for s in spec["structures"])
        ],
        "npcs": [
            {
                "id": nid,
                "name": spec["npcs"][nid]["name"],
                "role": spec["npcs"][nid]["role"],
                "traits": list(spec["npcs"][nid].get("traits", [])),
                "health": live["health"],
                "loyalty": live["loyalty"],
                "fatigue": live["fatigue"],
                "status": live["status"],
                "duty": live["duty"],
                "away": live.get("away", 0) > 0,
                "captured": live["status"] == "captured",
            }
            for nid, live in ((n, data["npcs"][n]) for n in spec["npcs"])
        ],
        "enemy": {
            "name": spec["enemy"]["name"],
            "strength": data["enemy"]["strength"],
            "morale": data["enemy"]["morale"],
            "engines": data["enemy"]["engines"],
            "labels": {**ENEMY_LABELS, **spec["enemy"].get("labels", {})},
        },
        "director": {
            "tension": data["director"]["tension"],
            "phase": data["director"]["phase"],
            "threat_budget": data["director"]["threat_budget"],
        },
        "world": {
            "weather": data["world"]["weather"],
            "weather_name": theme.data.get("weather_names", {}).get(
                data["world"]["weather"], data["world"]["weather"]
            ),
            "ration": data["world"]["ration"],
            "hunger": data["world"]["hunger"],
            "disease": data["world"]["disease"],
        },
        "scene": None if ended else data["scene"],
        "orders": [] if ended else orders(state),
    }


def orders(state: State) -> list[dict[str, Any]]:
    theme = state.theme
    turn = state.data["turn"] + 1
    out = []
    wording = theme.data["functions"].get("order_text", {})
    for name in theme.player_orders:
        fn = REGISTRY[name]
        gas, _, _ = theme.limits(name, fn.gas, fn.cooldown, fn.per_turn)
        ready = state.data["cooldowns"].get(name, 0)
        text = wording.get(name, {})
        out.append(
            {
                "function": name,
                "label": text.get("label") or name.replace("_", " ").capitalize(),
                "description": text.get("description") or fn.description,
                "args": {a.name: a.describe() for a in fn.args},
                "gas": gas,
                "available_at": ready if ready > turn else None,
            }
        )
    return out


# What the enemy's numbers are called where a theme does not say.
ENEMY_LABELS = {"strength": "Strength", "morale": "Morale", "engines": "Engines"}


def metrics_snapshot(state: State) -> dict[str, int]:
    """The numbers a turn record's ``metrics`` carries, for this state."""
    from agents.engine import snapshot

    return snapshot(state.theme, state.data)
