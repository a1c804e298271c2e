"""The agents at work: Director pacing, scene draw, NPC reactions, World, Narrator."""

from __future__ import annotations

import copy

import agents
from agents import characters, director, events, narrator, world
from agents.rng import Stream, Streams

from .conftest import play


def phases_over(theme, profile: str, turns: int = 16) -> list[str]:
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["director"]["profile"] = profile
    seen = []
    for turn in range(1, turns + 1):
        data["turn"] = turn
        director.advance(theme, data, Stream(1, turn, "director"))
        seen.append(data["director"]["phase"])
    return seen


def test_the_director_cycles_buildup_peak_and_relief(theme):
    phases = phases_over(theme, "steady")
    assert phases[0] == "buildup"
    assert "peak" in phases and "relax" in phases
    first_peak = phases.index("peak")
    assert "relax" in phases[first_peak:]
    assert "buildup" in phases[phases.index("relax", first_peak) :]


def test_relentless_gives_shorter_relief_than_steady(theme):
    steady = phases_over(theme, "steady", 30)
    relentless = phases_over(theme, "relentless", 30)
    assert relentless.count("relax") < steady.count("relax")
    assert relentless.count("peak") > steady.count("peak")


def test_chaotic_rhythm_depends_on_the_seed(theme):
    def rhythm(seed):
        data = copy.deepcopy(agents.new_game(theme, seed).data)
        data["director"]["profile"] = "chaotic"
        out = []
        for turn in range(1, 25):
            data["turn"] = turn
            director.advance(theme, data, Stream(seed, turn, "director"))
            out.append(data["director"]["phase"])
        return out

    assert len({tuple(rhythm(seed)) for seed in range(6)}) > 1


