"""Deeper agent behaviour: pacing, temperaments, captivity, tactics, hazards, text."""

from __future__ import annotations

import copy

import pytest

import agents
from agents import characters, director, endings, judge, world
from agents.functions import REGISTRY, Ctx
from agents.rng import Stream, Streams
from agents.theme import builtin_theme_data
from agents.view import view


def fresh(theme, seed: int = 1) -> dict:
    return copy.deepcopy(agents.new_game(theme, seed).data)


def rhythm(theme, profile: str, seed: int = 1, turns: int = 30) -> list[str]:
    data = fresh(theme, seed)
    data["turn_limit"] = 40
    data["director"]["profile"] = profile
    out = []
    for turn in range(1, turns + 1):
        data["turn"] = turn
        director.advance(theme, data, Stream(seed, turn, "director"))
        out.append(data["director"]["phase"])
    return out


def runs(phases: list[str], phase: str) -> list[int]:
    lengths, count = [], 0
    for item in phases + ["end"]:
        if item == phase:
            count += 1
        elif count:
            lengths.append(count)
            count = 0
    return lengths


# --- Director ---------------------------------------------------------------


def test_steady_builds_up_longer_than_relentless(theme):
    steady = runs(rhythm(theme, "steady"), "buildup")
    relentless = runs(rhythm(theme, "relentless"), "buildup")
    assert max(steady) > max(relentless)


def test_relentless_relief_is_a_single_turn(theme):
    assert set(runs(rhythm(theme, "relentless"), "relax")) == {1}
    assert max(runs(rhythm(theme, "steady"), "relax")) >= 2


def test_chaotic_phase_lengths_vary_with_the_seed(theme):
    lengths = set()
    for seed in range(8):
        phases = rhythm(theme, "chaotic", seed)
        lengths |= set(runs(phases, "peak")) | set(runs(phases, "relax"))
    assert len(lengths) >= 3


@pytest.mark.parametrize("slug", ["lornhaven", None])
def test_profiles_change_rhythm_not_the_threat_over_a_game(theme, slug):
    if slug:
        theme = agents.load_theme(builtin_theme_data()[slug])
    totals = {}
    for profile in director.PROFILES:
        total = 0
        for seed in range(20):
            data = fresh(theme, seed)
            data["director"]["profile"] = profile
            for turn in range(1, data["turn_limit"] + 1):
                data["turn"] = turn
                director.advance(theme, data, Stream(seed, turn, "director"))
                total += data["director"]["threat_budget"]
        totals[profile] = total
    low, high = min(totals.values()), max(totals.values())
    assert high * 100 <= low * 115, totals


def test_a_hard_blow_cuts_a_peak_short_and_trims_the_threat(theme):
    data = fresh(theme)
    data["director"].update(phase="peak", phase_turns=0, span=3, tension=60)
    data["turn"] = 5
    director.advance(theme, data, Stream(1, 5, "director"))
    assert data["director"]["phase"] == "peak"
    calm_budget = data["director"]["threat_budget"]

    hit = copy.deepcopy(data)
    hit["metrics"]["garrison"] -= 40
    hit["turn"] = 6
    director.advance(theme, hit, Stream(1, 6, "director"))
    assert hit["director"]["strain"] >= director.BREAKING_STRAIN
    assert hit["director"]["phase"] == "relax"
    assert hit["director"]["threat_budget"] < calm_budget + 2


def test_neglect_raises_the_threat_budget(theme):
    calm = fresh(theme)
    neglected = copy.deepcopy(calm)
    for sid in ("tower", "wall"):
        neglected["structures"][sid].update(integrity=0, status="collapsed")
    neglected["structures"]["gate"]["fire"] = 3
    neglected["world"]["hunger"] = 40
    for data in (calm, neglected):
        data["turn"] = 2
        director.advance(theme, data, Stream(1, 2, "director"))
    assert neglected["director"]["pressure"] > calm["director"]["pressure"]
    assert neglected["director"]["threat_budget"] > calm["director"]["threat_budget"]


def test_the_threat_budget_grows_with_the_turn(theme):
    early = fresh(theme)
    late = copy.deepcopy(early)
    early["turn"], late["turn"] = 1, 10
    for data in (early, late):
        data["director"].update(phase="buildup", tension=20, phase_turns=0, span=9)
        director.advance(theme, data, Stream(1, 1, "director"))
    assert late["director"]["threat_budget"] > early["director"]["threat_budget"]


