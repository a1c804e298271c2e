"""The Event agent: draws the next scene from the deck and dresses it for the player."""

from __future__ import annotations

from typing import Any

from agents.functions import REGISTRY
from agents.rng import Streams
from agents.templates import fill
from agents.theme import Theme

# Tags that suit a phase are drawn twice as often in it.
PHASE_TAGS = {
    "buildup": {"scouting", "omen", "supply", "intrigue", "preparation", "council"},
    "peak": {"assault", "combat", "crisis", "fire", "breach", "siege"},
    "relax": {"character", "repair", "rest", "council", "supply", "quiet", "faith"},
}


def draw(theme: Theme, data: dict[str, Any], streams: Streams) -> str:
    """The id of the next scene: filtered by preconditions, weighted, then drawn."""
    seen = data["seen"]
    seen_set = set(seen)  # every scene of the deck is tested against it
    phase = data["director"]["phase"]
    once = theme.once_scenes
    checks = theme.scene_check

    def eligible(sid: str) -> bool:
        if sid in once and sid in seen_set:
            return False
        return checks[sid](data)

    candidates = [sid for sid in theme.scenes_by_phase[phase] if eligible(sid)]
    if not candidates:
        candidates = [sid for sid in theme.scene_order if eligible(sid)]
    if not candidates:
        # A deck played out still has to offer something: the oldest replays.
        candidates = [
            sid for sid in theme.scene_order if theme.scene_check[sid](data)
        ] or list(theme.scene_order)
    fresh = [sid for sid in candidates if sid not in seen_set]
    if fresh:
        candidates = fresh
    elif len(candidates) > 1 and seen:
        candidates = [sid for sid in candidates if sid != seen[-1]] or candidates

    tags = PHASE_TAGS[phase]
    weights = []
    for sid in candidates:
        scene = theme.scenes[sid]
        weight = scene.get("weight", 10)
        if tags.intersection(scene.get("tags", ())):
            weight *= 2
        weights.append(weight)
    return streams("director").weighted(candidates, weights)


def option_costs(theme: Theme, plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[str, int] = {}
    for call in plan:
        fn = REGISTRY[call["fn"]]
        cost = fn.shown_cost or fn.stock_cost
        for sid, amount in cost(call.get("args", {}), theme).items():
            totals[sid] = totals.get(sid, 0) + amount
    return [
        {"id": sid, "name": theme.data["stockpiles"][sid]["name"], "amount": amount}
        for sid, amount in totals.items()
        if amount
    ]


def present(
    theme: Theme,
    data: dict[str, Any],
    scene_id: str,
    streams: Streams,
    prefix: str = "",
) -> dict[str, Any]:
    """The scene as the player sees it: filled text, three options with costs."""
    scene = theme.scenes[scene_id]
    roll = streams("events")
    text = fill(roll.choice(scene["text"]), data, theme.data)
    if prefix:
        text = prefix + "\n\n" + text
    options = []
    for index, option in enumerate(scene["options"]):
        options.append(
            {
                "index": index,
                "label": option["label"],
                "text": fill(option["text"], data, theme.data),
                "costs": [dict(cost) for cost in theme.costs_of(scene_id, index)],
                "risk": option["risk"],
                "hint": fill(option["hint"], data, theme.data),
            }
        )
    return {"id": scene_id, "title": scene["title"], "text": text, "options": options}
