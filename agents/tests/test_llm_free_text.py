"""Free-text orders: read by a model when there is one, by keywords otherwise."""

from __future__ import annotations

import json

import pytest

import agents
from agents import narrator, planner
from agents.llm import LiveVoice, schemas
from agents.llm.fake_server import FakeModelServer

from .conftest import redoubt_raw, with_state


@pytest.fixture(scope="module")
def server():
    with FakeModelServer() as fake:
        yield fake


@pytest.fixture(autouse=True)
def fresh(server):
    server.reset()


def hurt(data):
    data["structures"]["wall"].update(integrity=50, status="standing")
    data["npcs"]["bram"]["fatigue"] = 80
    data["npcs"]["ada"]["health"] = 40


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        (
            "repair the gate",
            [("repair_structure", {"structure": "gate", "amount": 20})],
        ),
        (
            "Mend the Curtain Wall by 35",
            [("repair_structure", {"structure": "wall", "amount": 35})],
        ),
        ("fix it", [("repair_structure", {"structure": "wall", "amount": 20})]),
        ("ration food", [("ration_food", {"level": "half"})]),
        ("put everyone on quarter rations", [("ration_food", {"level": "quarter"})]),
        ("let Cora rest", [("rest_npc", {"npc": "cora"})]),
        ("someone needs sleep", [("rest_npc", {"npc": "bram"})]),
        ("heal the wounded", [("heal_npc", {"npc": "ada"})]),
        ("loose 3 volleys", [("archer_volley", {"volleys": 3})]),
        ("barricade the tower", [("barricade", {"structure": "tower"})]),
        ("post Bram on the walls", [("assign_duty", {"npc": "bram", "duty": "walls"})]),
        (
            "barricade the gate, then let Cora rest and ration the grain to half",
            [
                ("barricade", {"structure": "gate"}),
                ("rest_npc", {"npc": "cora"}),
                ("ration_food", {"level": "half"}),
            ],
        ),
        ("post Bram somewhere", []),
        ("sing a song of the sea", []),
    ],
)
def test_keywords_map_common_phrasings_onto_the_themes_orders(theme, text, calls):
    state = with_state(agents.new_game(theme, 1), hurt)
    found = planner.keyword_calls(theme, state.data, text)
    assert [(c["fn"], c["args"]) for c in found] == calls


def test_keywords_use_the_themes_own_order_labels():
    theme = agents.load_theme(agents.builtin_theme_data()["lornhaven"])
    state = agents.new_game(theme, 1)
    found = planner.keyword_calls(theme, state.data, "send the masons to the bell gate")
    assert [(c["fn"], c["args"]["structure"]) for c in found] == [
        ("repair_structure", "bell_gate")
    ]
    fletchers = planner.keyword_calls(theme, state.data, "set the fletchers to work")
    assert [c["fn"] for c in fletchers] == ["craft_ammo"]


def test_send_a_scout_works_where_the_theme_lets_players_scout():
    raw = redoubt_raw()
    raw["functions"]["player_orders"].append("scout_enemy")
    theme = agents.load_theme(raw)
    state = agents.new_game(theme, 1)
    freshest = min(
        (n for n in theme.npc_ids if state.data["npcs"][n]["status"] == "active"),
        key=lambda n: state.data["npcs"][n]["fatigue"],
    )
    found = planner.keyword_calls(theme, state.data, "send a scout")
    assert [(c["fn"], c["args"]) for c in found] == [("scout_enemy", {"npc": freshest})]


def test_a_keyword_order_is_played_and_judged_like_any_other(theme):
    state = with_state(agents.new_game(theme, 1), hurt)
    outcome = agents.resolve_turn(state, {"type": "free_text", "text": "fix the wall"})
    record = outcome.record
    assert record["actor"] == "player"
    assert record["scene"]["free_text"] == {
        "text": "fix the wall",
        "by": "keywords",
        "functions": ["repair_structure"],
    }
    planned = [p for p in record["proposals"] if p["agent"] == "planner"]
    assert [(p["function"], p["verdict"]) for p in planned] == [
        ("repair_structure", "accepted")
    ]
    assert outcome.state.data["structures"]["wall"]["integrity"] > 50
    assert record["recordings"] == []


