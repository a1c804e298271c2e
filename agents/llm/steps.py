"""Where the engine asks a voice for help, and how it uses (or drops) the answer.

Each step runs after the rule-based agent has done its work, so the rule
result is both the model's brief and the fallback: when a reply is missing
or fails a check, the turn goes on exactly as it would without a voice.
Only words change hands here; ids, costs, plans and effects never do, and a
planner's calls still go before the Judge like any other proposal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.errors import EngineError
from agents.llm import projection, prompting, schemas
from agents.llm.exchange import fallback, shape_problem
from agents.llm.replay import RecordingError
from agents.rng import Streams
from agents.theme import Theme


def consult(
    voice: Any,
    tape: list[dict[str, Any]],
    agent: str,
    request: dict[str, Any],
    check: Callable[[Any], str | None],
) -> Any:
    """Ask `voice`; the reply if it passes the schema and `check`, else None.

    The exchange, as final, is appended to `tape`. When replaying, a recorded
    reply that no longer passes is a RecordingError, not a quiet fallback:
    the recording would not reproduce the turn it came from.
    """
    replaying = getattr(voice, "replaying", False)
    exchange = voice.ask(agent, request, check)
    problem = shape_problem(exchange)
    if problem is None and exchange["agent"] != agent:
        problem = f"it answers the {exchange['agent']}, not the {agent}"
    if problem:
        if replaying:
            raise RecordingError(f"recorded exchange for the {agent}: {problem}")
        raise EngineError(f"the voice returned a malformed exchange: {problem}")

    reply = exchange["reply"]
    if reply is not None:
        problem = schemas.schema_problem(request["schema"], reply) or check(reply)
        if problem:
            if replaying:
                raise RecordingError(
                    f"recorded reply of the {agent} fails its checks: {problem}"
                )
            exchange = fallback(exchange, "schema", problem)
            reply = None
    tape.append(exchange)
    return reply


def finish(voice: Any) -> None:
    done = getattr(voice, "finish", None)
    if done is not None:
        done()


def planner_calls(
    voice: Any,
    tape: list[dict[str, Any]],
    theme: Theme,
    data: dict[str, Any],
    text: str,
    streams: Streams,
) -> list[dict[str, Any]] | None:
    """Calls for a free-text order from the voice, or None to use the keywords."""
    view = projection.state_view(theme, data)
    view["orders"] = projection.orders_view(theme)
    view["order"] = text
    schema = schemas.planner_schema(theme)
    request = prompting.build(theme, "planner", view, schema, streams)
    reply = consult(
        voice, tape, "planner", request, lambda r: schemas.planner_problem(r, theme)
    )
    if reply is None:
        return None
    return [{"fn": call["function"], "args": call["args"]} for call in reply["calls"]]


def voiced_dialogue(
    voice: Any,
    tape: list[dict[str, Any]],
    theme: Theme,
    data: dict[str, Any],
    action_view: dict[str, Any],
    dialogue: list[dict[str, Any]],
    wishes: list[dict[str, Any]],
    streams: Streams,
) -> list[dict[str, Any]]:
    """The same speakers, in the same order, with lines in their own voices."""
    from agents.characters import mood_of

    wanted = {
        w["agent"][4:]: w["function"] for w in wishes if w["agent"].startswith("npc:")
    }
    speakers = [entry["npc"] for entry in dialogue]
    view = projection.state_view(theme, data)
    view["action"] = action_view
    view["speakers"] = [
        {
            "npc": entry["npc"],
            "name": entry["name"],
            "role": theme.data["npcs"][entry["npc"]]["role"],
            "traits": list(theme.data["npcs"][entry["npc"]].get("traits", ())),
            "mood": mood_of(data["npcs"][entry["npc"]]),
            "wish": wanted.get(entry["npc"]),
            "gist": entry["line"],
        }
        for entry in dialogue
    ]
    request = prompting.build(
        theme, "characters", view, schemas.characters_schema(speakers), streams
    )
    reply = consult(
        voice,
        tape,
        "characters",
        request,
        lambda r: schemas.characters_problem(r, speakers),
    )
    if reply is None:
        return dialogue
    lines = {item["npc"]: item["line"].strip() for item in reply["lines"]}
    return [
        {**entry, "line": lines[entry["npc"]]} if entry["npc"] in lines else entry
        for entry in dialogue
    ]


def voiced_scene(
    voice: Any,
    tape: list[dict[str, Any]],
    theme: Theme,
    data: dict[str, Any],
    scene: dict[str, Any],
    streams: Streams,
) -> dict[str, Any]:
    """The next scene with the voice's wording; ids, costs, risks and hints kept."""
    count = len(scene["options"])
    view = projection.state_view(theme, data)
    view["next_scene"] = projection.scene_view(scene)
    request = prompting.build(
        theme, "events", view, schemas.events_schema(count), streams
    )
    reply = consult(
        voice, tape, "events", request, lambda r: schemas.events_problem(r, count)
    )
    if reply is None:
        return scene
    options = [
        {**option, "label": worded["label"].strip(), "text": worded["text"].strip()}
        for option, worded in zip(scene["options"], reply["options"], strict=True)
    ]
    return {**scene, "text": reply["text"].strip(), "options": options}


def voiced_narrative(
    voice: Any,
    tape: list[dict[str, Any]],
    theme: Theme,
    data: dict[str, Any],
    action_view: dict[str, Any],
    paragraphs: list[str],
    dialogue: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    ending: dict[str, Any] | None,
    mood: str,
    streams: Streams,
) -> list[str]:
    """The turn told by the voice, or the rule-based paragraphs."""
    view = projection.state_view(theme, data)
    view["action"] = action_view
    view["facts"] = [projection.clip(p, projection.FACT_CHARS) for p in paragraphs]
    view["changes"] = changes
    view["dialogue"] = [{"name": d["name"], "line": d["line"]} for d in dialogue]
    view["mood"] = mood
    view["ending"] = (
        {"title": ending["title"], "kind": ending["kind"]} if ending else None
    )
    request = prompting.build(
        theme, "narrator", view, schemas.narrator_schema(), streams
    )
    reply = consult(voice, tape, "narrator", request, schemas.narrator_problem)
    if reply is None:
        return paragraphs
    return [paragraph.strip() for paragraph in reply["paragraphs"]]


CHANGE_SECTIONS = ("metrics", "stockpiles", "structures", "npcs", "enemy")
MAX_CHANGES = 16


def changes_view(theme: Theme, effects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The turn's effects on numbers and people, named, for the narrator."""
    out = []
    names = {
        "metrics": theme.data["metrics"],
        "stockpiles": theme.data["stockpiles"],
        "structures": theme.data["structures"],
        "npcs": theme.data["npcs"],
    }
    for effect in effects:
        parts = effect["path"].split(".")
        if parts[0] not in CHANGE_SECTIONS:
            continue
        if parts[0] == "enemy":
            what = f"{theme.data['enemy']['name']} {parts[1]}"
        else:
            table = names[parts[0]]
            what = table.get(parts[1], {}).get("name", parts[1])
            if len(parts) > 2:
                what = f"{what} {parts[2]}"
        out.append({"what": what, "from": effect["from"], "to": effect["to"]})
        if len(out) >= MAX_CHANGES:
            break
    return out