# --- Characters ---------------------------------------------------------------


def wishes(theme, data, seeds=range(40)) -> set[tuple[str, str]]:
    found = set()
    for seed in seeds:
        proposals, _, _ = characters.react(theme, data, Streams(seed, 1))
        found |= {(p["agent"], p["function"]) for p in proposals}
    return found


def test_the_brave_volunteer_to_lead_a_sortie_at_the_peak(theme):
    data = fresh(theme)
    data["director"]["phase"] = "peak"
    assert ("npc:ada", "sortie") in wishes(theme, data)
    data["director"]["phase"] = "buildup"
    assert ("npc:ada", "sortie") not in wishes(theme, data)


def test_a_doubting_or_exhausted_brave_npc_does_not_volunteer(theme):
    data = fresh(theme)
    data["director"]["phase"] = "peak"
    data["npcs"]["ada"]["loyalty"] = 35
    assert ("npc:ada", "sortie") not in wishes(theme, data)
    data["npcs"]["ada"].update(loyalty=80, fatigue=65)
    assert ("npc:ada", "sortie") not in wishes(theme, data)


def test_the_greedy_ask_for_a_reward_and_the_cunning_scout(theme):
    data = fresh(theme)
    data["director"]["phase"] = "buildup"
    found = wishes(theme, data)
    assert ("npc:bram", "reward_npc") in found
    assert ("npc:bram", "scout_enemy") in found


def test_the_cautious_barricade_the_weakest_structure(raw):
    raw["npcs"]["bram"]["traits"] = ["cautious"]
    theme = agents.load_theme(raw)
    data = fresh(theme)
    data["director"]["phase"] = "peak"
    data["structures"]["wall"].update(integrity=20, status="damaged")
    targets = set()
    for seed in range(30):
        for p in characters.react(theme, data, Streams(seed, 1))[0]:
            if p["function"] == "barricade":
                targets.add(p["args"]["structure"])
    assert targets == {"wall"}


def test_low_trust_shows_in_plain_words_when_the_theme_has_no_doubt_lines(theme):
    data = fresh(theme)
    data["npcs"]["cora"]["loyalty"] = 30  # cora has no "doubtful" lines
    lines = set()
    for seed in range(20):
        _, dialogue, _ = characters.react(theme, data, Streams(seed, 1))
        lines |= {d["line"] for d in dialogue if d["npc"] == "cora"}
    plain = {
        line.replace("{name}", "Cora Fen")
        for line in characters.FALLBACK_LINES["doubtful"]
    }
    assert lines and lines <= plain


def test_nobody_deserts_before_saying_their_doubt_aloud(theme):
    data = fresh(theme)
    data["npcs"]["bram"]["loyalty"] = 5
    for seed in range(40):
        proposals, dialogue, used = characters.react(theme, data, Streams(seed, 1))
        assert "npc_desert" not in {p["function"] for p in proposals}
        # The doubt is said now, so it can turn into leaving later.
        assert "line:bram:doubtful:0" in used
    data["narrated"] = ["line:bram:doubtful:0"]
    assert any(
        "npc_desert" in {p["function"] for p in characters.react(theme, data, s)[0]}
        for s in (Streams(seed, 2) for seed in range(40))
    )


def test_a_deserter_was_heard_doubting_earlier_in_the_game(theme):
    from .conftest import with_state

    found = 0
    for seed in range(30):
        state = with_state(
            agents.new_game(theme, seed),
            lambda d: d["npcs"]["bram"].update(loyalty=22),
        )
        doubted_at = None
        while not state.ended:
            outcome = agents.resolve_turn(state, {"type": "choose", "option": 0})
            turn = outcome.record["turn"]
            if doubted_at is None and any(
                d["npc"] == "bram" and "wages" in d["line"]
                for d in outcome.record["dialogue"]
            ):
                doubted_at = turn
            if outcome.state.data["npcs"]["bram"]["status"] == "deserted":
                assert doubted_at is not None and doubted_at < turn
                found += 1
                break
            state = outcome.state
    assert found > 0


