"""Which language-model voice a game speaks with, read from the settings.

FORTRESS_VOICES names voice profiles, each a ``load_configs`` mapping
(``{"defaults": {...}, "agents": {agent: {...}}}``), and optionally the
profile new games get::

    {"profiles": {"local": {"defaults": {"backend": "ollama", ...},
                            "agents": {"narrator": {}, "events": {}}}},
     "default": "local"}

A game stores the name of its profile and, per agent, a few overrides
(model, temperature, token limit, timeout). Addresses and keys stay in the
settings; a game only names them. With no profile a game is rule-based.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from dataclasses import replace
from typing import Any

from django.conf import settings

from agents.llm import AGENTS, AgentConfig, CircuitBreaker, load_configs
from game.errors import InvalidInput

logger = logging.getLogger(__name__)

# What a game (or a game master for it) may change of a profile's agent.
OVERRIDABLE = ("model", "temperature", "max_tokens", "timeout")

_parsed: dict[str, Any] = {}
_lock = threading.Lock()
# One breaker per process: every game that talks to a failing server shares
# the knowledge that it is failing.
BREAKER = CircuitBreaker()


class VoiceConfigError(ValueError):
    """FORTRESS_VOICES does not say what it must; the message names the part."""


def _parse(raw: Any) -> tuple[dict[str, dict[str, AgentConfig]], str | None]:
    if raw in (None, "", {}):
        return {}, None
    if not isinstance(raw, dict):
        raise VoiceConfigError("FORTRESS_VOICES must be a JSON object")
    unknown = sorted(set(raw) - {"profiles", "default"})
    if unknown:
        raise VoiceConfigError(f"FORTRESS_VOICES: unknown key(s) {', '.join(unknown)}")
    profiles_raw = raw.get("profiles", {})
    if not isinstance(profiles_raw, dict):
        raise VoiceConfigError("FORTRESS_VOICES.profiles must be an object")
    profiles = {}
    for name, mapping in sorted(profiles_raw.items()):
        if not isinstance(name, str) or not name or len(name) > 40:
            raise VoiceConfigError("a voice profile name must be 1-40 characters")
        try:
            configs = load_configs(mapping)
        except ValueError as exc:
            raise VoiceConfigError(f"FORTRESS_VOICES.profiles.{name}: {exc}") from exc
        if not configs:
            raise VoiceConfigError(
                f"FORTRESS_VOICES.profiles.{name}: voices no agent; list at least "
                "one under agents"
            )
        profiles[name] = configs
    default = raw.get("default")
    if default is not None and default not in profiles:
        raise VoiceConfigError(f"FORTRESS_VOICES.default names no profile: {default!r}")
    return profiles, default


def _settings() -> tuple[dict[str, dict[str, AgentConfig]], str | None]:
    raw = getattr(settings, "FORTRESS_VOICES", {}) or {}
    key = json.dumps(raw, sort_keys=True, default=str)
    with _lock:
        if _parsed.get("key") != key:
            _parsed["value"] = _parse(raw)
            _parsed["key"] = key
        return _parsed["value"]


def voice_profiles() -> dict[str, dict[str, AgentConfig]]:
    """Every configured profile: name to {agent: config}."""
    return _settings()[0]


def voice_default() -> str | None:
    """The profile new games get when they do not choose; None for rule-based."""
    return _settings()[1]


def voice_check(profile: str | None, overrides: Any = None) -> dict:
    """A game's voice setting, checked: {"profile": name, "agents": {...}} or {}.

    InvalidInput names the bad part. An empty profile means rule-based, and
    then overrides make no sense.
    """
    if profile in (None, ""):
        if overrides:
            raise InvalidInput(
                "Voice overrides need a voice profile.",
                details={"voice_overrides": ["No profile to override."]},
            )
        return {}
    profiles = voice_profiles()
    if profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none are configured"
        raise InvalidInput(
            f"No voice profile {profile!r} (known: {known}).",
            details={"voice": ["Unknown voice profile."]},
        )
    overrides = overrides or {}
    if not isinstance(overrides, dict):
        raise InvalidInput(
            "Voice overrides must be an object of agent to settings.",
            details={"voice_overrides": ["Expected an object."]},
        )
    checked: dict[str, dict[str, Any]] = {}
    for agent, values in sorted(overrides.items()):
        path = f"voice_overrides.{agent}"
        if agent not in profiles[profile]:
            raise InvalidInput(
                f"The {profile!r} profile gives no voice to {agent!r}; it voices "
                f"{', '.join(sorted(profiles[profile]))}.",
                details={path: ["Not voiced by this profile."]},
            )
        if not isinstance(values, dict):
            raise InvalidInput(
                f"{path} must be an object.", details={path: ["Expected an object."]}
            )
        unknown = sorted(set(values) - set(OVERRIDABLE))
        if unknown:
            raise InvalidInput(
                f"{path}: only {', '.join(OVERRIDABLE)} may be overridden.",
                details={f"{path}.{name}": ["Unknown field."] for name in unknown},
            )
        try:
            replace(profiles[profile][agent], **values)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{path}: {exc}", details={path: [str(exc)]}) from exc
        checked[agent] = dict(values)
    return {"profile": profile, "agents": checked}


def voice_configs(voice: dict | None) -> dict[str, AgentConfig] | None:
    """The configs a game with this voice setting plays with; None if rule-based.

    A profile that has since been removed from the settings also gives None:
    the game carries on rule-based rather than failing every turn.
    """
    if not voice or not voice.get("profile"):
        return None
    profile = voice_profiles().get(voice["profile"])
    if profile is None:
        logger.warning("voice profile %s is no longer configured", voice["profile"])
        return None
    configs = dict(profile)
    for agent, values in (voice.get("agents") or {}).items():
        if agent in configs:
            configs[agent] = replace(configs[agent], **values)
    return configs


def voice_summary(voice: dict | None) -> dict | None:
    """What a client may see of a game's voice: profile, and per agent the model.

    Never addresses or keys.
    """
    configs = voice_configs(voice)
    if configs is None:
        return None
    return {
        "profile": voice["profile"],
        "agents": {
            agent: {"backend": config.backend, "model": config.model}
            for agent, config in sorted(configs.items())
            if agent in AGENTS
        },
    }


def voice_servers() -> list[tuple[str, str]]:
    """Each distinct (backend, base URL) the profiles use, for readiness checks."""
    servers = {
        (config.backend, config.base_url)
        for profile in voice_profiles().values()
        for config in profile.values()
    }
    return sorted(servers)


def server_label(base_url: str) -> str:
    """A base URL without credentials or path, safe to show to operators."""
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def voice_probe_url(backend: str, base_url: str) -> str:
    """A cheap GET that tells whether a model server answers: its model list."""
    base = base_url.rstrip("/")
    if backend == "ollama":
        return f"{base}/api/tags"
    return f"{base}/models" if base.endswith("/v1") else f"{base}/v1/models"


def voice_servers_check(timeout: float = 2.0) -> dict[str, str]:
    """Each model server's label to "ok" or what went wrong; empty if none.

    A server whose circuit the breaker holds open is reported as such
    without being called.
    """
    import httpx

    results = {}
    for backend, base_url in voice_servers():
        label = f"{backend} {server_label(base_url)}"
        if BREAKER.state(f"{backend} {base_url.rstrip('/')}") == "open":
            results[label] = "circuit open after repeated failures"
            continue
        try:
            reply = httpx.get(voice_probe_url(backend, base_url), timeout=timeout)
        except httpx.HTTPError as exc:
            results[label] = f"unreachable ({type(exc).__name__})"
            continue
        results[label] = (
            "ok" if reply.status_code < 500 else f"HTTP {reply.status_code}"
        )
    return results
