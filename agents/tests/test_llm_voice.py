"""Live voices over both chat protocols, against the fake model server on loopback."""

from __future__ import annotations

import json

import httpx
import pytest

import agents
from agents.llm import (
    AgentConfig,
    CircuitBreaker,
    LiveVoice,
    load_configs,
    prompting,
    schemas,
)
from agents.llm.fake_server import FakeModelServer
from agents.rng import Streams

from .conftest import redoubt_raw

CHOOSE = {"type": "choose", "option": 0}
FREE_TEXT = {"type": "free_text", "text": "repair the gate"}


@pytest.fixture(scope="module")
def server():
    with FakeModelServer() as fake:
        yield fake


@pytest.fixture(autouse=True)
def fresh(server):
    server.reset()


@pytest.fixture
def theme():
    return agents.load_theme(redoubt_raw())


def voice(configs, **kwargs):
    # A breaker that never opens, unless a test is about the breaker.
    kwargs.setdefault("breaker", CircuitBreaker(threshold=100))
    kwargs.setdefault("sleep", lambda seconds: None)
    return LiveVoice(configs, **kwargs)


def narrator_request(theme, facts=("The gate holds.",)):
    state = agents.new_game(theme, 1)
    view = {"facts": list(facts), "turn": state.data["turn"]}
    return prompting.build(
        theme, "narrator", view, schemas.narrator_schema(), Streams(1, 1)
    )


def without_timings(record):
    return {k: v for k, v in record.items() if k != "timings_us"}


@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_every_agent_speaks_over_each_protocol(server, theme, backend):
    state = agents.new_game(theme, 3)
    plain = agents.resolve_turn(state, CHOOSE)
    with voice(server.configs(backend)) as live:
        voiced = agents.resolve_turn(state, CHOOSE, voice=live)
        ordered = agents.resolve_turn(voiced.state, FREE_TEXT, voice=live)

    record = voiced.record
    assert [e["agent"] for e in record["recordings"]] == [
        "characters",
        "events",
        "narrator",
    ]
    for exchange in record["recordings"] + ordered.record["recordings"]:
        assert exchange["outcome"] == "ok", exchange["detail"]
        assert exchange["backend"] == backend
        assert exchange["attempts"] == 1
        assert exchange["tokens"]["prompt"] > 0
        assert exchange["tokens"]["completion"] > 0
    assert all(p.startswith("Told again: ") for p in record["narrative"])
    assert [d["npc"] for d in record["dialogue"]] == [
        d["npc"] for d in plain.record["dialogue"]
    ]
    assert all("in my own words" in d["line"] for d in record["dialogue"])

    scene, rule_scene = voiced.state.data["scene"], plain.state.data["scene"]
    assert scene["id"] == rule_scene["id"]
    assert scene["text"].startswith("Retold: ")
    for worded, rule in zip(scene["options"], rule_scene["options"], strict=True):
        assert worded["label"] != rule["label"]
        for kept in ("index", "costs", "risk", "hint"):
            assert worded[kept] == rule[kept]
    assert voiced.state.data["metrics"] == plain.state.data["metrics"]

    assert ordered.record["recordings"][0]["agent"] == "planner"
    assert ordered.record["scene"]["free_text"]["by"] == "model"
    planned = [p for p in ordered.record["proposals"] if p["agent"] == "planner"]
    assert [(p["function"], p["verdict"]) for p in planned] == [
        ("repair_structure", "accepted")
    ]


def test_ollama_request_has_stream_false_schema_format_and_options(server, theme):
    config = server.configs("ollama", ["narrator"], temperature=0.4, max_tokens=321)
    request = narrator_request(theme)
    with voice(config) as live:
        exchange = live.ask("narrator", request)
    assert exchange["outcome"] == "ok"

    sent = server.requests[-1]
    assert sent["path"] == "/api/chat"
    body = sent["body"]
    assert body["stream"] is False
    assert body["format"] == request["schema"]
    assert body["messages"] == request["prompt"]
    assert body["options"] == {
        "seed": request["seed"],
        "temperature": 0.4,
        "num_predict": 321,
    }
    assert sent["headers"]["authorization"] == ""


