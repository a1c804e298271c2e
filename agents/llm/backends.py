"""HTTP clients for the two chat protocols a voice can speak.

- Ollama: ``POST /api/chat`` with ``stream: false``, the reply schema as
  ``format``, and ``options`` {seed, temperature, num_predict}; token counts
  come back as ``prompt_eval_count`` and ``eval_count``.
- OpenAI-compatible: ``POST /v1/chat/completions`` with ``response_format``
  ``{"type": "json_schema", "json_schema": {name, schema, strict: true}}``,
  ``seed``, ``temperature`` and ``max_tokens``, and a bearer key when one is
  configured; a refusal comes back as ``message.refusal``, token counts as
  ``usage``.

A backend never raises for what a server does: every outcome is a Result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from agents.llm.config import AgentConfig
from agents.llm.schemas import wire_schema

# A reply is a few kilobytes; anything far larger is not one.
MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True)
class Result:
    """What one HTTP attempt came to.

    ``text`` is the model's message (still to be parsed) when the exchange
    itself went well; otherwise ``reason`` says why not.
    """

    text: str | None = None
    raw: str = ""
    reason: str | None = None
    detail: str | None = None
    status: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @property
    def retryable(self) -> bool:
        """Timeouts, refused connections and server errors may pass if tried again."""
        if self.reason in ("timeout", "connection"):
            return True
        return self.reason == "http_error" and (self.status or 0) >= 500


class Backend:
    """One protocol at one address, with a pooled HTTP client."""

    name = ""

    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(transport=transport, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def chat(self, config: AgentConfig, request: dict[str, Any]) -> Result:
        body = self.body(config, request)
        headers = {"Content-Type": "application/json"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        try:
            with self._client.stream(
                "POST",
                self.url(),
                content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=config.timeout,
            ) as response:
                raw_bytes = _read_bounded(response)
                status = response.status_code
        except httpx.TimeoutException as exc:
            return Result(
                reason="timeout",
                detail=f"no answer within {config.timeout} s ({type(exc).__name__})",
            )
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            return Result(reason="connection", detail=f"{type(exc).__name__}: {exc}")
        except httpx.HTTPError as exc:
            return Result(reason="connection", detail=f"{type(exc).__name__}: {exc}")
        except _TooLarge:
            return Result(reason="http_error", detail="the answer is too large")

        raw = raw_bytes.decode("utf-8", errors="replace")
        if status != 200:
            return Result(
                raw=raw,
                reason="http_error",
                status=status,
                detail=f"HTTP {status}: {_error_message(raw)}",
            )
        try:
            envelope = json.loads(raw)
        except ValueError:
            return Result(
                raw=raw,
                reason="invalid_json",
                status=status,
                detail="the server's answer is not JSON",
            )
        if not isinstance(envelope, dict):
            return Result(
                raw=raw,
                reason="invalid_json",
                status=status,
                detail="the server's answer is not an object",
            )
        return self.parse(envelope, raw, status)

    def url(self) -> str:
        raise NotImplementedError

    def body(self, config: AgentConfig, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, envelope: dict[str, Any], raw: str, status: int) -> Result:
        raise NotImplementedError


class OllamaBackend(Backend):
    name = "ollama"

    def url(self) -> str:
        return f"{self.base_url}/api/chat"

    def body(self, config: AgentConfig, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": config.model,
            "messages": request["prompt"],
            "stream": False,
            "format": request["schema"],
            "options": {
                "seed": request["seed"],
                "temperature": config.temperature,
                "num_predict": config.max_tokens,
            },
        }

    def parse(self, envelope: dict[str, Any], raw: str, status: int) -> Result:
        tokens = (
            _count(envelope.get("prompt_eval_count")),
            _count(envelope.get("eval_count")),
        )
        message = envelope.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str) or not content.strip():
            return _failed(raw, status, "invalid_json", "no message content", tokens)
        cut = envelope.get("done_reason") == "length"
        return _answered(content, status, cut, tokens)


class OpenAIBackend(Backend):
    name = "openai"

    def url(self) -> str:
        if self.base_url.endswith("/v1"):
            return f"{self.base_url}/chat/completions"
        return f"{self.base_url}/v1/chat/completions"

    def body(self, config: AgentConfig, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": config.model,
            "messages": request["prompt"],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": f"fortress_{request['agent']}",
                    "schema": wire_schema(request["schema"]),
                    "strict": True,
                },
            },
            "seed": request["seed"],
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
        }

    def parse(self, envelope: dict[str, Any], raw: str, status: int) -> Result:
        usage = envelope.get("usage")
        if not isinstance(usage, dict):
            usage = {}
        tokens = (
            _count(usage.get("prompt_tokens")),
            _count(usage.get("completion_tokens")),
        )
        choices = envelope.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            return _failed(
                raw, status, "invalid_json", "no message in the answer", tokens
            )
        refusal = message.get("refusal")
        if refusal:
            return _failed(raw, status, "refusal", str(refusal), tokens)
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            return _failed(raw, status, "invalid_json", "no message content", tokens)
        cut = isinstance(choice, dict) and choice.get("finish_reason") == "length"
        return _answered(content, status, cut, tokens)


Tokens = tuple[int | None, int | None]


def _failed(raw: str, status: int, reason: str, detail: str, tokens: Tokens) -> Result:
    return Result(
        raw=raw,
        reason=reason,
        detail=detail,
        status=status,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
    )


def _answered(content: str, status: int, cut: bool, tokens: Tokens) -> Result:
    return Result(
        text=content,
        raw=content,
        status=status,
        detail="cut off at max_tokens" if cut else None,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
    )


BACKENDS: dict[str, type[Backend]] = {"ollama": OllamaBackend, "openai": OpenAIBackend}


class _TooLarge(Exception):
    pass


def _read_bounded(response: httpx.Response) -> bytes:
    chunks = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error_message(raw: str) -> str:
    """The message out of an error body from either protocol, else its start."""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw[:200] or "no body"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    return str(error)[:200] if error else raw[:200]


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None
