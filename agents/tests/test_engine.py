"""The public engine interface: determinism, replay, immutability and bad actions."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import agents
from agents import ActionError, events
from agents.rng import Stream

from .conftest import FIXTURE, play, with_state

ROOT = Path(__file__).resolve().parents[2]


def random_choices(seed: int, count: int = 40) -> list[int]:
    roll = Stream(seed, 0, "test-policy")
    return [roll.below(3) for _ in range(count)]


def test_same_seed_and_actions_give_identical_hashes(theme):
    choices = random_choices(5)
    first = [o.record["chain_hash"] for o in play(theme, 99, choices)]
    second = [o.record["chain_hash"] for o in play(theme, 99, choices)]
    assert first == second
    assert len(first) > 3


def test_different_seeds_give_different_games(theme):
    a = agents.new_game(theme, 1)
    b = agents.new_game(theme, 2)
    outcomes_a = play(theme, 1, [0, 0, 0])
    outcomes_b = play(theme, 2, [0, 0, 0])
    assert a.hash != b.hash
    assert [o.record["state_hash"] for o in outcomes_a] != [
        o.record["state_hash"] for o in outcomes_b
    ]


SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
import agents
theme = agents.load_theme(json.load(open({fixture!r})))
state = agents.new_game(theme, 1234)
hashes = [state.hash]
for option in [0, 2, 1, 1, 0, 2, 2, 0, 1, 0]:
    if state.ended:
        break
    outcome = agents.resolve_turn(state, {{"type": "choose", "option": option}})
    state = outcome.state
    hashes.append(outcome.record["chain_hash"])
print(json.dumps(hashes))
"""


def test_hashes_match_across_processes_with_different_hash_seeds():
    script = SCRIPT.format(root=str(ROOT), fixture=str(FIXTURE))
    results = []
    for hash_seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        out = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        results.append(json.loads(out.stdout))
    assert results[0] == results[1]
    assert len(results[0]) > 5


def test_resolve_turn_does_not_mutate_its_input(theme):
    state = agents.new_game(theme, 8)
    for option in (1, 2, 0):
        before = copy.deepcopy(state.data)
        before_hash = state.hash
        outcome = agents.resolve_turn(state, {"type": "choose", "option": option})
        assert state.data == before
        assert agents.state_hash(state.data) == before_hash
        state = outcome.state


def test_the_first_chain_hash_links_to_the_initial_state_hash(theme):
    state = agents.new_game(theme, 3)
    action = {"type": "choose", "option": 0}
    outcome = agents.resolve_turn(state, action)
    record = outcome.record
    assert record["state_hash"] == agents.state_hash(outcome.state.data)
    assert record["chain_hash"] == agents.chain_hash(
        state.hash, action, record["state_hash"]
    )
    assert outcome.state.chain == record["chain_hash"]


def test_a_restored_state_continues_the_same_chain(theme):
    outcomes = play(theme, 21, [0, 1, 2, 0])
    stored = json.loads(json.dumps(outcomes[1].state.data))
    restored = agents.restore(theme, stored)
    assert restored.chain == outcomes[1].record["chain_hash"]
    again = agents.resolve_turn(restored, {"type": "choose", "option": 2})
    assert again.record["chain_hash"] == outcomes[2].record["chain_hash"]


def test_restore_refuses_another_themes_state(theme, raw):
    raw["version"] = "9.9.9"
    other = agents.load_theme(raw)
    state = agents.new_game(theme, 1)
    with pytest.raises(ValueError):
        agents.restore(other, state.data)


def test_replay_reproduces_the_played_hashes(theme):
    choices = random_choices(77)
    outcomes = play(theme, 4242, choices)
    actions = [o.record["action"] for o in outcomes]
    hashes = agents.replay(theme, 4242, actions)
    assert hashes == [
        {
            "turn": o.record["turn"],
            "state_hash": o.record["state_hash"],
            "chain_hash": o.record["chain_hash"],
        }
        for o in outcomes
    ]


