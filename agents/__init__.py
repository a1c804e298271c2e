"""Fortress Director's deterministic engine: themes, turns, replays and hashes.

Pure Python; nothing here imports Django (only agents/apps.py does).
"""

from agents.engine import check_action, new_game, replay, resolve_turn, restore
from agents.errors import ActionError, EngineError, ThemeError
from agents.hashing import canonical_json, chain_hash, state_hash
from agents.llm.replay import RecordingError, ReplayVoice
from agents.state import Outcome, State
from agents.theme import Theme, builtin_theme_data, load_theme
from agents.view import metrics_snapshot, view

__all__ = [
    "ActionError",
    "EngineError",
    "Outcome",
    "RecordingError",
    "ReplayVoice",
    "State",
    "Theme",
    "ThemeError",
    "builtin_theme_data",
    "canonical_json",
    "chain_hash",
    "check_action",
    "load_theme",
    "metrics_snapshot",
    "new_game",
    "replay",
    "resolve_turn",
    "restore",
    "state_hash",
    "view",
]
