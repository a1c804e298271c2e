"""A fake model server for tests and for trying voices without a model.

It speaks enough of both protocols to stand in for the real thing: Ollama's
``POST /api/chat`` and ``GET /api/tags``, and the OpenAI-compatible ``POST
/v1/chat/completions`` and ``GET /v1/models``. Replies are built
deterministically from the request (the reply schema and the view the engine
sent), so they always fit their schema and read as a lightly retold version
of the rule-based text.

Modes make it misbehave on purpose: ``ok``, ``malformed_json``,
``schema_violation``, ``slow`` (answers after ``delay`` seconds),
``server_error`` (HTTP 500) and ``refusal`` (OpenAI's ``message.refusal``; on
the Ollama route a plain-text answer). Choose one:

- for every request: ``FakeModelServer(mode=...)``, ``set_mode(mode)``, or
  ``POST /_control {"mode": "slow", "delay": 2}``;
- for the next n requests: ``set_mode(mode, times=n)``;
- in a repeating pattern: ``set_cycle(["ok", "server_error"])``;
- per address: a base URL of ``http://host:port/mode/<mode>`` puts every
  request sent under it in that mode;
- exact replies: ``script('{"calls": []}')`` queues answer texts verbatim.

Stop the server to get "connection refused". Run it by hand with
``python -m agents.llm.fake_server --port 11435``.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agents.llm.config import AgentConfig
from agents.llm.exchange import AGENTS

MODES = ("ok", "malformed_json", "schema_violation", "slow", "server_error", "refusal")
MODEL = "fake-voice"
USER_LEAD = "The game, as JSON:\n"
KEPT_REQUESTS = 200
WORD = re.compile(r"[a-z0-9]+")


class FakeModelServer:
    """The server and its switches; ``start()`` serves from a daemon thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: str = "ok",
        delay: float = 1.0,
    ):
        _check_mode(mode)
        self.host = host
        self.port = port
        self.mode = mode
        self.delay = delay
        self._times: tuple[str, int] | None = None
        self._cycle: list[str] = []
        self._cycle_at = 0
        self._script: deque[str] = deque()
        self._requests: deque[dict[str, Any]] = deque(maxlen=KEPT_REQUESTS)
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------

    def start(self) -> FakeModelServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        httpd = ThreadingHTTPServer((self.host, self.port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; later requests find the port closed."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeModelServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def configs(
        self,
        backend: str = "ollama",
        agents: tuple[str, ...] | list[str] = AGENTS,
        mode: str | None = None,
        **overrides: Any,
    ) -> dict[str, AgentConfig]:
        """Configs that point `agents` at this server (in `mode`, if given)."""
        base_url = self.url_for(mode) if mode else self.url
        settings = {"timeout": 5.0, **overrides}
        return {
            agent: AgentConfig(
                backend=backend, base_url=base_url, model=MODEL, **settings
            )
            for agent in agents
        }

    def url_for(self, mode: str) -> str:
        """A base URL whose requests are always answered in `mode`."""
        _check_mode(mode)
        return f"{self.url}/mode/{mode}"

    # -- switches ------------------------------------------------------------

    def set_mode(
        self, mode: str, times: int | None = None, delay: float | None = None
    ) -> None:
        _check_mode(mode)
        with self._lock:
            if delay is not None:
                self.delay = delay
            if times is None:
                self.mode, self._times, self._cycle = mode, None, []
            else:
                self._times = (mode, times)

    def set_cycle(self, modes: list[str]) -> None:
        for mode in modes:
            _check_mode(mode)
        with self._lock:
            self._cycle, self._cycle_at = list(modes), 0

    def script(self, *contents: str) -> None:
        """Answer the next chat requests with these texts, verbatim, in order."""
        with self._lock:
            self._script.extend(contents)

    def reset(self) -> None:
        with self._lock:
            self.mode, self._times, self._cycle = "ok", None, []
            self._script.clear()
            self._requests.clear()
            self._counts.clear()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The chat requests received, oldest first: path, headers and body."""
        with self._lock:
            return list(self._requests)

    def count(self, path: str) -> int:
        with self._lock:
            return self._counts.get(path, 0)

    # -- answering -------------------------------------------------------------

    def _next_mode(self, path_mode: str | None) -> tuple[str, str | None]:
        """(mode, scripted text) for the next chat request."""
        with self._lock:
            if path_mode:
                return path_mode, None
            if self._script:
                return "ok", self._script.popleft()
            if self._times:
                mode, left = self._times
                self._times = (mode, left - 1) if left > 1 else None
                return mode, None
            if self._cycle:
                mode = self._cycle[self._cycle_at % len(self._cycle)]
                self._cycle_at += 1
                return mode, None
            return self.mode, None

    def _remember(self, path: str, headers: dict[str, str], body: Any) -> None:
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + 1
            self._requests.append({"path": path, "headers": headers, "body": body})

    def _control(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("reset"):
            self.reset()
        if "mode" in body:
            self.set_mode(body["mode"], body.get("times"), body.get("delay"))
        elif "delay" in body:
            with self._lock:
                self.delay = float(body["delay"])
        if "cycle" in body:
            self.set_cycle(list(body["cycle"]))
        if "script" in body:
            self.script(*[str(text) for text in body["script"]])
        return self._status()

    def _status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "mode": self.mode,
                "delay": self.delay,
                "cycle": list(self._cycle),
                "scripted": len(self._script),
                "counts": dict(self._counts),
            }


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of: {', '.join(MODES)}")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeModelServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this a keep-alive client
    # waits on a delayed ACK for every answer.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # quiet: tests and the terminal do not need a line per request

    def do_GET(self) -> None:  # noqa: N802
        _, path = _split_mode(self.path)
        if path == "/api/tags":
            self._json(200, {"models": [_ollama_model()]})
        elif path in ("/v1/models", "/models"):
            self._json(200, {"object": "list", "data": [_openai_model()]})
        elif path == "/_control":
            self._json(200, self.fake._status())
        elif path == "/_control/requests":
            self._json(200, {"requests": self.fake.requests})
        else:
            self._json(404, {"error": f"no route {path}"})

    def do_POST(self) -> None:  # noqa: N802
        path_mode, path = _split_mode(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        try:
            body = json.loads(data or b"{}")
        except ValueError:
            self._json(400, {"error": "the request body is not JSON"})
            return
        if path == "/_control":
            try:
                self._json(200, self.fake._control(body))
            except (ValueError, TypeError) as exc:
                self._json(400, {"error": str(exc)})
            return
        if path not in ("/api/chat", "/v1/chat/completions", "/chat/completions"):
            self._json(404, {"error": f"no route {path}"})
            return
        protocol = "ollama" if path == "/api/chat" else "openai"
        headers = {"authorization": self.headers.get("Authorization", "")}
        self.fake._remember(path, headers, body)
        mode, scripted = self.fake._next_mode(path_mode)
        self._chat(protocol, body, mode, scripted)

    def _chat(
        self, protocol: str, body: dict[str, Any], mode: str, scripted: str | None
    ) -> None:
        if mode == "slow":
            time.sleep(self.fake.delay)
        if mode == "server_error":
            message = "the fake model server was told to fail"
            error: Any = (
                message
                if protocol == "ollama"
                else {"message": message, "type": "server_error"}
            )
            self._json(500, {"error": error})
            return
        if scripted is not None:
            content: str | None = scripted
        elif mode == "malformed_json":
            content = '{"paragraphs": ["an answer that stops in the midd'
        elif mode == "schema_violation":
            content = json.dumps({"verdict": "not what was asked for"})
        elif mode == "refusal" and protocol == "ollama":
            content = "I would rather not write this."
        else:
            content = json.dumps(answer(body, protocol), ensure_ascii=False)
        refusal = "I can't help with that request." if mode == "refusal" else None
        if protocol == "ollama":
            self._json(200, _ollama_reply(body, content or ""))
        else:
            self._json(200, _openai_reply(body, None if refusal else content, refusal))

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to tell it


def _split_mode(path: str) -> tuple[str | None, str]:
    path = path.split("?", 1)[0]
    match = re.match(r"^/mode/([a-z_]+)(/.*)$", path)
    if match and match.group(1) in MODES:
        return match.group(1), match.group(2)
    return None, path


def _ollama_model() -> dict[str, Any]:
    return {
        "name": f"{MODEL}:latest",
        "model": f"{MODEL}:latest",
        "modified_at": "2026-01-01T00:00:00Z",
        "size": 0,
        "digest": "0" * 64,
        "details": {
            "format": "gguf",
            "family": "fake",
            "families": ["fake"],
            "parameter_size": "0B",
            "quantization_level": "none",
        },
    }


def _openai_model() -> dict[str, Any]:
    return {"id": MODEL, "object": "model", "created": 0, "owned_by": "fortress"}


def _prompt_chars(body: dict[str, Any]) -> int:
    messages = body.get("messages") or []
    return sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict))


def _ollama_reply(body: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "model": body.get("model", MODEL),
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": content},
        "done_reason": "stop",
        "done": True,
        "total_duration": 1000,
        "load_duration": 10,
        "prompt_eval_count": _prompt_chars(body) // 4,
        "prompt_eval_duration": 100,
        "eval_count": len(content) // 4,
        "eval_duration": 900,
    }


def _openai_reply(
    body: dict[str, Any], content: str | None, refusal: str | None
) -> dict[str, Any]:
    completion = len(content or refusal or "") // 4
    prompt = _prompt_chars(body) // 4
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", MODEL),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


# -- building answers --------------------------------------------------------


def answer(body: dict[str, Any], protocol: str) -> Any:
    """A schema-valid reply made from the request alone, the same every time."""
    if protocol == "ollama":
        schema = body.get("format") or {}
        name = schema.get("title", "") if isinstance(schema, dict) else ""
    else:
        spec = (body.get("response_format") or {}).get("json_schema") or {}
        schema, name = spec.get("schema") or {}, spec.get("name", "")
    view = _view(body)
    agent = name.removeprefix("fortress_")
    build = {
        "narrator": _narrator,
        "characters": _characters,
        "events": _events,
        "planner": _planner,
    }.get(agent)
    if build is not None and isinstance(view, dict):
        return build(view, schema)
    return _from_schema(schema)


def _view(body: dict[str, Any]) -> Any:
    for message in reversed(body.get("messages") or []):
        content = message.get("content", "") if isinstance(message, dict) else ""
        if message.get("role") == "user" and content.startswith(USER_LEAD):
            try:
                return json.loads(content[len(USER_LEAD) :])
            except ValueError:
                return None
    return None


def _clip(text: str, limit: int) -> str:
    text = text.replace("{", "(").replace("}", ")")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _narrator(view: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    facts = [str(f) for f in view.get("facts") or []][:6]
    if not facts:
        facts = ["The hours pass, and the walls hold their breath."]
    return {"paragraphs": [_clip(f"Told again: {fact}", 800) for fact in facts]}


def _characters(view: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    lines = []
    for speaker in view.get("speakers") or []:
        mood = speaker.get("mood", "steady")
        line = f"{speaker.get('gist', '')} ({mood}, in my own words)"
        lines.append({"npc": speaker["npc"], "line": _clip(line, 300)})
    return {"lines": lines}


def _events(view: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    scene = view.get("next_scene") or {}
    options = []
    for index, option in enumerate(scene.get("options") or []):
        label = _clip(f"{index + 1}. {option.get('label', 'Choose')}", 80)
        options.append(
            {"label": label, "text": _clip(f"Retold: {option.get('text', '')}", 600)}
        )
    return {"text": _clip(f"Retold: {scene.get('text', '')}", 1500), "options": options}


def _planner(view: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Picks the listed order whose name and label share most words with the order."""
    words = set(WORD.findall(str(view.get("order", "")).lower()))
    best, best_score = None, 0
    for order in view.get("orders") or []:
        names = set(order["function"].split("_")) | set(
            WORD.findall(order["label"].lower())
        )
        score = len(names & words - {"the", "a", "to", "of"})
        if score > best_score:
            best, best_score = order["function"], score
    if best is None:
        return {"calls": []}
    shapes = (
        ((schema.get("properties") or {}).get("calls") or {}).get("items") or {}
    ).get("anyOf") or []
    for shape in shapes:
        if shape["properties"]["function"].get("enum") == [best]:
            args = {}
            for name, spec in shape["properties"]["args"].get("properties", {}).items():
                args[name] = _pick(spec, words)
            return {"calls": [{"function": best, "args": args}]}
    return {"calls": []}


def _pick(spec: dict[str, Any], words: set[str]) -> Any:
    if "enum" in spec:
        for value in spec["enum"]:
            if set(str(value).split("_")) & words:
                return value
        return spec["enum"][0]
    if spec.get("type") == "integer":
        low = spec.get("minimum", 0)
        for word in sorted(words):
            if word.isdigit():
                return max(low, min(spec.get("maximum", int(word)), int(word)))
        return low
    return _from_schema(spec)


def _from_schema(schema: Any) -> Any:
    """The plainest value that fits a schema; for replies of unknown agents."""
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return _from_schema(schema["anyOf"][0])
    kind = schema.get("type")
    if kind == "object":
        return {k: _from_schema(v) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [
            _from_schema(schema.get("items")) for _ in range(schema.get("minItems", 0))
        ]
    if kind == "integer":
        return schema.get("minimum", 0)
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11435)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument(
        "--delay", type=float, default=1.0, help="seconds, for slow mode"
    )
    options = parser.parse_args(argv)
    server = FakeModelServer(
        options.host, options.port, options.mode, options.delay
    ).start()
    print(
        f"fake model server on {server.url} (mode {server.mode}); Ctrl-C stops it",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
