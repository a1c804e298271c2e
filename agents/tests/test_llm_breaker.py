"""The circuit breaker: opens after repeated failures, half-opens after a cool-off."""

from __future__ import annotations

import pytest

import agents
from agents.llm import CircuitBreaker, LiveVoice, prompting, schemas
from agents.llm.fake_server import FakeModelServer
from agents.rng import Streams

from .conftest import redoubt_raw


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_circuit_opens_after_k_failures_in_a_row():
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooloff=10, clock=clock)
    for _ in range(2):
        breaker.failed("a")
        assert breaker.allow("a")
    breaker.succeeded("a")
    breaker.failed("a")
    breaker.failed("a")
    assert breaker.state("a") == "closed"  # the success reset the count
    breaker.failed("a")
    assert breaker.state("a") == "open"
    assert not breaker.allow("a")
    assert breaker.allow("b")  # circuits are per key


def test_after_the_cooloff_one_trial_goes_out_and_decides():
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooloff=10, clock=clock)
    breaker.failed("a")
    clock.now += 9.9
    assert not breaker.allow("a")
    clock.now += 0.1
    assert breaker.state("a") == "half-open"
    assert breaker.allow("a")
    assert not breaker.allow("a")  # only one trial at a time

    breaker.failed("a")  # the trial failed: another full cool-off
    assert breaker.state("a") == "open"
    clock.now += 5
    assert not breaker.allow("a")
    clock.now += 5
    assert breaker.allow("a")
    breaker.succeeded("a")
    assert breaker.state("a") == "closed"
    assert breaker.allow("a") and breaker.allow("a")


def test_breaker_settings_are_checked():
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(cooloff=0)


def test_a_live_voice_stops_calling_a_dead_server_and_tries_again_later():
    theme = agents.load_theme(redoubt_raw())
    request = prompting.build(
        theme, "narrator", {"facts": ["x"]}, schemas.narrator_schema(), Streams(1, 1)
    )
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, cooloff=30, clock=clock)
    server = FakeModelServer().start()
    port = server.port
    configs = server.configs("ollama", ["narrator"], retries=0)
    server.stop()

    live = LiveVoice(configs, breaker, clock=clock, sleep=lambda s: None)
    reasons = [live.ask("narrator", request)["reason"] for _ in range(2)]
    assert reasons == ["connection", "connection"]
    shut = live.ask("narrator", request)
    assert (shut["reason"], shut["attempts"], shut["request"]) == (
        "circuit_open",
        0,
        None,
    )

    revived = FakeModelServer(port=port).start()
    try:
        assert live.ask("narrator", request)["reason"] == "circuit_open"
        assert revived.count("/api/chat") == 0
        clock.now += 30
        trial = live.ask("narrator", request)
        assert trial["outcome"] == "ok"
        assert breaker.state(configs["narrator"].circuit) == "closed"
        assert revived.count("/api/chat") == 1
    finally:
        revived.stop()
        live.close()


def test_poor_replies_do_not_count_against_a_server():
    theme = agents.load_theme(redoubt_raw())
    request = prompting.build(
        theme, "narrator", {"facts": ["x"]}, schemas.narrator_schema(), Streams(1, 1)
    )
    breaker = CircuitBreaker(threshold=1, cooloff=30)
    with FakeModelServer(mode="malformed_json") as server:
        live = LiveVoice(server.configs("ollama", ["narrator"]), breaker)
        reasons = [live.ask("narrator", request)["reason"] for _ in range(3)]
        live.close()
    assert reasons == ["invalid_json"] * 3