def test_openai_request_has_strict_json_schema_seed_and_bearer_key(server, theme):
    config = server.configs("openai", ["narrator"], api_key="sk-test", max_tokens=77)
    request = narrator_request(theme)
    with voice(config) as live:
        exchange = live.ask("narrator", request)
    assert exchange["outcome"] == "ok"

    sent = server.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer sk-test"
    body = sent["body"]
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "fortress_narrator"
    assert response_format["json_schema"]["strict"] is True
    wire = json.dumps(response_format["json_schema"]["schema"])
    assert "maxLength" not in wire and "minLength" not in wire
    assert body["seed"] == request["seed"]
    assert body["max_tokens"] == 77
    assert body["messages"] == request["prompt"]


def test_openai_base_url_may_already_end_in_v1(server, theme):
    config = {
        "narrator": AgentConfig(
            backend="openai", base_url=server.url + "/v1/", model="m", timeout=5
        )
    }
    with voice(config) as live:
        exchange = live.ask("narrator", narrator_request(theme))
    assert exchange["outcome"] == "ok"
    assert server.requests[-1]["path"] == "/v1/chat/completions"


@pytest.mark.parametrize(
    ("backend", "mode", "reason"),
    [
        ("ollama", "malformed_json", "invalid_json"),
        ("openai", "malformed_json", "invalid_json"),
        ("ollama", "schema_violation", "schema"),
        ("openai", "schema_violation", "schema"),
        ("openai", "refusal", "refusal"),
        ("ollama", "refusal", "invalid_json"),
        ("ollama", "server_error", "http_error"),
        ("openai", "server_error", "http_error"),
        ("ollama", "slow", "timeout"),
        ("openai", "slow", "timeout"),
    ],
)
def test_each_failure_falls_back_to_the_rule_based_turn(
    server, theme, backend, mode, reason
):
    server.set_mode("ok", delay=1.0)
    state = agents.new_game(theme, 3)
    plain = agents.resolve_turn(state, CHOOSE)
    # Only the slow server should time out, however busy the machine is.
    timeout = 0.3 if mode == "slow" else 10.0
    configs = server.configs(backend, mode=mode, timeout=timeout, retries=0)
    with voice(configs) as live:
        outcome = agents.resolve_turn(state, CHOOSE, voice=live)

    exchanges = outcome.record["recordings"]
    assert [e["agent"] for e in exchanges] == ["characters", "events", "narrator"]
    for exchange in exchanges:
        assert (exchange["outcome"], exchange["reason"]) == ("fallback", reason)
        assert exchange["reply"] is None
        assert exchange["detail"]
        assert exchange["request"]["agent"] == exchange["agent"]
    assert outcome.state.hash == plain.state.hash
    assert without_timings({**outcome.record, "recordings": []}) == without_timings(
        plain.record
    )


def test_a_closed_port_is_a_connection_fallback_after_its_retries(theme):
    closed = FakeModelServer().start()
    closed.stop()
    configs = closed.configs("ollama", ["narrator"], retries=2)
    sleeps = []
    with voice(configs, sleep=sleeps.append) as live:
        exchange = live.ask("narrator", narrator_request(theme))
    assert (exchange["reason"], exchange["attempts"]) == ("connection", 3)
    assert sleeps == [0.25, 0.5]


def test_retries_are_bounded_and_only_for_server_trouble(server, theme):
    request = narrator_request(theme)
    cases = [
        ("server_error", 2, "http_error", 3),
        ("slow", 1, "timeout", 2),
        ("malformed_json", 2, "invalid_json", 1),
        ("schema_violation", 2, "schema", 1),
        ("refusal", 2, "refusal", 1),
    ]
    for mode, retries, reason, attempts in cases:
        server.reset()
        server.set_mode(mode, delay=1.0)
        timeout = 0.3 if mode == "slow" else 10.0
        configs = server.configs(
            "openai", ["narrator"], retries=retries, timeout=timeout
        )
        with voice(configs) as live:
            exchange = live.ask("narrator", request)
        assert (mode, exchange["reason"], exchange["attempts"]) == (
            mode,
            reason,
            attempts,
        )
        assert server.count("/v1/chat/completions") == attempts