def test_doubt_outranks_a_wound_in_what_an_npc_says(theme):
    npc = {"status": "wounded", "loyalty": 20, "fatigue": 0, "health": 40}
    assert characters.mood_of(npc) == "doubtful"
    npc["loyalty"] = 35
    assert characters.mood_of(npc) == "hurt"


# --- Captivity ----------------------------------------------------------------


def captured(theme, nid: str = "ada") -> dict:
    data = fresh(theme)
    data["turn"] = 1
    ctx = Ctx(data, theme, Streams(1, 1))
    REGISTRY["capture_npc"].effect(ctx, {"npc": nid})
    assert [n["key"] for n in ctx.notes][0] == "npc_captured"
    return data


def test_a_captured_npc_cannot_be_ordered_speak_or_propose(theme):
    data = captured(theme)
    assert data["npcs"]["ada"]["status"] == "captured"
    assert data["flags"]["captured_ada"] == 1
    proposal = {
        "agent": "planner",
        "group": "player",
        "function": "rest_npc",
        "args": {"npc": "ada"},
    }
    reason = judge.rule(data, theme, proposal, judge.Ledger(), 2)
    assert reason == "precondition: Ada Thorn is captured"
    proposals, dialogue, _ = characters.react(theme, data, Streams(1, 2))
    assert "ada" not in {d["npc"] for d in dialogue}
    assert all(p["agent"] != "npc:ada" for p in proposals)


def test_comrades_propose_to_bring_a_captive_home(theme):
    data = captured(theme)
    found = {f for _, f in wishes(theme, data)}
    assert {"ransom_npc", "exchange_captive"} <= found


def test_ransom_brings_a_captive_home_and_the_story_remembers(theme):
    data = captured(theme)
    ctx = Ctx(data, theme, Streams(1, 2))
    coin = data["stockpiles"]["coin"]
    REGISTRY["ransom_npc"].effect(ctx, {"npc": "ada"})
    assert data["npcs"]["ada"]["status"] in ("active", "wounded")
    assert data["stockpiles"]["coin"] == coin - 40
    assert data["flags"]["captured_ada"] == data["flags"]["freed_ada"] == 1


def test_conditions_read_a_captured_status(theme):
    from agents.conditions import holds

    data = captured(theme)
    cond = {"ref": "npcs.ada.status", "op": "==", "value": "captured"}
    assert holds(data, cond)


def test_the_epilogue_tells_of_a_captive(theme, raw):
    data = captured(theme)
    ending = endings.build(theme, data, theme.data["endings"][0])
    fate = next(e for e in ending["epilogue"] if e["npc"] == "ada")
    assert fate["fate"] == "captured"
    assert fate["line"] == "Ada Thorn was last seen a prisoner of The Grey Company."

    raw["npcs"]["ada"]["fates"]["captured"] = "{name} still waits in chains."
    own = agents.load_theme(raw)
    ending = endings.build(own, data, own.data["endings"][0])
    fate = next(e for e in ending["epilogue"] if e["npc"] == "ada")
    assert fate["line"] == "Ada Thorn still waits in chains."


def test_the_view_shows_a_captive(theme):
    state = agents.new_game(theme, 1)
    data = captured(theme)
    shown = view(agents.State(theme, data))
    ada = next(n for n in shown["npcs"] if n["id"] == "ada")
    assert ada["status"] == "captured" and ada["captured"] is True
    assert not next(n for n in view(state)["npcs"] if n["id"] == "ada")["captured"]


def test_a_sortie_leader_is_sometimes_taken(theme):
    taken = 0
    for seed in range(200):
        data = fresh(theme, seed)
        data["turn"] = 1
        ctx = Ctx(data, theme, Streams(seed, 1))
        ctx.note("sortie", npc="Ada Thorn")
        REGISTRY["captivity_tick"].effect(ctx, {})
        taken += data["npcs"]["ada"]["status"] == "captured"
    assert 5 <= taken <= 40


def test_the_enemy_may_seize_a_rider_abroad(theme):
    seized = 0
    for seed in range(100):
        data = fresh(theme, seed)
        data["npcs"]["bram"]["away"] = 3
        for p in world.act(theme, data, Streams(seed, 1)):
            if p["function"] == "capture_npc":
                assert p["args"] == {"npc": "bram"}
                proposal = dict(p, agent="world")
                assert judge.rule(data, theme, proposal, judge.Ledger(), 1) == "ok"
                seized += 1
    assert 2 <= seized <= 20