def test_an_unclear_order_proposes_nothing_and_says_so(theme):
    state = agents.new_game(theme, 1)
    outcome = agents.resolve_turn(
        state, {"type": "free_text", "text": "sing a song of the sea"}
    )
    record = outcome.record
    assert not [p for p in record["proposals"] if p["agent"] == "planner"]
    assert record["narrative"][0] == narrator.UNCLEAR_ORDER
    assert record["scene"]["free_text"]["functions"] == []


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "free_text"}, "text"),
        ({"type": "free_text", "text": "   "}, "text"),
        ({"type": "free_text", "text": 7}, "text"),
        ({"type": "free_text", "text": "x" * 301}, "text"),
        ({"type": "free_text", "text": "repair\nthe gate"}, "text"),
        ({"type": "free_text", "text": "repair\x00"}, "text"),
        ({"type": "free_text", "text": "repair", "args": {}}, "args"),
    ],
)
def test_bad_free_text_is_an_action_error(theme, action, field):
    state = agents.new_game(theme, 1)
    with pytest.raises(agents.ActionError) as info:
        agents.resolve_turn(state, action)
    assert info.value.field == field


def test_free_text_needs_a_theme_that_takes_orders():
    raw = redoubt_raw()
    raw["functions"]["player_orders"] = []
    theme = agents.load_theme(raw)
    with pytest.raises(agents.ActionError, match="no orders") as info:
        agents.resolve_turn(
            agents.new_game(theme, 1), {"type": "free_text", "text": "repair"}
        )
    assert info.value.field == "type"


def test_a_model_reads_the_order_when_one_is_configured(server, theme):
    state = with_state(agents.new_game(theme, 1), hurt)
    live = LiveVoice(server.configs("ollama", ["planner"]))
    outcome = agents.resolve_turn(
        state, {"type": "free_text", "text": "repair the wall"}, voice=live
    )
    exchange = outcome.record["recordings"][0]
    assert (exchange["agent"], exchange["outcome"]) == ("planner", "ok")
    assert exchange["request"]["view"]["order"] == "repair the wall"
    offered = {o["function"] for o in exchange["request"]["view"]["orders"]}
    assert offered == set(theme.player_orders)
    assert outcome.record["scene"]["free_text"]["by"] == "model"
    assert exchange["reply"]["calls"][0]["function"] == "repair_structure"


def test_a_model_reply_naming_a_bad_call_falls_back_to_the_keywords(server, theme):
    state = with_state(agents.new_game(theme, 1), hurt)
    server.script(
        json.dumps({"calls": [{"function": "rest_npc", "args": {"npc": "x"}}]})
    )
    live = LiveVoice(server.configs("ollama", ["planner"]))
    outcome = agents.resolve_turn(
        state, {"type": "free_text", "text": "let Cora rest"}, voice=live
    )
    exchange = outcome.record["recordings"][0]
    assert (exchange["outcome"], exchange["reason"]) == ("fallback", "schema")
    assert outcome.record["scene"]["free_text"]["by"] == "keywords"
    planned = [p for p in outcome.record["proposals"] if p["agent"] == "planner"]
    assert [(p["function"], p["args"]) for p in planned] == [
        ("rest_npc", {"npc": "cora"})
    ]


def test_model_calls_that_break_the_rules_are_rejected_by_the_judge(server, theme):
    def fallen_gate(data):
        data["structures"]["gate"].update(integrity=0, status="collapsed")

    state = with_state(agents.new_game(theme, 1), fallen_gate)
    calls = [
        {"function": "repair_structure", "args": {"structure": "gate", "amount": 10}},
        {"function": "ration_food", "args": {"level": "half"}},
        {"function": "ration_food", "args": {"level": "quarter"}},
    ]
    server.script(json.dumps({"calls": calls}))
    live = LiveVoice(server.configs("openai", ["planner"]))
    outcome = agents.resolve_turn(
        state, {"type": "free_text", "text": "do as I say"}, voice=live
    )
    assert outcome.record["recordings"][0]["outcome"] == "ok"
    planned = [p for p in outcome.record["proposals"] if p["agent"] == "planner"]
    verdicts = [
        (p["function"], p["verdict"], p["reason"].split(":")[0]) for p in planned
    ]
    assert verdicts == [
        ("repair_structure", "rejected", "precondition"),
        ("ration_food", "accepted", "ok"),
        ("ration_food", "rejected", "cooldown"),
    ]
    assert outcome.state.data["world"]["ration"] == "half"
    paths = {e["path"] for e in outcome.record["effects"]}
    assert "structures.gate.integrity" not in paths
    assert "structures.gate.status" not in paths


def test_the_planner_check_refuses_orders_the_theme_does_not_allow(theme):
    reply = {"calls": [{"function": "sortie", "args": {"npc": "ada", "troops": 10}}]}
    assert "not an order this theme allows" in schemas.planner_problem(reply, theme)
    reply = {"calls": [{"function": "archer_volley", "args": {"volleys": 2.0}}]}
    assert "must be an integer" in schemas.planner_problem(reply, theme)
    too_many = {"calls": [{"function": "ration_food", "args": {"level": "half"}}] * 4}
    assert schemas.schema_problem(schemas.planner_schema(theme), too_many)
