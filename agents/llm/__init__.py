"""Language-model voices for the engine's agents (optional).

The engine asks a voice for words at four points: the planner (free-text
orders), the characters (their lines), the event agent (the next scene's
wording) and the narrator (the turn's prose). Every exchange is recorded in
the turn, and a replay hands the recording back instead of calling out. See
docs/language-models.md.

The HTTP parts (LiveVoice, the backends) are imported on first use, so the
engine itself never loads an HTTP client.
"""

from __future__ import annotations

from typing import Any

from agents.llm.breaker import CircuitBreaker
from agents.llm.config import AgentConfig, load_configs
from agents.llm.exchange import AGENTS, REASONS, Voice
from agents.llm.replay import RecordingError, ReplayVoice

__all__ = [
    "AGENTS",
    "REASONS",
    "AgentConfig",
    "CircuitBreaker",
    "LiveVoice",
    "RecordingError",
    "ReplayVoice",
    "Voice",
    "load_configs",
]


def __getattr__(name: str) -> Any:
    if name == "LiveVoice":
        from agents.llm.voice import LiveVoice

        return LiveVoice
    raise AttributeError(f"module 'agents.llm' has no attribute {name!r}")