def test_nobody_is_seized_from_a_sound_keep(theme):
    for seed in range(60):
        data = fresh(theme, seed)
        data["npcs"]["ada"].update(status="wounded", health=40, duty="walls")
        functions = {p["function"] for p in world.act(theme, data, Streams(seed, 1))}
        assert "capture_npc" not in functions


def test_captives_left_too_long_may_be_killed(theme):
    data = captured(theme)
    killed = False
    for turn in range(2, 30):
        ctx = Ctx(data, theme, Streams(1, turn))
        REGISTRY["captivity_tick"].effect(ctx, {})
        if data["npcs"]["ada"]["status"] == "dead":
            killed = True
            break
    assert killed


# --- World ----------------------------------------------------------------------


def tactic(theme, tid: str) -> dict:
    return next(t for t in theme.data["enemy"]["tactics"] if t["id"] == tid)


def test_the_enemy_leans_on_a_weak_structure_and_away_from_a_guarded_one(theme):
    data = fresh(theme)
    storm = tactic(theme, "storm_gate")
    base = world.tactic_weight(theme, data, storm)
    data["structures"]["gate"].update(integrity=15)
    weak = world.tactic_weight(theme, data, storm)
    data["guards"] = {"structures": {"gate": 25}}
    guarded = world.tactic_weight(theme, data, storm)
    assert weak > base > guarded


def test_raids_grow_when_the_stores_are_unwatched_and_food_is_short(theme):
    data = fresh(theme)
    raid = tactic(theme, "raid_grain")
    watched = world.tactic_weight(theme, data, raid)
    data["npcs"]["bram"]["duty"] = "walls"
    unwatched = world.tactic_weight(theme, data, raid)
    data["stockpiles"]["grain"] = 5
    hungry = world.tactic_weight(theme, data, raid)
    assert hungry > unwatched > watched


def test_bombardment_grows_with_engines(theme):
    data = fresh(theme)
    ram = tactic(theme, "hit_wall")
    data["enemy"]["engines"] = 1
    few = world.tactic_weight(theme, data, ram)
    data["enemy"]["engines"] = 5
    assert world.tactic_weight(theme, data, ram) > few


def test_fire_arrows_favour_heat_and_fail_in_rain(theme):
    data = fresh(theme)
    arrows = tactic(theme, "fire_tower")
    clear = world.tactic_weight(theme, data, arrows)
    data["world"]["weather"] = "heat"
    heat = world.tactic_weight(theme, data, arrows)
    data["world"]["weather"] = "rain"
    assert heat > clear > world.tactic_weight(theme, data, arrows)


# --- Hazards --------------------------------------------------------------------


def tick(theme, name: str, change) -> tuple[dict, dict]:
    data = fresh(theme)
    data["turn"] = 1
    change(data)
    before = copy.deepcopy(data)
    REGISTRY[name].effect(Ctx(data, theme, Streams(1, 1)), {})
    return before, data


def test_a_storm_batters_damaged_structures_but_not_sound_ones(theme):
    def storm(d):
        d["world"]["weather"] = "storm"
        d["structures"]["wall"].update(integrity=20, status="damaged")

    before, after = tick(theme, "storm_tick", storm)
    assert after["structures"]["wall"]["integrity"] < 20
    assert after["structures"]["keep"] == before["structures"]["keep"]


def test_hunger_costs_health_and_loyalty(theme):
    def famine(d):
        d["world"]["hunger"] = 60

    before, after = tick(theme, "hunger_tick", famine)
    assert after["npcs"]["bram"]["health"] < before["npcs"]["bram"]["health"]
    assert after["npcs"]["bram"]["loyalty"] < before["npcs"]["bram"]["loyalty"]
    assert after["metrics"]["morale"] < before["metrics"]["morale"]


def test_sickness_eats_medicine_and_grows_without_it(theme):
    def sick(d):
        d["world"]["disease"] = 30

    before, after = tick(theme, "contagion_tick", sick)
    assert after["stockpiles"]["salves"] < before["stockpiles"]["salves"]
    assert after["world"]["disease"] <= 30

    def sick_and_bare(d):
        d["world"]["disease"] = 30
        d["stockpiles"]["salves"] = 0

    _, bare = tick(theme, "contagion_tick", sick_and_bare)
    assert bare["world"]["disease"] > 30


