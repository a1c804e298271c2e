"""The turn pipeline: new games, turns, restoring and replaying."""

from __future__ import annotations

import time
from typing import Any

from agents import (
    characters,
    director,
    endings,
    events,
    judge,
    narrator,
    planner,
    rules,
)
from agents import world as world_agent
from agents.copying import clone, fork
from agents.errors import ActionError
from agents.functions import REGISTRY, Ctx, arg_problem
from agents.hashing import chain_hash, state_hash
from agents.llm import projection, steps
from agents.llm.exchange import Voice
from agents.llm.replay import RecordingError, ReplayVoice
from agents.rng import Streams
from agents.state import Outcome, State
from agents.templates import fill
from agents.theme import Theme

ACTION_KEYS = {
    "choose": ("type", "option"),
    "order": ("type", "function", "args"),
    "gm_event": ("type", "function", "args", "text", "scene"),
    "free_text": ("type", "text"),
}
GM_TEXT_MAX = 500
DIFF_SECTIONS = (
    "metrics",
    "stockpiles",
    "structures",
    "npcs",
    "enemy",
    "world",
    "flags",
    "timers",
)
MAX_SEED = (1 << 63) - 1
STORYTELLERS = ("steady", "relentless", "chaotic")


def new_game(theme: Theme, seed: int, storyteller: str | None = None) -> State:
    """The opening state of a game: the theme's starting numbers and a first scene.

    ``storyteller`` picks the Director's profile; None keeps the theme's own.
    """
    if type(seed) is not int or not -MAX_SEED - 1 <= seed <= MAX_SEED:
        raise ActionError("seed must be an integer that fits in 64 bits", "seed")
    if storyteller is not None and storyteller not in STORYTELLERS:
        raise ActionError(
            f"storyteller must be one of: {', '.join(STORYTELLERS)}", "storyteller"
        )
    spec = theme.data
    data: dict[str, Any] = {
        "theme": {"slug": theme.slug, "version": theme.version},
        "seed": seed,
        "turn": 0,
        "turn_limit": spec["turn_limit"],
        "status": "active",
        "ending": None,
        "metrics": {mid: m["start"] for mid, m in spec["metrics"].items()},
        "stockpiles": {sid: s["start"] for sid, s in spec["stockpiles"].items()},
        "structures": {
            sid: {
                "integrity": s["start"],
                "max": s["max"],
                "fire": 0,
                "status": _status(s["start"], s["max"]),
            }
            for sid, s in spec["structures"].items()
        },
        "npcs": {
            nid: {
                "health": n["start"]["health"],
                "loyalty": n["start"]["loyalty"],
                "fatigue": n["start"]["fatigue"],
                "status": "active" if n["start"]["health"] > 60 else "wounded",
                "duty": n["start"]["duty"],
                "away": 0,
            }
            for nid, n in spec["npcs"].items()
        },
        "enemy": {
            "strength": spec["enemy"]["strength"],
            "morale": spec["enemy"]["morale"],
            "engines": spec["enemy"]["engines"],
        },
        "director": {
            "tension": 10,
            "phase": "buildup",
            "threat_budget": 2,
            "profile": storyteller or spec["storyteller"],
            "phase_turns": 0,
        },
        "world": {"weather": "clear", "ration": "full", "hunger": 0, "disease": 0},
        "flags": {},
        "timers": {},
        "cooldowns": {},
        "guards": {},
        "scene": None,
        "seen": [],
        "narrated": [],
        "prev_chain": None,
        "last_action": None,
    }
    streams = Streams(seed, 0)
    opening = fill(
        streams("narrator").choice(spec["narrative"]["openings"]), data, spec
    )
    scene_id = events.draw(theme, data, streams)
    data["scene"] = events.present(theme, data, scene_id, streams, prefix=opening)
    return State(theme, data)


def _status(integrity: int, maximum: int) -> str:
    from agents.functions.helpers import structure_status

    return structure_status(integrity, maximum)


def restore(theme: Theme, data: dict[str, Any], chain: str | None = None) -> State:
    """A State from data read back from storage (copied, so the caller keeps theirs).

    ``chain`` is the chain hash stored with the data, if the caller has it:
    the next turn links to it without hashing the whole state again.
    """
    if not isinstance(data, dict) or not isinstance(data.get("theme"), dict):
        raise ValueError("state data must be an object with a theme")
    pinned = data["theme"]
    if pinned.get("slug") != theme.slug or pinned.get("version") != theme.version:
        raise ValueError(
            f"state belongs to theme {pinned.get('slug')} {pinned.get('version')}, "
            f"not {theme.slug} {theme.version}"
        )
    state = State(theme, clone(data))
    state._chain = chain
    return state