def test_a_client_error_is_not_retried(server, theme):
    configs = {
        "narrator": AgentConfig(
            backend="ollama", base_url=server.url + "/elsewhere", model="m", retries=3
        )
    }
    with voice(configs) as live:
        exchange = live.ask("narrator", narrator_request(theme))
    assert (exchange["reason"], exchange["attempts"]) == ("http_error", 1)
    assert exchange["detail"].startswith("HTTP 404")


def test_a_retry_that_succeeds_gives_an_ok_exchange(server, theme):
    server.set_mode("server_error", times=1)
    configs = server.configs("ollama", ["narrator"], retries=1)
    with voice(configs) as live:
        exchange = live.ask("narrator", narrator_request(theme))
    assert (exchange["outcome"], exchange["attempts"]) == ("ok", 2)


def test_agents_without_a_config_are_recorded_as_disabled_and_never_called(
    server, theme
):
    state = agents.new_game(theme, 3)
    with voice(server.configs("ollama", ["narrator"])) as live:
        outcome = agents.resolve_turn(state, CHOOSE, voice=live)
    summary = [
        (e["agent"], e["outcome"], e["reason"]) for e in outcome.record["recordings"]
    ]
    assert summary == [
        ("characters", "fallback", "disabled"),
        ("events", "fallback", "disabled"),
        ("narrator", "ok", None),
    ]
    disabled = outcome.record["recordings"][0]
    assert (disabled["request"], disabled["attempts"]) == (None, 0)
    assert server.count("/api/chat") == 1


def test_progress_and_exchange_hooks_see_every_ask_and_cannot_break_a_turn(
    server, theme
):
    progress, seen = [], []

    def broken(_exchange):
        raise RuntimeError("metrics are down")

    state = agents.new_game(theme, 3)
    live = voice(
        server.configs("ollama", ["events", "narrator"]),
        on_progress=progress.append,
        on_exchange=seen.append,
    )
    outcome = agents.resolve_turn(state, FREE_TEXT, voice=live)
    assert progress == ["events", "narrator"]
    assert seen == outcome.record["recordings"]
    assert [e["agent"] for e in seen] == ["planner", "characters", "events", "narrator"]

    quiet = voice(
        server.configs("ollama", ["narrator"]), on_progress=broken, on_exchange=broken
    )
    again = agents.resolve_turn(state, CHOOSE, voice=quiet)
    assert again.record["recordings"][-1]["outcome"] == "ok"


def test_a_reply_that_fails_a_semantic_check_is_a_schema_fallback(server, theme):
    state = agents.new_game(theme, 3)
    plain = agents.resolve_turn(state, CHOOSE)
    speaker = plain.record["dialogue"][0]["npc"]
    cases = {
        "narrator": (
            json.dumps({"paragraphs": ["The {enemy} comes."]}),
            "brace",
        ),
        "characters": (
            json.dumps(
                {
                    "lines": [
                        {"npc": speaker, "line": "One."},
                        {"npc": speaker, "line": "Two."},
                    ]
                }
            ),
            "speaks twice",
        ),
        "events": (
            json.dumps(
                {
                    "text": "A cart.",
                    "options": [{"label": "Same", "text": "x"}] * 3,
                }
            ),
            "same label",
        ),
    }
    for agent, (content, words) in cases.items():
        server.script(content)
        with voice(server.configs("ollama", [agent])) as live:
            outcome = agents.resolve_turn(state, CHOOSE, voice=live)
        exchange = next(e for e in outcome.record["recordings"] if e["agent"] == agent)
        assert (exchange["outcome"], exchange["reason"]) == ("fallback", "schema")
        assert words in exchange["detail"]
        assert exchange["raw"] == content
        assert outcome.state.hash == plain.state.hash


