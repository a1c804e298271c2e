"""Requests to a voice: the prompt, the reply schema and the view, within a budget.

Prompts are files in ``agents/llm/prompts/<agent>.txt`` (the system message);
a theme may replace one with its own text under ``voices.prompts.<agent>``.
``{placeholders}`` in a prompt are filled from PLACEHOLDERS; any other text in
braces is left as written. The user message is always the view as JSON.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from agents.llm import projection, schemas
from agents.llm.exchange import AGENTS
from agents.rng import Streams
from agents.theme import Theme

PROMPTS_DIR = Path(__file__).parent / "prompts"
# The whole prompt (system and user messages) is kept under this many
# characters, whatever the theme and however long the game.
PROMPT_CHARS = 12000
USER_LEAD = "The game, as JSON:\n"
SEED_BOUND = 1 << 31
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
TUNABLE = ("temperature", "max_tokens")


@lru_cache(maxsize=len(AGENTS))
def default_prompt(agent: str) -> str:
    return (PROMPTS_DIR / f"{agent}.txt").read_text(encoding="utf-8").strip()


def system_prompt(theme: Theme, agent: str) -> str:
    voices = theme.data.get("voices", {})
    template = voices.get("prompts", {}).get(agent) or default_prompt(agent)
    values = {
        "world": theme.title,
        "enemy": theme.data["enemy"]["name"],
        "max_paragraphs": str(schemas.MAX_PARAGRAPHS),
        "paragraph_chars": str(schemas.PARAGRAPH_CHARS),
        "line_chars": str(schemas.LINE_CHARS),
        "scene_chars": str(schemas.SCENE_TEXT_CHARS),
        "label_chars": str(schemas.LABEL_CHARS),
        "option_chars": str(schemas.OPTION_TEXT_CHARS),
        "max_calls": str(schemas.MAX_CALLS),
    }
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def tuning(theme: Theme, agent: str) -> dict[str, Any]:
    """The theme's own temperature and max_tokens for an agent, if it sets any."""
    tuned = theme.data.get("voices", {}).get("agents", {}).get(agent, {})
    return {key: tuned[key] for key in TUNABLE if key in tuned}


def voice_seed(streams: Streams, agent: str) -> int:
    """A per-turn, per-agent seed for the model, from its own stream."""
    return streams(f"voice:{agent}").below(SEED_BOUND)


def build(
    theme: Theme,
    agent: str,
    view: dict[str, Any],
    schema: dict[str, Any],
    streams: Streams,
) -> dict[str, Any]:
    """The request for `agent`, its view shrunk until the prompt fits the budget."""
    system = system_prompt(theme, agent)
    user = _user(view)
    steps = iter(projection.SHRINK_STEPS)
    while len(system) + len(user) > PROMPT_CHARS:
        step = next(steps, None)
        if step is None:
            break
        step(view)
        user = _user(view)
    if len(system) + len(user) > PROMPT_CHARS:
        # Only a theme prompt near its own size limit with a very wide world
        # gets here; the system text gives way rather than the task data.
        system = projection.clip(system, max(200, PROMPT_CHARS - len(user)))
    return {
        "agent": agent,
        "prompt": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ],
        "schema": schema,
        "view": view,
        "seed": voice_seed(streams, agent),
        "tuning": tuning(theme, agent),
    }


def _user(view: dict[str, Any]) -> str:
    return USER_LEAD + json.dumps(view, ensure_ascii=False, separators=(",", ":"))


def prompt_chars(request: dict[str, Any]) -> int:
    return sum(len(message["content"]) for message in request["prompt"])