def test_replay_names_the_turn_of_an_invalid_action(theme):
    actions = [{"type": "choose", "option": 0}, {"type": "choose", "option": 7}]
    with pytest.raises(ActionError) as info:
        agents.replay(theme, 1, actions)
    assert info.value.turn == 2
    assert info.value.field == "option"


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "choose", "option": 3}, "option"),
        ({"type": "choose", "option": -1}, "option"),
        ({"type": "choose", "option": "1"}, "option"),
        ({"type": "choose", "option": True}, "option"),
        ({"type": "choose"}, "option"),
        ({"type": "dance"}, "type"),
        ({"option": 1}, "type"),
        ({"type": "gm_event", "event": "x"}, "event"),
        ({"type": "gm_event", "function": "fire_tick"}, "function"),
        (
            {"type": "gm_event", "function": "strange_omen", "args": {"amount": 3}},
            "function",
        ),
        ({"type": "gm_event", "function": "wait", "text": 5}, "text"),
        ({"type": "free_text", "text": ""}, "text"),
        ({"type": "choose", "option": 0, "extra": 1}, "extra"),
        ({"type": "order", "function": "sortie", "args": {}}, "function"),
        ({"type": "order", "function": "no_such_thing"}, "function"),
        (
            {
                "type": "order",
                "function": "repair_structure",
                "args": {"structure": "gate"},
            },
            "args.amount",
        ),
        (
            {
                "type": "order",
                "function": "repair_structure",
                "args": {"structure": "moon", "amount": 10},
            },
            "args.structure",
        ),
        (
            {
                "type": "order",
                "function": "repair_structure",
                "args": {"structure": "gate", "amount": 99},
            },
            "args.amount",
        ),
        (
            {
                "type": "order",
                "function": "repair_structure",
                "args": {"structure": "gate", "amount": 10, "speed": 2},
            },
            "args.speed",
        ),
        ({"type": "order", "function": "rest_npc", "args": "ada"}, "args"),
        ("choose 1", "action"),
    ],
)
def test_bad_actions_raise_action_error_naming_the_field(theme, action, field):
    state = agents.new_game(theme, 5)
    before = copy.deepcopy(state.data)
    with pytest.raises(ActionError) as info:
        agents.resolve_turn(state, action)
    assert info.value.field == field
    assert info.value.message
    assert state.data == before


def test_an_order_the_judge_would_refuse_is_an_action_error(theme):
    state = agents.new_game(theme, 5)
    broke = with_state(state, lambda d: d["stockpiles"].update(timber=0))
    order = {
        "type": "order",
        "function": "repair_structure",
        "args": {"structure": "gate", "amount": 10},
    }
    with pytest.raises(ActionError) as info:
        agents.resolve_turn(broke, order)
    assert "not enough Timber" in info.value.message
    assert info.value.field == "args.structure"


def test_a_valid_order_takes_the_turn_and_a_new_scene_follows(theme):
    state = agents.new_game(theme, 5)
    order = {
        "type": "order",
        "function": "repair_structure",
        "args": {"structure": "wall", "amount": 10},
    }
    outcome = agents.resolve_turn(state, order)
    first = outcome.record["proposals"][0]
    assert first == {
        "agent": "planner",
        "function": "repair_structure",
        "args": {"structure": "wall", "amount": 10},
        "verdict": "accepted",
        "reason": "ok",
    }
    assert outcome.state.data["stockpiles"]["timber"] == 95
    assert outcome.record["scene"]["option"] is None
    assert outcome.state.data["scene"]["id"] == outcome.record["next_scene"]["id"]


def test_an_order_on_cooldown_is_refused_with_the_turn_it_returns(theme):
    state = agents.new_game(theme, 5)
    order = {"type": "order", "function": "ration_food", "args": {"level": "half"}}
    state = agents.resolve_turn(state, order).state
    again = {"type": "order", "function": "ration_food", "args": {"level": "full"}}
    with pytest.raises(ActionError) as info:
        agents.resolve_turn(state, again)
    assert info.value.message == "cooldown: available again at turn 3"