def test_the_threat_budget_grows_with_tension_and_peaks(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    budgets = {}
    for turn in range(1, 12):
        data["turn"] = turn
        director.advance(theme, data, Stream(1, turn, "director"))
        budgets.setdefault(data["director"]["phase"], []).append(
            data["director"]["threat_budget"]
        )
    assert max(budgets["peak"]) > min(budgets["buildup"])


def test_neglected_trouble_raises_tension_faster(theme):
    calm = copy.deepcopy(agents.new_game(theme, 1).data)
    neglected = copy.deepcopy(calm)
    neglected["structures"]["tower"].update(integrity=0, status="collapsed")
    neglected["world"]["hunger"] = 40
    for data in (calm, neglected):
        data["turn"] = 1
        director.advance(theme, data, Stream(1, 1, "director"))
    assert neglected["director"]["tension"] > calm["director"]["tension"]


def test_scene_draw_respects_preconditions_and_once(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    drawn = set()
    for turn in range(40):
        for phase in ("buildup", "relax"):
            data["director"]["phase"] = phase
            drawn.add(events.draw(theme, data, Streams(turn, 1)))
    # The quartermaster's price needs the scouting flag, never set here.
    assert "the_quartermasters_price" not in drawn
    data["flags"]["scouted"] = 1
    data["seen"] = ["first_light", "grain_cart", "fire_in_the_tower", "quiet_night"]
    data["director"]["phase"] = "relax"
    assert events.draw(theme, data, Streams(5, 1)) == "the_quartermasters_price"


def test_a_once_scene_is_never_drawn_again(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["seen"] = ["first_light"]
    data["director"]["phase"] = "buildup"
    for seed in range(30):
        assert events.draw(theme, data, Streams(seed, 2)) != "first_light"


def test_unplayed_scenes_come_before_replays(theme):
    outcomes = play(theme, 17, [0, 1, 2, 0, 1])
    played = [o.record["scene"]["id"] for o in outcomes]
    # Three build-up scenes are open to a new game; none repeats before all ran.
    assert len(set(played[:3])) == 3


def test_a_weary_npc_asks_to_rest_and_a_kind_one_heals(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["npcs"]["cora"]["fatigue"] = 55  # weary: tired from 50
    data["npcs"]["ada"].update(health=40, status="wounded")
    proposals, dialogue, _ = characters.react(theme, data, Streams(1, 1))
    wishes = {(p["agent"], p["function"]) for p in proposals}
    assert ("npc:cora", "rest_npc") in wishes
    assert dialogue and all("{" not in d["line"] for d in dialogue)
    hurt = next((d for d in dialogue if d["npc"] == "ada"), None)
    if hurt:
        assert hurt["line"] == "Ada Thorn binds her own arm."


def test_kind_npcs_propose_healing_the_most_hurt(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["npcs"]["ada"].update(health=40, status="wounded")
    found = False
    for seed in range(20):
        proposals, _, _ = characters.react(theme, data, Streams(seed, 1))
        if {
            "agent": "npc:cora",
            "group": "characters",
            "function": "heal_npc",
            "args": {"npc": "ada"},
        } in proposals:
            found = True
    assert found


def test_low_loyalty_leads_to_doubt_and_then_desertion(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["npcs"]["bram"]["loyalty"] = 30
    lines = set()
    for seed in range(20):
        _, dialogue, _ = characters.react(theme, data, Streams(seed, 1))
        lines |= {d["line"] for d in dialogue if d["npc"] == "bram"}
    assert lines == {"Bram Coil mutters about his wages."}

    data["npcs"]["bram"]["loyalty"] = 5
    data["narrated"] = ["line:bram:doubtful:0"]
    deserted = sum(
        any(
            p["function"] == "npc_desert"
            for p in characters.react(theme, data, Streams(s, 1))[0]
        )
        for s in range(40)
    )
    assert deserted > 10


def test_dead_and_deserted_npcs_say_and_propose_nothing(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["npcs"]["ada"]["status"] = "dead"
    data["npcs"]["bram"]["status"] = "deserted"
    proposals, dialogue, _ = characters.react(theme, data, Streams(1, 1))
    assert {d["npc"] for d in dialogue} <= {"cora"}
    assert all(p["agent"] == "npc:cora" for p in proposals)


def test_the_world_spends_no_more_than_its_threat_budget(theme):
    tactics = {t["id"]: t for t in theme.data["enemy"]["tactics"]}
    for seed in range(20):
        data = copy.deepcopy(agents.new_game(theme, seed).data)
        data["director"]["threat_budget"] = 5
        proposals = world.act(theme, data, Streams(seed, 1))
        spent = sum(tactics[p["tactic"]]["cost"] for p in proposals if "tactic" in p)
        assert 0 < spent <= 5
        upkeep = [p["function"] for p in proposals if p["group"] == "upkeep"]
        assert upkeep == list(agents.functions.UPKEEP_ORDER + world.LATE_UPKEEP)


def test_tactics_whose_requirements_fail_are_not_used(theme):
    data = copy.deepcopy(agents.new_game(theme, 3).data)
    data["director"]["threat_budget"] = 12
    used = set()
    for seed in range(30):
        used |= {p.get("tactic") for p in world.act(theme, data, Streams(seed, 1))}
    # Storming the keep needs the gate down first.
    assert "storm_keep" not in used
    data["structures"]["gate"].update(integrity=0, status="collapsed")
    used = set()
    for seed in range(30):
        used |= {p.get("tactic") for p in world.act(theme, data, Streams(seed, 1))}
    assert "storm_keep" in used and "storm_gate" not in used


def test_the_narrator_prefers_templates_not_yet_used(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    notes = [
        {"key": "structure_damaged", "structure": "Thorn Gate", "amount": 5},
        {"key": "structure_damaged", "structure": "Curtain Wall", "amount": 7},
    ]
    paragraphs = narrator.tell(theme, data, "", notes, Stream(1, 1, "narrator"))
    assert sorted(paragraphs) == [
        "Curtain Wall cracks under the blows.",
        "Stones fall from Thorn Gate.",
    ] or sorted(paragraphs) == [
        "Stones fall from Curtain Wall.",
        "Thorn Gate cracks under the blows.",
    ]
    assert sorted(data["narrated"]) == ["structure_damaged:0", "structure_damaged:1"]


def test_the_narrator_falls_back_to_plain_sentences_and_merges_totals(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    notes = [
        {"key": "garrison_losses", "amount": 3},
        {"key": "garrison_losses", "amount": 4},
        {"key": "morale_up", "amount": 5},
        {"key": "morale_down", "amount": 2},
    ]
    paragraphs = narrator.tell(theme, data, "Opening.", notes, Stream(1, 1, "narrator"))
    assert paragraphs == ["Opening.", "7 defenders are lost.", "Spirits lift."]


def test_atmosphere_mood_follows_tension_and_morale(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["director"]["tension"] = 5
    assert narrator.mood(theme, data) == "calm"
    data["director"]["tension"] = 90
    assert narrator.mood(theme, data) == "desperate"
    data["director"]["tension"] = 30
    data["metrics"]["morale"] = 10
    assert narrator.mood(theme, data) == "grim"
    atmosphere = narrator.atmosphere(theme, data, Stream(1, 1, "narrator"))
    assert atmosphere == {
        "mood": "grim",
        "text": "Blood on the stones.",
        "sights": "Crows on the wall.",
        "sounds": "A dog barking.",
    }


def test_a_turns_narrative_starts_with_the_chosen_option(theme):
    state = agents.new_game(theme, 2)
    option = state.data["scene"]["options"][1]
    outcome = agents.resolve_turn(state, {"type": "choose", "option": 1})
    assert outcome.record["narrative"][0] == option["text"]
    assert outcome.record["scene"]["option"] == {"index": 1, "label": option["label"]}


def test_npcs_do_not_repeat_a_line_while_they_have_fresh_ones(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    data["narrated"] = ["line:ada:steady:0"]
    for seed in range(15):
        _, dialogue, used = characters.react(theme, data, Streams(seed, 1))
        for entry in dialogue:
            if entry["npc"] == "ada":
                assert entry["line"] == '"We hold," says Ada Thorn.'
        assert "line:ada:steady:0" not in used


def test_the_lines_said_in_a_turn_are_remembered_in_the_state(theme):
    outcome = agents.resolve_turn(
        agents.new_game(theme, 3), {"type": "choose", "option": 2}
    )
    remembered = [k for k in outcome.state.data["narrated"] if k.startswith("line:")]
    assert len(remembered) == len(outcome.record["dialogue"]) > 0


def test_the_narrator_ignores_a_single_point_of_morale_drift(theme):
    data = copy.deepcopy(agents.new_game(theme, 1).data)
    notes = [
        {"key": "morale_down", "amount": 1},
        {"key": "fire_out", "structure": "Watch Tower"},
    ]
    paragraphs = narrator.tell(theme, data, "", notes, Stream(1, 1, "narrator"))
    assert paragraphs == ["The fire at Watch Tower dies."]