def test_a_theme_tunes_temperature_and_max_tokens_and_words_its_own_prompt(server):
    raw = redoubt_raw()
    raw["voices"] = {
        "prompts": {"narrator": "Tell the tale of {world} against {enemy}. Be brief."},
        "agents": {"narrator": {"temperature": 0.1, "max_tokens": 99}},
    }
    theme = agents.load_theme(raw)
    state = agents.new_game(theme, 3)
    with voice(server.configs("ollama", ["narrator"], temperature=0.9)) as live:
        outcome = agents.resolve_turn(state, CHOOSE, voice=live)
    assert outcome.record["recordings"][-1]["outcome"] == "ok"
    body = server.requests[-1]["body"]
    assert body["options"]["temperature"] == 0.1
    assert body["options"]["num_predict"] == 99
    enemy = theme.data["enemy"]["name"]
    system = body["messages"][0]["content"]
    assert system == f"Tell the tale of {theme.title} against {enemy}. Be brief."


def test_envelope_problems_are_reported_not_raised(theme):
    replies = {
        "not json": httpx.Response(200, content=b"<html>"),
        "huge": httpx.Response(200, content=b"x" * (2 << 20)),
        "no content": httpx.Response(200, json={"message": {"content": ""}}),
        "cut": httpx.Response(
            200,
            json={
                "message": {"content": '{"paragraphs": ["half'},
                "done_reason": "length",
            },
        ),
    }
    expected = {
        "not json": ("invalid_json", "not JSON"),
        "huge": ("http_error", "too large"),
        "no content": ("invalid_json", "no message content"),
        "cut": ("invalid_json", "cut off at max_tokens"),
    }
    request = narrator_request(theme)
    for name, response in replies.items():
        transport = httpx.MockTransport(lambda _request, r=response: r)
        config = {
            "narrator": AgentConfig(
                backend="ollama", base_url="http://model.test", model="m"
            )
        }
        with voice(config, transport=transport) as live:
            exchange = live.ask("narrator", request)
        reason, words = expected[name]
        assert exchange["reason"] == reason, name
        assert words in exchange["detail"], name


def test_configs_are_read_from_mappings_and_refuse_nonsense():
    configs = load_configs(
        {
            "defaults": {
                "backend": "ollama",
                "base_url": "http://127.0.0.1:11434",
                "model": "llama3.2",
            },
            "agents": {"narrator": {}, "planner": {"temperature": 0, "retries": 0}},
        }
    )
    assert sorted(configs) == ["narrator", "planner"]
    assert configs["planner"].temperature == 0
    assert configs["narrator"].retries == 1

    secret = AgentConfig.from_mapping(
        {
            "backend": "openai",
            "base_url": "https://api.example",
            "model": "m",
            "api_key": "sk-x",
        }
    )
    assert "sk-x" not in repr(secret)

    bad = [
        {"backend": "bard", "base_url": "http://x", "model": "m"},
        {"backend": "ollama", "base_url": "ftp://x", "model": "m"},
        {"backend": "ollama", "base_url": "http://x", "model": "m", "temperature": 3},
        {"backend": "ollama", "base_url": "http://x", "model": "m", "timeout": 0},
        {"backend": "ollama", "base_url": "http://x", "model": "m", "retries": 9},
        {"backend": "ollama", "base_url": "http://x", "model": "m", "max_tokens": 1.5},
        {"backend": "ollama", "base_url": "http://x", "model": "m", "colour": "red"},
        {"backend": "ollama", "base_url": "http://x"},
    ]
    for mapping in bad:
        with pytest.raises(ValueError):
            AgentConfig.from_mapping(mapping)
    with pytest.raises(ValueError, match="unknown agent"):
        load_configs({"agents": {"bard": {}}})