def test_an_ended_game_refuses_every_action(theme):
    state = agents.new_game(theme, 5)
    while not state.ended:
        state = agents.resolve_turn(state, {"type": "choose", "option": 2}).state
    with pytest.raises(ActionError) as info:
        agents.resolve_turn(state, {"type": "choose", "option": 0})
    assert info.value.field == "action"


@pytest.mark.parametrize("seed", range(30))
def test_a_random_policy_game_always_ends_by_the_turn_limit(theme, seed):
    state = agents.new_game(theme, seed)
    roll = Stream(seed, 0, "policy")
    turns = 0
    while not state.ended:
        if roll.chance(20):
            order = {"type": "order", "function": "rest_npc", "args": {"npc": "ada"}}
            try:
                agents.check_action(state, order)
                state = agents.resolve_turn(state, order).state
                turns += 1
                continue
            except ActionError:
                pass
        action = {"type": "choose", "option": roll.below(3)}
        state = agents.resolve_turn(state, action).state
        turns += 1
        assert turns <= theme.data["turn_limit"]
    ending = state.data["ending"]
    assert ending["id"] in {e["id"] for e in theme.data["endings"]}
    assert state.data["scene"] is None


def test_an_ending_carries_every_npcs_fate(theme):
    outcomes = play(theme, 12, [1] * 20)
    ending = outcomes[-1].record["ending"]
    assert ending is not None
    assert outcomes[-1].state.data["status"] == "ended"
    assert [e["npc"] for e in ending["epilogue"]] == ["ada", "bram", "cora"]
    for entry in ending["epilogue"]:
        assert entry["fate"] in ("alive", "wounded", "dead", "deserted")
        assert entry["line"] and "{" not in entry["line"]


def test_new_game_refuses_a_seed_that_is_not_an_integer(theme):
    with pytest.raises(ActionError) as info:
        agents.new_game(theme, "42")  # type: ignore[arg-type]
    assert info.value.field == "seed"
    with pytest.raises(ActionError):
        agents.new_game(theme, 1 << 70)


def test_the_turn_record_has_every_contract_field(theme):
    outcome = play(theme, 6, [0])[0]
    record = outcome.record
    assert set(record) >= {
        "turn", "actor", "action", "scene", "proposals", "effects", "narrative",
        "dialogue", "atmosphere", "director", "next_scene", "ending", "metrics",
        "timings_us", "recordings", "state_hash", "chain_hash",
    }  # fmt: skip
    assert record["turn"] == 1
    assert record["actor"] == "player"
    assert set(record["timings_us"]) == {
        "planner", "characters", "world", "judge", "rules", "endings",
        "director", "events", "narrator",
    }  # fmt: skip
    metrics = record["metrics"]
    assert {
        "morale",
        "garrison",
        "grain",
        "structures",
        "enemy_strength",
        "tension",
    } <= set(metrics)
    assert set(record["atmosphere"]) >= {"mood", "sights", "sounds"}
    for effect in record["effects"]:
        assert set(effect) == {"path", "from", "to"}
        assert effect["from"] != effect["to"]
    assert record["narrative"] and all(isinstance(p, str) for p in record["narrative"])


def test_effects_list_exactly_what_changed_between_states(theme):
    state = agents.new_game(theme, 31)
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 1})
    for effect in outcome.record["effects"]:
        section, *rest = effect["path"].split(".")
        old = state.data[section]
        new = outcome.state.data[section]
        for key in rest:
            old = old.get(key) if isinstance(old, dict) else None
            new = new.get(key) if isinstance(new, dict) else None
        assert (old, new) == (effect["from"], effect["to"])


