"""What a model is shown: a compact, bounded projection of the game state.

Everything here is derived from the state and theme alone (never from new
state keys), so that adding model voices changed no existing game's hashes.
The story so far is summarised from what the state already remembers: the
scenes played, who fell, deserted or was taken, and the flags that are set.
"""

from __future__ import annotations

from typing import Any

from agents.functions.helpers import PRESENT
from agents.theme import Theme

RECENT_SCENES = 6
MAX_FLAGS = 12
SCENE_TEXT_CHARS = 700
FACT_CHARS = 600
DESCRIPTION_CHARS = 160


def clip(text: str, limit: int) -> str:
    """Text cut to `limit` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def state_view(theme: Theme, data: dict[str, Any]) -> dict[str, Any]:
    """The numbers and people of the stronghold, named as the theme names them."""
    spec = theme.data
    weather = data["world"]["weather"]
    view: dict[str, Any] = {
        "world": theme.title,
        "turn": data["turn"],
        "turn_limit": data["turn_limit"],
        "phase": data["director"]["phase"],
        "tension": data["director"]["tension"],
        "weather": spec.get("weather_names", {}).get(weather, weather),
        "rations": data["world"]["ration"],
        "metrics": {
            spec["metrics"][m]["name"]: data["metrics"][m] for m in theme.metric_ids
        },
        "stockpiles": {
            spec["stockpiles"][s]["name"]: data["stockpiles"][s]
            for s in theme.stockpile_ids
        },
        "structures": [
            _structure(theme, sid, data["structures"][sid])
            for sid in theme.structure_ids
        ],
        "people": [_person(theme, nid, data["npcs"][nid]) for nid in theme.npc_ids],
        "enemy": {
            "name": spec["enemy"]["name"],
            "strength": data["enemy"]["strength"],
            "morale": data["enemy"]["morale"],
            "engines": data["enemy"]["engines"],
        },
        "story": story_so_far(theme, data),
    }
    return view


def _structure(theme: Theme, sid: str, live: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": sid,
        "name": theme.data["structures"][sid]["name"],
        "integrity": live["integrity"],
        "max": live["max"],
        "status": live["status"],
    }
    if live["fire"]:
        out["fire"] = live["fire"]
    return out


def _person(theme: Theme, nid: str, live: dict[str, Any]) -> dict[str, Any]:
    spec = theme.data["npcs"][nid]
    out = {
        "id": nid,
        "name": spec["name"],
        "role": spec["role"],
        "traits": list(spec.get("traits", ())),
        "status": live["status"],
        "health": live["health"],
        "loyalty": live["loyalty"],
        "fatigue": live["fatigue"],
        "duty": live["duty"],
    }
    if live.get("away", 0) > 0:
        out["away"] = True
    return out


def story_so_far(theme: Theme, data: dict[str, Any]) -> dict[str, Any]:
    """A running summary of older turns from what the state already holds."""
    seen = data["seen"]
    titles = [
        theme.scenes[sid]["title"]
        for sid in seen[-RECENT_SCENES:]
        if sid in theme.scenes
    ]
    story: dict[str, Any] = {"turns_played": data["turn"], "recent_scenes": titles}
    if len(seen) > RECENT_SCENES:
        story["earlier_scenes"] = len(seen) - RECENT_SCENES
    fates: dict[str, list[str]] = {
        "dead": [],
        "deserted": [],
        "captured": [],
        "abroad": [],
    }
    for nid in theme.npc_ids:
        live = data["npcs"][nid]
        name = theme.data["npcs"][nid]["name"]
        if live["status"] in fates:
            fates[live["status"]].append(name)
        elif live["status"] in PRESENT and live.get("away", 0) > 0:
            fates["abroad"].append(name)
    for fate, names in fates.items():
        if names:
            story[fate] = names
    fallen = [
        theme.data["structures"][sid]["name"]
        for sid in theme.structure_ids
        if data["structures"][sid]["status"] == "collapsed"
    ]
    if fallen:
        story["collapsed"] = fallen
    flags = sorted(key for key, value in data["flags"].items() if value)
    if flags:
        story["flags"] = flags[-MAX_FLAGS:]
    return story


def action_view(
    theme: Theme, played: dict[str, Any] | None, action: dict[str, Any]
) -> dict[str, Any]:
    """What the player (or game master) did this turn, in the theme's words."""
    kind = action["type"]
    if kind == "choose" and played is not None:
        chosen = played["options"][action["option"]]
        return {
            "kind": "choice",
            "scene": played["title"],
            "option": chosen["label"],
            "text": clip(chosen["text"], FACT_CHARS),
        }
    if kind == "free_text":
        return {"kind": "free_text", "text": action["text"]}
    if "function" not in action:
        out = {"kind": "gm_event", "order": "a change of plans"}
        if action.get("text"):
            out["text"] = clip(action["text"], FACT_CHARS)
        return out
    wording = theme.data["functions"].get("order_text", {}).get(action["function"], {})
    out = {
        "kind": "gm_event" if kind == "gm_event" else "order",
        "order": wording.get("label") or action["function"].replace("_", " "),
    }
    if action.get("text"):
        out["text"] = clip(action["text"], FACT_CHARS)
    return out


