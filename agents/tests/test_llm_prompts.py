"""What a model is shown: bounded prompts and the story so far; theme voices; fakes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import agents
from agents import policies
from agents.llm import exchange, prompting
from agents.llm.fake_server import FakeModelServer

from .conftest import redoubt_raw, with_state

ROOT = Path(__file__).resolve().parents[2]


class Capture:
    """A voice that keeps every request and never answers."""

    def __init__(self) -> None:
        self.requests: list[dict] = []

    def ask(self, agent, request, check=None):
        self.requests.append(request)
        return exchange.make(agent, reason="disabled", detail="captured")


def play(theme, seed, voice, turns=None):
    state = agents.new_game(theme, seed)
    played = 0
    while not state.ended and (turns is None or played < turns):
        if played % 3 == 1:
            action = {"type": "free_text", "text": "repair the weakest wall, then rest"}
        else:
            action = policies.choose("scripted", state)
        state = agents.resolve_turn(state, action, voice=voice).state
        played += 1
    return state


def assert_within_budget(request):
    assert prompting.prompt_chars(request) <= prompting.PROMPT_CHARS
    system, user = request["prompt"]
    assert (system["role"], user["role"]) == ("system", "user")
    assert user["content"].startswith(prompting.USER_LEAD)
    assert json.loads(user["content"][len(prompting.USER_LEAD) :]) == request["view"]


@pytest.mark.parametrize("slug", ["lornhaven", "orbital", "plague", "redoubt"])
def test_every_prompt_of_a_whole_game_fits_the_budget(slug):
    raw = redoubt_raw() if slug == "redoubt" else agents.builtin_theme_data()[slug]
    theme = agents.load_theme(raw)
    capture = Capture()
    state = play(theme, 7, capture)
    assert state.data["turn"] >= 8
    assert {r["agent"] for r in capture.requests} == set(exchange.AGENTS)
    for request in capture.requests:
        assert_within_budget(request)
        view = request["view"]
        assert view["world"] == theme.title
        assert view["story"]["turns_played"] == view["turn"]
        assert len(view["story"]["recent_scenes"]) <= 6


def bloated_raw():
    """The test theme at the edge of what its schema allows, and then some."""
    raw = redoubt_raw()
    filler = "The rain comes down on the tired walls and nobody sleeps. "
    for scene in raw["scenes"]:
        scene["text"] = [(filler * 80)[:4000]]
        scene["title"] = "A very long title " * 4
        for option in scene["options"]:
            option["text"] = (filler * 80)[:4000]
            option["hint"] = (filler * 8)[:400]
            option["label"] = (option["label"] + " " + filler * 3)[:120]
    raw["voices"] = {
        "prompts": {agent: (filler * 80)[:4000] for agent in exchange.AGENTS}
    }
    for i in range(40):
        raw["npcs"][f"ada_{i}"] = {
            **raw["npcs"]["ada"],
            "name": f"Ada Thorn the {i}th of Many Names",
        }
        raw["structures"][f"wall_{i}"] = {
            **raw["structures"]["wall"],
            "name": f"Curtain Wall Section {i}",
        }
    return raw


def test_prompts_stay_within_budget_for_a_bloated_theme_and_a_long_memory():
    theme = agents.load_theme(bloated_raw())

    def long_memory(data):
        data["flags"] = {f"flag_{i:03d}_" + "x" * 30: 1 for i in range(300)}
        data["seen"] = [
            theme.scene_order[i % len(theme.scene_order)] for i in range(400)
        ]
        data["npcs"]["ada"]["status"] = "dead"

    state = with_state(agents.new_game(theme, 2), long_memory)
    capture = Capture()
    order = "repair the gate " * 18
    for action in (
        {"type": "choose", "option": 0},
        {"type": "free_text", "text": order[:300]},
    ):
        agents.resolve_turn(state, action, voice=capture)
    assert {r["agent"] for r in capture.requests} == set(exchange.AGENTS)
    for request in capture.requests:
        assert_within_budget(request)
        # Detail went before the task: people lost their traits, not their ids.
        assert all("traits" not in p for p in request["view"]["people"])
        assert len(request["view"]["people"]) == len(theme.npc_ids)
    assert any("story" not in r["view"] for r in capture.requests)
    planner = next(r for r in capture.requests if r["agent"] == "planner")
    assert planner["view"]["order"] == order[:300]
    events = next(r for r in capture.requests if r["agent"] == "events")
    assert len(events["view"]["next_scene"]["options"]) == 3


def test_the_story_so_far_is_read_from_what_the_state_already_holds(theme):
    state = agents.new_game(theme, 3)
    for _ in range(8):
        state = agents.resolve_turn(state, {"type": "choose", "option": 0}).state
        if state.ended:
            break

    def losses(data):
        data["npcs"]["ada"]["status"] = "dead"
        data["npcs"]["bram"]["status"] = "deserted"
        data["npcs"]["cora"]["status"] = "captured"
        data["structures"]["tower"].update(integrity=0, status="collapsed")
        data["flags"]["walls_mined"] = 1
        data["flags"]["forgotten"] = 0

    before = agents.canonical_json(state.data)
    story = agents.llm.projection.story_so_far(theme, with_state(state, losses).data)
    assert agents.canonical_json(state.data) == before
    assert story["dead"] == ["Ada Thorn"]
    assert story["deserted"] == ["Bram Coil"]
    assert story["captured"] == ["Cora Fen"]
    assert story["collapsed"] == ["Watch Tower"]
    assert "walls_mined" in story["flags"] and "forgotten" not in story["flags"]
    seen = state.data["seen"]
    assert story["recent_scenes"] == [theme.scenes[s]["title"] for s in seen[-6:]]
    assert story.get("earlier_scenes", 0) == max(0, len(seen) - 6)


def test_theme_voices_are_validated_by_the_schema():
    raw = redoubt_raw()
    raw["voices"] = {
        "prompts": {"narrator": "Speak as {world}."},
        "agents": {"events": {"temperature": 1.2, "max_tokens": 400}},
    }
    agents.load_theme(raw)
    bad = [
        {"agents": {"narrator": {"base_url": "http://evil.example"}}},
        {"agents": {"narrator": {"temperature": 3}}},
        {"agents": {"bard": {}}},
        {"prompts": {"narrator": "x" * 4001}},
        {"prompts": {"narrator": ""}},
        {"model": "llama"},
    ]
    for voices in bad:
        raw["voices"] = voices
        with pytest.raises(agents.ThemeError) as info:
            agents.load_theme(raw)
        assert info.value.errors[0]["path"].startswith("voices")


def test_the_fake_server_speaks_both_protocols_and_takes_orders():
    with FakeModelServer() as server:
        with httpx.Client(base_url=server.url) as client:
            tags = client.get("/api/tags").json()
            assert tags["models"][0]["name"] == "fake-voice:latest"
            models = client.get("/v1/models").json()
            assert models["object"] == "list"
            assert models["data"][0]["id"] == "fake-voice"

            chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
            status = client.post("/_control", json={"mode": "server_error", "times": 1})
            assert status.json()["mode"] == "ok"
            assert client.post("/api/chat", json=chat).status_code == 500
            answer = client.post("/api/chat", json=chat)
            assert answer.status_code == 200
            assert answer.json()["done"] is True

            slow = client.post("/mode/server_error/v1/chat/completions", json=chat)
            assert slow.status_code == 500
            assert slow.json()["error"]["type"] == "server_error"
            assert client.post("/_control", json={"mode": "nap"}).status_code == 400
            assert client.get("/_control").json()["counts"] == {
                "/api/chat": 2,
                "/v1/chat/completions": 1,
            }


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_fake_server_runs_from_the_command_line():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "agents.llm.fake_server", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                tags = httpx.get(f"http://127.0.0.1:{port}/api/tags").json()
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert tags["models"]
    finally:
        process.terminate()
        process.wait(timeout=10)