def test_recordings_are_replayed_and_kept_in_the_record(theme):
    state = agents.new_game(theme, 2)
    action = {"type": "choose", "option": 0}
    played = agents.resolve_turn(state, action, voice=agents.llm.LiveVoice({}))
    recordings = played.record["recordings"]
    assert [e["agent"] for e in recordings] == ["characters", "events", "narrator"]
    outcome = agents.resolve_turn(state, action, recordings)
    assert outcome.record["recordings"] == recordings


def test_recordings_that_do_not_fit_the_turn_are_refused(theme):
    state = agents.new_game(theme, 2)
    recordings = [{"agent": "narrator", "reply": "…"}]
    with pytest.raises(agents.RecordingError):
        agents.resolve_turn(state, {"type": "choose", "option": 0}, recordings)


def test_view_projects_names_ranges_and_the_pending_scene(theme):
    state = agents.new_game(theme, 10)
    view = agents.view(state)
    assert view["theme"] == {
        "slug": "redoubt",
        "version": "0.1.0",
        "title": "The Thornwick Redoubt",
    }
    assert view["turn"] == 0 and view["status"] == "active" and view["ending"] is None
    assert {
        "id": "morale",
        "name": "Morale",
        "value": 60,
        "min": 0,
        "max": 100,
    } in view["metrics"]
    assert {"id": "grain", "name": "Grain", "value": 150, "max": 400} in view[
        "stockpiles"
    ]
    gate = next(s for s in view["structures"] if s["id"] == "gate")
    assert gate["name"] == "Thorn Gate" and gate["status"] == "standing"
    assert gate["on_fire"] is False
    ada = next(n for n in view["npcs"] if n["id"] == "ada")
    assert ada["traits"] == ["brave", "loyal"] and ada["role"] == "Castellan"
    assert view["enemy"]["name"] == "The Grey Company"
    assert set(view["director"]) == {"tension", "phase", "threat_budget"}
    scene = view["scene"]
    assert len(scene["options"]) == 3
    assert [o["index"] for o in scene["options"]] == [0, 1, 2]
    for option in scene["options"]:
        assert set(option) >= {"index", "label", "text", "costs", "risk", "hint"}
        assert "{" not in option["text"]
    names = [o["function"] for o in view["orders"]]
    assert names == theme.data["functions"]["player_orders"]
    repair = view["orders"][0]
    assert repair["args"] == {
        "structure": {"type": "structure"},
        "amount": {"type": "int", "min": 5, "max": 40},
    }
    json.dumps(view)


def test_view_of_an_ended_game_has_no_scene_or_orders(theme):
    state = agents.new_game(theme, 5)
    while not state.ended:
        state = agents.resolve_turn(state, {"type": "choose", "option": 0}).state
    view = agents.view(state)
    assert view["scene"] is None and view["orders"] == []
    assert view["ending"]["kind"] in ("victory", "defeat")
    assert set(view["ending"]) >= {"id", "title", "kind", "text", "epilogue"}


def test_option_costs_are_computed_from_the_plan(theme):
    state = agents.new_game(theme, 1)
    data = copy.deepcopy(state.data)
    from agents import events

    data["scene"] = events.present(
        theme, data, "assault_on_gate", agents.rng.Streams(1, 0)
    )
    costs = [o["costs"] for o in data["scene"]["options"]]
    assert costs == [[{"id": "oil", "name": "Oil", "amount": 10}], [], []]
    data["scene"] = events.present(theme, data, "first_light", agents.rng.Streams(1, 0))
    costs = [o["costs"] for o in data["scene"]["options"]]
    assert costs[1] == [{"id": "timber", "name": "Timber", "amount": 5}]
    assert costs[2] == [{"id": "bolts", "name": "Bolts", "amount": 40}]