def check_action(state: State, action: Any) -> None:
    """Raise ActionError unless the action can be played on this state."""
    theme = state.theme
    data = state.data
    if not isinstance(action, dict):
        raise ActionError("an action must be an object", "action")
    if data["status"] != "active":
        raise ActionError("the game has ended; no more actions are accepted", "action")
    kind = action.get("type")
    if kind not in ACTION_KEYS:
        raise ActionError(
            'type must be "choose", "order", "gm_event" or "free_text"', "type"
        )
    for key in sorted(action):
        if key not in ACTION_KEYS[kind]:
            raise ActionError(f'unknown key "{key}" in a {kind} action', key)

    if kind == "choose":
        option = action.get("option")
        count = len(data["scene"]["options"])
        if type(option) is not int or not 0 <= option < count:
            raise ActionError(
                f"option must be an integer from 0 to {count - 1}", "option"
            )
        return
    if kind == "free_text":
        _check_free_text(theme, action)
        return

    name = action.get("function")
    if kind == "order":
        if not isinstance(name, str) or name not in theme.player_orders:
            raise ActionError(
                f"function must be one of: {', '.join(theme.player_orders)}", "function"
            )
    else:
        _check_gm_event(theme, action)
        if name is None:
            return
    fn = REGISTRY[str(name)]
    args = action.get("args", {})
    problem = arg_problem(fn, args, theme)
    if problem:
        raise ActionError(problem[1], problem[0])
    group = "player" if kind == "order" else "gm"
    proposal = {"agent": "planner", "group": group, "function": name, "args": args}
    reason = judge.rule(data, theme, proposal, judge.Ledger(), data["turn"] + 1)
    if reason != judge.OK:
        field = "function"
        if fn.args and reason.startswith("precondition"):
            field = f"args.{fn.args[0].name}"
        raise ActionError(reason, field)


def _check_gm_event(theme: Theme, action: dict[str, Any]) -> None:
    """A game master may call any enabled function but upkeep, with a note, and
    may set the next scene from the theme's deck (with or without a call)."""
    name = action.get("function")
    scene = action.get("scene")
    if "scene" in action and (not isinstance(scene, str) or scene not in theme.scenes):
        raise ActionError("scene must name a scene of this theme's deck", "scene")
    if name is None and "function" not in action:
        if scene is None:
            raise ActionError(
                "a game-master event needs a function, a scene or both", "function"
            )
        if "args" in action:
            raise ActionError("args need a function to go to", "args")
    else:
        fn = REGISTRY.get(name) if isinstance(name, str) else None
        if fn is None or fn.category == "upkeep":
            raise ActionError(
                "function must name a safe function (not upkeep)", "function"
            )
        if name in theme.disabled:
            raise ActionError(f"{name} is disabled in this theme", "function")
    text = action.get("text", "")
    if not isinstance(text, str) or len(text) > GM_TEXT_MAX:
        raise ActionError(
            f"text must be a string of at most {GM_TEXT_MAX} characters", "text"
        )


def _check_free_text(theme: Theme, action: dict[str, Any]) -> None:
    """An order in the player's words: short, printable, and only where orders are."""
    if not theme.player_orders:
        raise ActionError("this theme takes no orders, so no free-text orders", "type")
    text = action.get("text")
    limit = planner.FREE_TEXT_CHARS
    if not isinstance(text, str) or not text.strip() or len(text) > limit:
        raise ActionError(
            f"text must be a non-blank string of at most {limit} characters", "text"
        )
    if not text.isprintable():
        raise ActionError("text must be printable, on one line", "text")


