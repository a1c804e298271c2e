"""How each agent reaches its model: backend, address, model and limits.

Read from plain mappings (settings, environment, JSON) by ``from_mapping``,
which fails loudly on anything it does not understand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from agents.llm.exchange import AGENTS

BACKENDS = ("ollama", "openai")
MAX_RETRIES = 5


@dataclass(frozen=True)
class AgentConfig:
    """One agent's model. ``timeout`` is in seconds, per HTTP attempt."""

    backend: str
    base_url: str
    model: str
    temperature: float = 0.7
    timeout: float = 30.0
    max_tokens: int = 600
    api_key: str | None = field(default=None, repr=False)
    retries: int = 1

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(problem)

    def _problem(self) -> str | None:
        if self.backend not in BACKENDS:
            return f"backend must be one of: {', '.join(BACKENDS)}"
        parts = urlsplit(self.base_url) if isinstance(self.base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            return "base_url must be an http:// or https:// address"
        if not isinstance(self.model, str) or not self.model.strip():
            return "model must be a non-empty string"
        if not _number(self.temperature) or not 0 <= self.temperature <= 2:
            return "temperature must be a number from 0 to 2"
        if not _number(self.timeout) or not 0 < self.timeout <= 600:
            return "timeout must be a number of seconds above 0 and at most 600"
        if type(self.max_tokens) is not int or not 16 <= self.max_tokens <= 8192:
            return "max_tokens must be an integer from 16 to 8192"
        if self.api_key is not None and not isinstance(self.api_key, str):
            return "api_key must be a string"
        if type(self.retries) is not int or not 0 <= self.retries <= MAX_RETRIES:
            return f"retries must be an integer from 0 to {MAX_RETRIES}"
        return None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> AgentConfig:
        """A config from a plain mapping; unknown keys are an error, not ignored."""
        if not isinstance(mapping, Mapping):
            raise ValueError("an agent's model config must be a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(f"unknown model config key(s): {', '.join(unknown)}")
        missing = [
            key for key in ("backend", "base_url", "model") if not mapping.get(key)
        ]
        if missing:
            raise ValueError(f"model config needs {', '.join(missing)}")
        values = dict(mapping)
        if values.get("api_key") == "":
            values["api_key"] = None
        return cls(**values)

    @property
    def circuit(self) -> str:
        """The breaker key: one circuit per backend at one address."""
        return f"{self.backend} {self.base_url.rstrip('/')}"

    def tuned(self, tuning: Mapping[str, Any]) -> AgentConfig:
        """This config with a theme's temperature and max_tokens, when it sets them."""
        if not tuning:
            return self
        return replace(
            self, **{k: tuning[k] for k in ("temperature", "max_tokens") if k in tuning}
        )


def _number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def load_configs(mapping: Mapping[str, Any]) -> dict[str, AgentConfig]:
    """Configs by agent from ``{"defaults": {...}, "agents": {agent: {...}}}``.

    Each agent's entry is laid over the defaults; agents not listed under
    ``agents`` keep their rule-based voice. Example::

        load_configs({
            "defaults": {"backend": "ollama", "base_url": "http://127.0.0.1:11434",
                         "model": "llama3.2"},
            "agents": {"narrator": {}, "characters": {"temperature": 0.9}},
        })
    """
    if not isinstance(mapping, Mapping):
        raise ValueError("model configs must be a mapping")
    unknown = sorted(set(mapping) - {"defaults", "agents"})
    if unknown:
        raise ValueError(f"unknown key(s) in model configs: {', '.join(unknown)}")
    defaults = mapping.get("defaults") or {}
    agents = mapping.get("agents") or {}
    if not isinstance(defaults, Mapping) or not isinstance(agents, Mapping):
        raise ValueError("defaults and agents must be mappings")
    out = {}
    for agent in sorted(agents):
        if agent not in AGENTS:
            raise ValueError(f"unknown agent {agent!r}; agents are {', '.join(AGENTS)}")
        own = agents[agent] or {}
        if not isinstance(own, Mapping):
            raise ValueError(f"the config of {agent} must be a mapping")
        try:
            out[agent] = AgentConfig.from_mapping({**defaults, **own})
        except ValueError as exc:
            raise ValueError(f"{agent}: {exc}") from None
    return out