def scene_view(
    scene: dict[str, Any], text_chars: int = SCENE_TEXT_CHARS
) -> dict[str, Any]:
    return {
        "title": scene["title"],
        "text": clip(scene["text"], text_chars),
        "options": [
            {
                "label": option["label"],
                "text": clip(option["text"], text_chars // 2),
                "risk": option["risk"],
                "hint": clip(option["hint"], text_chars // 3),
                "costs": [
                    f"{cost['amount']} {cost['name']}" for cost in option["costs"]
                ],
            }
            for option in scene["options"]
        ],
    }


def orders_view(theme: Theme) -> list[dict[str, Any]]:
    from agents.functions import REGISTRY

    wording = theme.data["functions"].get("order_text", {})
    out = []
    for name in theme.player_orders:
        fn = REGISTRY[name]
        text = wording.get(name, {})
        out.append(
            {
                "function": name,
                "label": text.get("label") or name.replace("_", " "),
                "description": clip(
                    text.get("description") or fn.description, DESCRIPTION_CHARS
                ),
                "args": {arg.name: arg.describe() for arg in fn.args},
            }
        )
    return out


# -- shrinking to the budget --------------------------------------------------

# Each step gives up detail the model can best do without; they are applied
# in order, one at a time, until the prompt fits.


def _fewer_scenes(view: dict[str, Any]) -> None:
    story = view.get("story")
    if story:
        story["recent_scenes"] = story.get("recent_scenes", [])[-2:]
        if "flags" in story:
            story["flags"] = story["flags"][-4:]


def _shorter_texts(view: dict[str, Any]) -> None:
    _clip_strings(view, 200)


def _plainer_people(view: dict[str, Any]) -> None:
    for person in view.get("people", ()):
        person.pop("traits", None)
        person.pop("role", None)
    view["structures"] = [
        s
        for s in view.get("structures", ())
        if s["status"] != "standing" or "fire" in s
    ]


def _no_story(view: dict[str, Any]) -> None:
    view.pop("story", None)
    view.pop("stockpiles", None)
    view["people"] = [
        {"id": p["id"], "name": p["name"], "status": p["status"]}
        for p in view.get("people", ())
    ]


def _bare(view: dict[str, Any]) -> None:
    for key in ("structures", "people", "metrics", "enemy"):
        view.pop(key, None)
    _clip_strings(view, 80)


SHRINK_STEPS = (_fewer_scenes, _shorter_texts, _plainer_people, _no_story, _bare)


# Values a model must get back exactly as written, whatever the budget.
_KEEP_WHOLE = ("id", "npc", "function", "order")


def _clip_strings(node: Any, limit: int) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key not in _KEEP_WHOLE:
                    node[key] = clip(value, limit)
            else:
                _clip_strings(value, limit)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                node[index] = clip(value, limit)
            else:
                _clip_strings(value, limit)
    return node