# --- Narrator ---------------------------------------------------------------------


@pytest.mark.parametrize("slug", sorted(builtin_theme_data()))
def test_no_narrative_paragraph_repeats_within_a_game(slug):
    theme = agents.load_theme(builtin_theme_data()[slug])
    for seed in range(12):
        state = agents.new_game(theme, seed)
        told: list[str] = []
        roll = Stream(seed, 0, "test-player")
        while not state.ended:
            option = roll.below(len(state.data["scene"]["options"]))
            outcome = agents.resolve_turn(state, {"type": "choose", "option": option})
            told += outcome.record["narrative"]
            state = outcome.state
        repeated = {p for p in told if told.count(p) > 1}
        assert not repeated, f"{slug} seed {seed}: {sorted(repeated)[:3]}"


def test_a_spent_effect_is_told_in_a_new_form_not_repeated(theme):
    from agents import narrator

    data = fresh(theme)
    notes = [{"key": "structure_damaged", "structure": "Thorn Gate", "amount": 5}]
    told = []
    for turn in range(6):
        told += narrator.tell(theme, data, "", notes, Stream(1, turn, "narrator"))
    assert len(told) == 6 and len(set(told)) == 6
    assert any(p.endswith("Crows on the wall.") or "A dog" in p for p in told)


def test_rain_dampens_fire_and_heat_spreads_it(theme):
    def burning(weather):
        def change(d):
            d["world"]["weather"] = weather
            d["structures"]["wall"]["fire"] = 3

        return change

    spread = {"rain": 0, "heat": 0}
    heat_left = rain_left = 0
    for seed in range(60):
        for weather in spread:
            data = fresh(theme, seed)
            data["turn"] = 1
            burning(weather)(data)
            REGISTRY["fire_tick"].effect(Ctx(data, theme, Streams(seed, 1)), {})
            others = [s for s in data["structures"] if s != "wall"]
            spread[weather] += any(data["structures"][s]["fire"] for s in others)
            if weather == "rain":
                rain_left += data["structures"]["wall"]["fire"]
            else:
                heat_left += data["structures"]["wall"]["fire"]
    assert spread["heat"] > spread["rain"]
    assert rain_left < heat_left


def test_the_atmosphere_describes_the_weather_when_the_theme_does(raw):
    from agents import narrator

    raw["narrative"]["atmosphere"]["weather"] = {
        "rain": ["Rain drums on {structures.keep.name}.", "Puddles in the yard."]
    }
    theme = agents.load_theme(raw)
    data = fresh(theme)
    assert "weather" not in narrator.atmosphere(theme, data, Stream(1, 1, "n"))
    data["world"]["weather"] = "rain"
    seen = {
        narrator.atmosphere(theme, data, Stream(1, turn, "n"))["weather"]
        for turn in range(2)
    }
    assert seen == {"Rain drums on The Keep.", "Puddles in the yard."}


def test_a_weather_line_with_a_bad_placeholder_is_refused(raw):
    raw["narrative"]["atmosphere"]["weather"] = {"fog": ["{structures.nowhere.name}"]}
    with pytest.raises(agents.ThemeError) as caught:
        agents.load_theme(raw)
    assert "narrative.atmosphere.weather.fog[0]" in str(caught.value)


def test_the_judge_refuses_every_npc_function_for_a_captive_but_the_ways_home(raw):
    from .test_functions import CASES

    raw["functions"]["disabled"] = []
    theme = agents.load_theme(raw)
    ways_home = {"ransom_npc", "rescue_npc", "exchange_captive"}
    checked = 0
    for name, (group, args, prepare) in sorted(CASES.items()):
        held = [a.name for a in REGISTRY[name].args if a.type == "npc"]
        if not held:
            continue
        data = fresh(theme, 3)
        data["turn"] = 1
        prepare(data)
        for arg in held:
            data["npcs"][args[arg]]["status"] = "captured"
        proposal = {"agent": "test", "group": group, "function": name, "args": args}
        reason = judge.rule(data, theme, proposal, judge.Ledger(), 1)
        if name in ways_home:
            assert reason == "ok", name
        else:
            assert reason.startswith("precondition:") and "captured" in reason, name
        checked += 1
    assert checked >= 20