def resolve_turn(
    state: State,
    action: dict[str, Any],
    recordings: list[Any] | None = None,
    voice: Voice | None = None,
) -> Outcome:
    """Play one action; returns the next state and the turn record. Never mutates.

    ``voice`` (see agents.llm) lends model-written words to the planner, the
    characters, the event agent and the narrator; ``recordings`` replays the
    exchanges a voice gave when the turn was first played. Without either the
    rule-based agents do everything, exactly as they always have.
    """
    check_action(state, action)
    if recordings and voice is not None:
        raise ValueError("give recordings to replay a turn, or a voice, not both")
    if voice is None and recordings:
        voice = ReplayVoice(recordings)
    tape: list[dict[str, Any]] = []
    theme = state.theme
    data = state.data
    timings: dict[str, int] = {}
    clock = time.perf_counter_ns

    turn = data["turn"] + 1
    streams = Streams(data["seed"], turn)
    work = fork(data)
    work["turn"] = turn
    work["guards"] = {}
    work["scene"] = data["scene"]
    work["cooldowns"] = {k: v for k, v in work["cooldowns"].items() if v > turn}
    played = data["scene"]
    work["seen"].append(played["id"])

    t = clock()
    calls = planned_by = None
    if action["type"] == "free_text":
        if voice is not None:
            calls = steps.planner_calls(
                voice, tape, theme, data, action["text"], streams
            )
            planned_by = "model"
        if calls is None:
            calls = planner.keyword_calls(theme, data, action["text"])
            planned_by = "keywords"
    proposals = planner.plan(theme, data, action, calls)
    t, timings["planner"] = _lap(t)
    wishes, dialogue, lines_used = characters.react(theme, data, streams)
    if voice is not None and dialogue:
        dialogue = steps.voiced_dialogue(
            voice,
            tape,
            theme,
            data,
            projection.action_view(theme, played, action),
            dialogue,
            wishes,
            streams,
        )
    t, timings["characters"] = _lap(t)
    threats = world_agent.act(theme, data, streams)
    t, timings["world"] = _lap(t)

    ctx = Ctx(work, theme, streams)
    verdicts = rules.apply_all(ctx, proposals + wishes + threats, timings)
    t = clock()

    ending = endings.check(theme, work)
    t, timings["endings"] = _lap(t)
    if ending:
        work["status"] = "ended"
        work["ending"] = ending
        work["scene"] = None
        timings["director"] = timings["events"] = 0
    else:
        director.advance(theme, work, streams("director"))
        t, timings["director"] = _lap(t)
        scene_id = events.draw(theme, work, streams)
        if action["type"] == "gm_event" and "scene" in action:
            # The draw above still happens, so no stream shifts for later turns.
            scene_id = action["scene"]
        work["scene"] = events.present(theme, work, scene_id, streams)
        if voice is not None:
            work["scene"] = steps.voiced_scene(
                voice, tape, theme, work, work["scene"], streams
            )
        t, timings["events"] = _lap(t)

    roll = streams("narrator")
    if action["type"] == "choose":
        chosen = played["options"][action["option"]]
        opening = chosen["text"]
        scene_part: dict[str, Any] = {
            "id": played["id"],
            "title": played["title"],
            "option": {"index": chosen["index"], "label": chosen["label"]},
        }
    elif action["type"] == "gm_event" and (
        action.get("text") or "function" not in action
    ):
        opening = action.get("text", "")
        scene_part = {"id": played["id"], "title": played["title"], "option": None}
    elif action["type"] == "free_text":
        opening = _free_text_opening(theme, work, calls or [], roll)
        scene_part = {
            "id": played["id"],
            "title": played["title"],
            "option": None,
            "free_text": {
                "text": action["text"],
                "by": planned_by,
                "functions": [call["fn"] for call in calls or []],
            },
        }
    else:
        name = action["function"]
        wording = theme.data["functions"].get("order_text", {}).get(name, {})
        label = wording.get("label") or name.replace("_", " ").capitalize()
        description = wording.get("description") or REGISTRY[name].description
        opening = narrator.order_text(theme, work, label, description, roll)
        scene_part = {
            "id": played["id"],
            "title": played["title"],
            "option": None,
            "order": {"function": name, "label": label},
        }
    work["narrated"].extend(lines_used)
    narrative = narrator.tell(theme, work, opening, ctx.notes, roll)
    atmosphere = narrator.atmosphere(theme, work, roll)
    if voice is not None:
        narrative = steps.voiced_narrative(
            voice,
            tape,
            theme,
            work,
            projection.action_view(theme, played, action),
            narrative,
            dialogue,
            steps.changes_view(theme, effects_diff(data, work)),
            ending,
            atmosphere["mood"],
            streams,
        )
        steps.finish(voice)
    if ending:
        narrative.append(ending["text"])
    t, timings["narrator"] = _lap(t)

    work["prev_chain"] = state.chain
    work["last_action"] = clone(action)
    new_hash = state_hash(work)
    chain = chain_hash(state.chain, action, new_hash)
    next_state = State(theme, work, new_hash)
    next_state._chain = chain

    record = {
        "turn": turn,
        "actor": "gm" if action["type"] == "gm_event" else "player",
        "action": clone(action),
        "scene": scene_part,
        "proposals": verdicts,
        "effects": effects_diff(data, work),
        "narrative": narrative,
        "dialogue": dialogue,
        "atmosphere": atmosphere,
        "director": {
            "tension": work["director"]["tension"],
            "phase": work["director"]["phase"],
            "threat_budget": work["director"]["threat_budget"],
        },
        "next_scene": (
            None
            if ending
            else {"id": work["scene"]["id"], "title": work["scene"]["title"]}
        ),
        "ending": clone(ending),
        "metrics": snapshot(theme, work),
        "timings_us": timings,
        "recordings": tape if voice is not None else [],
        "state_hash": new_hash,
        "chain_hash": chain,
    }
    return Outcome(next_state, record)