def test_a_game_master_event_is_a_recorded_turn_outside_the_order_list(theme):
    state = agents.new_game(theme, 5)
    event = {
        "type": "gm_event",
        "function": "spread_disease",
        "args": {"amount": 10},
        "text": "A fever comes up the river.",
    }
    outcome = agents.resolve_turn(state, event)
    assert outcome.record["actor"] == "gm"
    assert outcome.record["narrative"][0] == "A fever comes up the river."
    assert outcome.record["proposals"][0] == {
        "agent": "gm",
        "function": "spread_disease",
        "args": {"amount": 10},
        "verdict": "accepted",
        "reason": "ok",
    }
    assert outcome.state.data["world"]["disease"] >= 6
    assert (
        agents.replay(theme, 5, [event])[0]["chain_hash"]
        == outcome.record["chain_hash"]
    )


def test_a_game_master_may_set_the_next_scene_and_nothing_else(theme):
    state = agents.new_game(theme, 5)
    chosen = sorted(theme.scenes)[-1]
    event = {"type": "gm_event", "scene": chosen, "text": "Riders on the ridge."}

    outcome = agents.resolve_turn(state, event)

    assert outcome.record["actor"] == "gm"
    assert not [p for p in outcome.record["proposals"] if p["agent"] == "gm"]
    assert outcome.state.data["scene"]["id"] == chosen
    assert outcome.record["next_scene"]["id"] == chosen
    assert outcome.record["narrative"][0] == "Riders on the ridge."
    assert (
        agents.replay(theme, 5, [event])[0]["chain_hash"]
        == (outcome.record["chain_hash"])
    )


def test_setting_the_scene_shifts_no_stream_of_later_turns(theme):
    state = agents.new_game(theme, 5)
    plain = agents.resolve_turn(state, {"type": "choose", "option": 0})
    chosen = plain.state.data["scene"]["id"]
    forced = agents.resolve_turn(
        state, {"type": "gm_event", "scene": chosen, "function": "wait"}
    )
    # Forcing the scene the Director drew anyway leaves its text the same.
    assert forced.state.data["scene"] == plain.state.data["scene"]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "gm_event", "scene": "no_such_scene"}, "scene"),
        ({"type": "gm_event", "scene": 3}, "scene"),
        ({"type": "gm_event"}, "function"),
        ({"type": "gm_event", "text": "only words"}, "function"),
        ({"type": "gm_event", "scene": None}, "scene"),
    ],
)
def test_a_bad_game_master_scene_is_refused(theme, event, field):
    state = agents.new_game(theme, 5)
    with pytest.raises(ActionError) as caught:
        agents.resolve_turn(state, event)
    assert caught.value.field == field


def test_args_without_a_function_are_refused(theme):
    state = agents.new_game(theme, 5)
    scene = sorted(theme.scenes)[0]
    with pytest.raises(ActionError) as caught:
        agents.resolve_turn(state, {"type": "gm_event", "scene": scene, "args": {}})
    assert caught.value.field == "args"


def test_an_order_is_told_by_its_effects_not_by_its_description(theme):
    state = agents.new_game(theme, 5)
    order = {"type": "order", "function": "barricade", "args": {"structure": "gate"}}
    outcome = agents.resolve_turn(state, order)
    narrative = outcome.record["narrative"]
    # The fixture theme has order templates: the first paragraph is one.
    assert narrative[0].startswith("Orders go out: ")
    assert "Barricades go up at Thorn Gate." in narrative


def test_without_order_templates_an_order_has_no_meta_opening(raw):
    del raw["narrative"]["order"]
    theme = agents.load_theme(raw)
    order = {"type": "order", "function": "barricade", "args": {"structure": "gate"}}
    outcome = agents.resolve_turn(agents.new_game(theme, 5), order)
    narrative = outcome.record["narrative"]
    assert narrative[0] == "Barricades go up at Thorn Gate."
    assert not any("Spends" in paragraph for paragraph in narrative)


def test_a_stock_loss_in_a_plan_is_shown_as_the_option_cost(theme):
    plan = [
        {"fn": "spend_stock", "args": {"stockpile": "timber", "amount": 25}},
        {"fn": "set_flag", "args": {"flag": "countermined", "value": 1}},
    ]

    costs = events.option_costs(theme, plan)

    assert costs == [{"id": "timber", "name": "Timber", "amount": 25}]
