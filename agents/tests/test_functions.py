"""Every registered safe function: its validator passes on a fitting state and its
effect really changes that state; plus the mechanics that matter most."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import agents
from agents import judge
from agents.functions import REGISTRY, Ctx
from agents.rng import Streams


def _burn(sid: str, fire: int = 3):
    def change(d: dict[str, Any]) -> None:
        d["structures"][sid]["fire"] = fire

    return change


def _collapse(sid: str):
    def change(d: dict[str, Any]) -> None:
        d["structures"][sid].update(integrity=0, status="collapsed", fire=0)

    return change


def _npc(nid: str, **fields: Any):
    def change(d: dict[str, Any]) -> None:
        d["npcs"][nid].update(fields)

    return change


def _set(section: str, **fields: Any):
    def change(d: dict[str, Any]) -> None:
        d[section].update(fields)

    return change


def _none(d: dict[str, Any]) -> None:
    return None


# name -> (group, args, how to prepare the state so the call is valid)
CASES: dict[str, tuple[str, dict[str, Any], Any]] = {
    "archer_volley": ("player", {"volleys": 2}, _none),
    "sortie": ("player", {"npc": "ada", "troops": 20}, _none),
    "burn_engines": ("player", {"npc": "bram"}, _none),
    "pour_fuel": ("player", {"structure": "gate"}, _none),
    "man_the_walls": ("player", {"troops": 50}, _none),
    "set_ambush": ("player", {"npc": "ada"}, _none),
    "enemy_assault": ("world", {"structure": "gate", "force": 40}, _none),
    "enemy_bombard": ("world", {"structure": "wall", "force": 30}, _none),
    "enemy_raid_stores": ("world", {"stockpile": "coin", "amount": 30}, _none),
    "repair_structure": ("player", {"structure": "wall", "amount": 10}, _none),
    "reinforce_structure": ("player", {"structure": "keep"}, _none),
    "barricade": ("player", {"structure": "gate"}, _none),
    "extinguish_fire": ("player", {"structure": "tower"}, _burn("tower")),
    "rebuild_structure": ("player", {"structure": "tower"}, _collapse("tower")),
    "damage_structure": ("player", {"structure": "wall", "amount": 15}, _none),
    "ignite_structure": ("world", {"structure": "tower", "intensity": 2}, _none),
    "assign_duty": ("player", {"npc": "bram", "duty": "walls"}, _none),
    "rest_npc": ("player", {"npc": "cora"}, _none),
    "heal_npc": ("player", {"npc": "cora"}, _npc("cora", health=40, status="wounded")),
    "encourage_npc": ("player", {"npc": "bram", "amount": 10}, _none),
    "rebuke_npc": ("player", {"npc": "bram", "amount": 8}, _none),
    "reward_npc": ("player", {"npc": "bram", "amount": 20}, _none),
    "wound_npc": ("player", {"npc": "ada", "amount": 50}, _none),
    "tire_npc": ("player", {"npc": "ada", "amount": 20}, _none),
    "npc_speech": ("player", {"npc": "ada"}, _none),
    "ration_food": ("player", {"level": "half"}, _none),
    "forage": ("player", {"troops": 20}, _none),
    "buy_supplies": ("player", {"stockpile": "salves", "amount": 10}, _none),
    "spend_stock": ("player", {"stockpile": "oil", "amount": 5}, _none),
    "gain_stock": ("player", {"stockpile": "oil", "amount": 5}, _none),
    "salvage": ("player", {"structure": "wall"}, _set("structures")),
    "craft_ammo": ("player", {}, _none),
    "rally_troops": ("player", {}, _none),
    "hold_feast": ("player", {"food": 40}, _none),
    "adjust_morale": ("player", {"amount": -10}, _none),
    "hold_vigil": ("player", {}, _none),
    "recruit_townsfolk": ("player", {"count": 20}, _none),
    "change_weather": ("world", {"weather": "rain"}, _none),
    "spread_disease": ("world", {"amount": 10}, _none),
    "treat_disease": ("player", {"amount": 5}, _set("world", disease=20)),
    "strange_omen": ("player", {"amount": 10}, _none),
    "send_messenger": ("player", {"npc": "bram"}, _none),
    "parley": ("player", {"npc": "bram"}, _none),
    "scout_enemy": ("player", {"npc": "bram"}, _none),
    "set_flag": ("player", {"flag": "bell_rung", "value": 2}, _none),
    "clear_flag": ("player", {"flag": "bell_rung"}, _set("flags", bell_rung=1)),
    "start_timer": ("player", {"name": "relief", "turns": 3}, _none),
    "adjust_tension": ("player", {"amount": 10}, _none),
    "wait": ("player", {}, _none),
    "last_stand": ("player", {}, _none),
    "npc_desert": ("characters", {"npc": "bram"}, _npc("bram", loyalty=10)),
    "timer_tick": ("upkeep", {}, _set("timers", relief=1)),
    "consume_food": ("upkeep", {}, _none),
    "fire_tick": ("upkeep", {}, _burn("wall", 2)),
    "fatigue_tick": ("upkeep", {}, _none),
    "disease_tick": ("upkeep", {}, _set("world", disease=30)),
    "morale_drift": ("upkeep", {}, _collapse("tower")),
}


def _salvage_ready(d: dict[str, Any]) -> None:
    d["structures"]["wall"].update(integrity=30, status="damaged")


CASES["salvage"] = ("player", {"structure": "wall"}, _salvage_ready)


def _wall_breached(d: dict[str, Any]) -> None:
    d["structures"]["wall"].update(integrity=20, status="damaged")


def _timer(d: dict[str, Any]) -> None:
    d["timers"]["bell"] = 3


CASES.update(
    {
        "snipe_officers": ("player", {"npc": "bram"}, _none),
        "counter_battery": ("player", {}, _none),
        "lay_traps": ("player", {}, _none),
        "night_raid": ("player", {"npc": "ada", "troops": 20}, _none),
        "hold_reserve": ("player", {"troops": 50}, _none),
        "enemy_sap": ("world", {"structure": "wall", "force": 20}, _none),
        "enemy_harass": ("world", {"amount": 10}, _none),
        "fortify_all": ("player", {}, _none),
        "dig_defences": ("player", {"structure": "gate"}, _none),
        "patch_breach": ("player", {"structure": "wall"}, _wall_breached),
        "demolish_structure": ("player", {"structure": "tower"}, _none),
        "trade_goods": (
            "player",
            {"give": "coin", "get": "grain", "amount": 40},
            _none,
        ),
        "levy_tax": ("player", {}, _none),
        "guard_stores": ("player", {}, _none),
        "sell_stock": ("player", {"stockpile": "bolts", "amount": 50}, _none),
        "smuggle_supplies": ("player", {}, _none),
        "requisition": ("player", {"stockpile": "grain"}, _none),
        "tell_stories": ("player", {}, _none),
        "honour_the_fallen": ("player", {}, _npc("bram", status="dead", health=0)),
        "share_wealth": ("player", {"amount": 30}, _none),
        "raise_banner": ("player", {}, _none),
        "flood": ("events", {"structure": "gate", "amount": 20}, _burn("gate")),
        "earth_tremor": ("events", {"amount": 10}, _none),
        "heatwave": ("events", {"amount": 10}, _none),
        "cold_snap": ("events", {"amount": 20}, _none),
        "purify_water": ("player", {}, _set("world", disease=20)),
        "quarantine_sick": ("player", {}, _set("world", disease=20)),
        "offer_terms": ("player", {"npc": "bram"}, _none),
        "exchange_prisoners": ("player", {}, _none),
        "bribe_captain": ("player", {"amount": 60}, _none),
        "sow_dissent": ("player", {"npc": "bram"}, _none),
        "request_aid": ("player", {}, _none),
        "call_truce": ("player", {"npc": "ada"}, _set("enemy", morale=50)),
        "forge_weapons": ("player", {}, _none),
        "brew_remedy": ("player", {}, _none),
        "build_engine": ("player", {}, _none),
        "craft_barricade_kits": ("player", {}, _none),
        "distill_fuel": ("player", {}, _none),
        "anomaly_surge": ("events", {"amount": 10}, _none),
        "eclipse": ("events", {}, _none),
        "ghost_sighting": ("events", {"amount": 10}, _none),
        "relic_power": ("events", {}, _npc("cora", health=50, status="wounded")),
        "uncanny_windfall": ("events", {"stockpile": "salves", "amount": 20}, _none),
        "relief_column": ("events", {}, _set("flags", relief_called=1)),
        "final_assault": ("world", {"force": 40}, _none),
        "evacuate_civilians": ("events", {}, _none),
        "burn_the_stores": ("events", {}, _none),
        "hold_the_line": ("player", {}, _none),
        "fall_back_to_keep": ("player", {}, _none),
        "add_flag": ("events", {"flag": "bell", "amount": 2}, _none),
        "cancel_timer": ("events", {"name": "bell"}, _timer),
        "extend_timer": ("events", {"name": "bell", "turns": 2}, _timer),
    }
)


# Fates and world hazards (engineer K: agents/functions/fates.py, hazards.py).
def _ada_captured(d: dict[str, Any]) -> None:
    d["npcs"]["ada"]["status"] = "captured"
    d["npcs"]["ada"]["captive_turns"] = 0


def _storm(d: dict[str, Any]) -> None:
    d["world"]["weather"] = "storm"
    d["structures"]["wall"].update(integrity=20, status="damaged")


def _famine(d: dict[str, Any]) -> None:
    d["world"]["hunger"] = 60


def _sickness(d: dict[str, Any]) -> None:
    d["world"]["disease"] = 30


CASES.update(
    {
        "capture_npc": ("world", {"npc": "ada"}, _none),
        "ransom_npc": ("player", {"npc": "ada"}, _ada_captured),
        "rescue_npc": ("player", {"npc": "ada", "troops": 20}, _ada_captured),
        "exchange_captive": ("player", {"npc": "ada"}, _ada_captured),
        "captivity_tick": ("upkeep", {}, _ada_captured),
        "storm_tick": ("upkeep", {}, _storm),
        "hunger_tick": ("upkeep", {}, _famine),
        "contagion_tick": ("upkeep", {}, _sickness),
    }
)


def test_every_registered_function_has_a_case():
    assert sorted(CASES) == sorted(REGISTRY)


@pytest.fixture
def theme(raw):
    """The test theme with nothing disabled, so every function can be tried."""
    raw["functions"]["disabled"] = []
    return agents.load_theme(raw)


def run_call(theme, name: str, seed: int = 3):
    group, args, prepare = CASES[name]
    data = copy.deepcopy(agents.new_game(theme, seed).data)
    data["turn"] = 1
    prepare(data)
    before = copy.deepcopy(data)
    proposal = {"agent": "test", "group": group, "function": name, "args": args}
    reason = judge.rule(data, theme, proposal, judge.Ledger(), 1)
    assert reason == "ok", f"{name}: {reason}"
    assert data == before, f"{name}'s validator changed the state"
    ctx = Ctx(data, theme, Streams(seed, 1))
    REGISTRY[name].effect(ctx, args)
    return before, data, ctx


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_function_validates_and_its_effect_changes_the_state(theme, name):
    before, after, ctx = run_call(theme, name)
    if name == "wait":
        assert after == before
        return
    assert after != before or ctx.notes, f"{name} had no effect"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_function_has_a_description_category_and_limits(name):
    fn = REGISTRY[name]
    assert fn.description and fn.category
    assert fn.gas >= 0 and fn.cooldown >= 0 and fn.per_turn >= 1
    entry = fn.catalogue_entry()
    assert entry["name"] == name


def test_repair_spends_materials_one_per_two_points(theme):
    before, after, _ = run_call(theme, "repair_structure")
    assert (
        after["structures"]["wall"]["integrity"]
        == before["structures"]["wall"]["integrity"] + 10
    )
    assert after["stockpiles"]["timber"] == before["stockpiles"]["timber"] - 5


def test_a_guarded_structure_takes_less_from_an_assault(theme):
    _, open_gate, _ = run_call(theme, "enemy_assault", seed=4)
    data = copy.deepcopy(agents.new_game(theme, 4).data)
    data["turn"] = 1
    ctx = Ctx(data, theme, Streams(4, 1))
    REGISTRY["barricade"].effect(ctx, {"structure": "gate"})
    REGISTRY["pour_fuel"].effect(ctx, {"structure": "gate"})
    REGISTRY["enemy_assault"].effect(ctx, {"structure": "gate", "force": 40})
    assert (
        data["structures"]["gate"]["integrity"]
        > open_gate["structures"]["gate"]["integrity"]
    )
    assert data["enemy"]["strength"] < open_gate["enemy"]["strength"]


def test_healing_returns_a_wounded_npc_to_duty(theme):
    _, after, _ = run_call(theme, "heal_npc")
    assert after["npcs"]["cora"]["health"] == 70
    assert after["npcs"]["cora"]["status"] == "active"
    assert after["stockpiles"]["salves"] == 30


def test_a_wound_to_zero_health_kills(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    ctx = Ctx(data, theme, Streams(1, 1))
    REGISTRY["wound_npc"].effect(ctx, {"npc": "ada", "amount": 70})
    assert data["npcs"]["ada"]["status"] == "wounded"
    REGISTRY["wound_npc"].effect(ctx, {"npc": "ada", "amount": 80})
    assert data["npcs"]["ada"]["status"] == "dead"
    assert data["npcs"]["ada"]["health"] == 0
    reason = judge.rule(
        data,
        theme,
        {
            "agent": "t",
            "group": "player",
            "function": "heal_npc",
            "args": {"npc": "ada"},
        },
        judge.Ledger(),
        1,
    )
    assert reason == "precondition: Ada Thorn is dead"


def test_a_timer_running_out_sets_its_done_flag(theme):
    _, after, _ = run_call(theme, "timer_tick")
    assert "relief" not in after["timers"]
    assert after["flags"]["relief_done"] == 1


def test_a_messenger_is_away_and_then_returns_or_is_lost(theme):
    _, data, ctx = run_call(theme, "send_messenger")
    assert data["npcs"]["bram"]["away"] == 4
    absent = judge.rule(
        data,
        theme,
        {
            "agent": "t",
            "group": "player",
            "function": "rest_npc",
            "args": {"npc": "bram"},
        },
        judge.Ledger(),
        1,
    )
    assert absent == "precondition: Bram Coil is away from the walls"
    for turn in range(2, 6):
        REGISTRY["timer_tick"].effect(Ctx(data, theme, Streams(3, turn)), {})
    assert data["npcs"]["bram"]["away"] == 0
    returned = data["npcs"]["bram"]["status"] != "dead"
    assert returned or data["flags"].get("relief_called") is None


def test_a_deserter_is_gone_for_good(theme):
    _, after, _ = run_call(theme, "npc_desert")
    assert after["npcs"]["bram"]["status"] == "deserted"
    # Bram is greedy: he takes coin with him.
    assert after["stockpiles"]["coin"] < 120


def test_fire_burns_its_structure_each_tick(theme):
    before, after, _ = run_call(theme, "fire_tick")
    assert (
        after["structures"]["wall"]["integrity"]
        < before["structures"]["wall"]["integrity"]
    )


def test_no_food_means_hunger(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["stockpiles"]["grain"] = 0
    REGISTRY["consume_food"].effect(Ctx(data, theme, Streams(1, 1)), {})
    assert data["world"]["hunger"] == 15


def test_rebuilding_stands_a_collapsed_structure_at_a_third(theme):
    _, after, _ = run_call(theme, "rebuild_structure")
    tower = after["structures"]["tower"]
    assert tower["integrity"] == 20 and tower["status"] == "damaged"
    assert after["stockpiles"]["timber"] == 40


def test_stockpiles_and_metrics_stay_in_range(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    ctx = Ctx(data, theme, Streams(1, 1))
    REGISTRY["gain_stock"].effect(ctx, {"stockpile": "oil", "amount": 200})
    REGISTRY["spend_stock"].effect(ctx, {"stockpile": "grain", "amount": 200})
    REGISTRY["spend_stock"].effect(ctx, {"stockpile": "grain", "amount": 200})
    REGISTRY["adjust_morale"].effect(ctx, {"amount": 30})
    REGISTRY["adjust_morale"].effect(ctx, {"amount": 30})
    assert data["stockpiles"]["oil"] == 100
    assert data["stockpiles"]["grain"] == 0
    assert data["metrics"]["morale"] == 100


def _verdict(theme, data, name, args, group="player", ledger=None):
    proposal = {"agent": "test", "group": group, "function": name, "args": args}
    before = copy.deepcopy(data)
    reason = judge.rule(data, theme, proposal, ledger or judge.Ledger(), 1)
    assert data == before, "the Judge changed the state"
    return reason


def _state(theme, *prepare):
    data = copy.deepcopy(agents.new_game(theme, 5).data)
    data["turn"] = 1
    for change in prepare:
        change(data)
    return data


@pytest.mark.parametrize(
    ("name", "args", "prepare", "expected"),
    [
        ("summon_dragon", {}, (), "unknown function: summon_dragon"),
        ("night_raid", {"npc": "ada"}, (), "bad args: args.troops: night_raid needs"),
        ("night_raid", {"npc": "ada", "troops": 99}, (), "between 5 and 30"),
        ("night_raid", {"npc": "ada", "troops": "9"}, (), "must be an integer"),
        ("snipe_officers", {"npc": "zed"}, (), 'unknown npc "zed"'),
        ("dig_defences", {"structure": "moat"}, (), 'unknown structure "moat"'),
        ("heatwave", {"amount": 5, "extra": 1}, (), "takes no argument"),
        (
            "snipe_officers",
            {"npc": "bram"},
            (_npc("bram", status="dead", health=0),),
            "precondition: Bram",
        ),
        (
            "offer_terms",
            {"npc": "ada"},
            (_npc("ada", away=2),),
            "is away from the walls",
        ),
        (
            "sow_dissent",
            {"npc": "bram"},
            (_npc("bram", status="captured"),),
            "is captured",
        ),
        (
            "dig_defences",
            {"structure": "wall"},
            (_collapse("wall"),),
            "has collapsed",
        ),
        ("fortify_all", {}, (_set("stockpiles", timber=0),), "not enough Timber"),
        ("relief_column", {}, (), "no relief has been called"),
        ("cancel_timer", {"name": "bell"}, (), 'no timer "bell" is running'),
    ],
)
def test_the_judge_names_the_reason_for_each_kind_of_refusal(
    theme, name, args, prepare, expected
):
    reason = _verdict(theme, _state(theme, *prepare), name, args)
    assert expected in reason, reason


def test_the_judge_refuses_once_the_turns_gas_is_spent(theme):
    ledger = judge.Ledger(gas_used=theme.gas_per_turn - 1)
    reason = _verdict(theme, _state(theme), "build_engine", {}, ledger=ledger)
    assert reason.startswith("gas budget: needs 3, 1 left")


def test_the_judge_refuses_a_function_past_its_limit_this_turn(theme):
    ledger = judge.Ledger(calls={"build_engine": 1})
    reason = _verdict(theme, _state(theme), "build_engine", {}, ledger=ledger)
    assert reason == "per-turn limit: build_engine may run 1 time(s) a turn"


def test_the_judge_refuses_a_function_on_cooldown(theme):
    data = _state(theme, _set("cooldowns", build_engine=3))
    assert _verdict(theme, data, "build_engine", {}) == (
        "cooldown: available again at turn 3"
    )


def test_the_judge_refuses_a_function_the_theme_disables(raw):
    raw["functions"]["disabled"] = ["eclipse"]
    theme = agents.load_theme(raw)
    reason = _verdict(theme, _state(theme), "eclipse", {}, group="events")
    assert reason == "not allowed: eclipse is disabled in this theme"


def test_a_once_a_game_finale_is_refused_the_second_time(theme):
    before, after, _ = run_call(theme, "evacuate_civilians")
    reason = _verdict(theme, after, "evacuate_civilians", {}, group="events")
    assert reason == "precondition: the evacuation has already happened this game"