def _free_text_opening(
    theme: Theme, data: dict[str, Any], calls: list[dict[str, Any]], roll: Any
) -> str:
    """The opening of a turn given to a free-text order: what was understood."""
    if not calls:
        return narrator.UNCLEAR_ORDER
    wording = theme.data["functions"].get("order_text", {})
    labels = []
    for call in calls:
        text = wording.get(call["fn"], {})
        labels.append(text.get("label") or call["fn"].replace("_", " ").capitalize())
    first = calls[0]["fn"]
    description = (
        wording.get(first, {}).get("description") or REGISTRY[first].description
    )
    return narrator.order_text(theme, data, " and ".join(labels), description, roll)


def _lap(start: int) -> tuple[int, int]:
    now = time.perf_counter_ns()
    return now, (now - start) // 1000


def effects_diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for section in DIFF_SECTIONS:
        _diff(old[section], new[section], section, out)
    return out


def _diff(
    old: dict[str, Any], new: dict[str, Any], path: str, out: list[dict[str, Any]]
) -> None:
    if old == new:
        return
    # Only the keys whose values differ are sorted and walked: most of a
    # changed section (a flag table, the NPCs) is usually as it was.
    if old.keys() == new.keys():
        keys = sorted([key for key, value in old.items() if new[key] != value])
    else:
        keys = sorted(
            [key for key in old.keys() | new.keys() if old.get(key) != new.get(key)]
        )
    for key in keys:
        a = old.get(key)
        b = new.get(key)
        if a == b:
            continue
        where = f"{path}.{key}"
        if type(a) is dict or type(b) is dict:
            _diff(a or {}, b or {}, where, out)
        else:
            out.append({"path": where, "from": a, "to": b})


def snapshot(theme: Theme, data: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = dict(data["metrics"])
    out.update(data["stockpiles"])
    out["structures"] = sum(s["integrity"] for s in data["structures"].values())
    out["enemy_strength"] = data["enemy"]["strength"]
    out["tension"] = data["director"]["tension"]
    return out


def replay(
    theme: Theme,
    seed: int,
    actions: list[dict[str, Any]],
    recordings: list[Any] | None = None,
    storyteller: str | None = None,
) -> list[dict[str, Any]]:
    """Recompute hashes turn by turn; a bad action raises ActionError with `.turn`.

    ``recordings`` holds each turn's recorded exchanges (a list per turn, as
    in ``record["recordings"]``); a turn's that do not fit raise
    RecordingError, also with `.turn`. ``storyteller`` must be the profile the
    game was started with (None for the theme's own), since it is part of the
    opening state.
    """
    state = new_game(theme, seed, storyteller)
    out = []
    for index, action in enumerate(actions):
        recorded = recordings[index] if recordings and index < len(recordings) else None
        try:
            outcome = resolve_turn(state, action, recorded)
        except (ActionError, RecordingError) as exc:
            exc.turn = index + 1
            raise
        state = outcome.state
        out.append(
            {
                "turn": outcome.record["turn"],
                "state_hash": outcome.record["state_hash"],
                "chain_hash": outcome.record["chain_hash"],
            }
        )
    return out
