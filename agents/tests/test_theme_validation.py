"""Theme loading: a broken pack is refused with the path of every problem."""

from __future__ import annotations

import pytest

import agents
from agents import ThemeError


def problems(raw) -> list[dict[str, str]]:
    with pytest.raises(ThemeError) as info:
        agents.load_theme(raw)
    assert info.value.errors
    return info.value.errors


def paths(raw) -> list[str]:
    return [p["path"] for p in problems(raw)]


def test_the_fixture_theme_loads_and_is_compiled(theme):
    assert theme.slug == "redoubt" and theme.version == "0.1.0"
    assert len(theme.content_hash) == 64
    assert theme.player_orders[0] == "repair_structure"
    assert "strange_omen" in theme.disabled
    assert set(theme.scenes_by_phase) == {"buildup", "peak", "relax"}


def test_loading_twice_gives_the_same_compiled_theme(raw):
    assert agents.load_theme(raw) is agents.load_theme(raw)


def test_an_unknown_structure_in_a_plan_is_named_by_path(raw):
    raw["scenes"][2]["options"][1]["plan"][0] = {
        "fn": "repair_structure",
        "args": {"structure": "west_tower", "amount": 10},
    }
    assert problems(raw) == [
        {
            "path": "scenes[2].options[1].plan[0].args.structure",
            "message": 'unknown structure "west_tower"',
        }
    ]


def test_an_unknown_function_and_an_out_of_range_argument(raw):
    raw["scenes"][0]["options"][0]["plan"].append({"fn": "summon_storm"})
    raw["enemy"]["tactics"][0]["args"]["force"] = 500
    assert paths(raw) == [
        "enemy.tactics[0].args.force",
        "scenes[0].options[0].plan[2].fn",
    ]


def test_a_scene_needs_exactly_three_distinct_options(raw):
    raw["scenes"][1]["options"].pop()
    raw["scenes"][0]["options"][2]["label"] = raw["scenes"][0]["options"][0]["label"]
    raw["scenes"][4]["options"][1]["plan"] = raw["scenes"][4]["options"][0]["plan"]
    found = problems(raw)
    assert {
        "path": "scenes[1].options",
        "message": "a scene needs exactly 3 options, not 2",
    } in found
    assert "scenes[0].options[2].label" in [p["path"] for p in found]
    assert "scenes[4].options[1].plan" in [p["path"] for p in found]


def test_a_pack_without_a_final_fallback_ending_is_refused(raw):
    raw["endings"] = [e for e in raw["endings"] if e["id"] != "survived"]
    assert paths(raw) == ["endings"]


def test_unknown_refs_and_placeholders_are_refused(raw):
    raw["scenes"][3]["requires"] = [{"ref": "npcs.zed.health", "op": ">", "value": 1}]
    raw["scenes"][0]["text"][0] = (
        "The {structures.moat.name} is dry; {weather} is fine."
    )
    raw["endings"][0]["conditions"] = [{"ref": "metrics.gold", "op": "<", "value": "x"}]
    found = problems(raw)
    assert {
        "path": "scenes[3].requires[0].ref",
        "message": 'unknown npc "zed"',
    } in found
    text_problems = [p["message"] for p in found if p["path"] == "scenes[0].text[0]"]
    assert len(text_problems) == 2
    assert {
        "path": "endings[0].conditions[0].ref",
        "message": 'unknown metric "gold"',
    } in found
    assert {
        "path": "endings[0].conditions[0].value",
        "message": '"<" needs an integer value',
    } in found


def test_schema_errors_carry_their_json_path(raw):
    del raw["title"]
    raw["turn_limit"] = 99
    raw["npcs"]["ada"]["traits"].append("sleepy")
    raw["scenes"][0]["options"][0]["risk"] = "extreme"
    found = paths(raw)
    assert "title" in found
    assert "turn_limit" in found
    assert "npcs.ada.traits[2]" in found
    assert "scenes[0].options[0].risk" in found


def test_roles_must_point_at_the_right_kind_of_thing(raw):
    raw["roles"]["keep"] = "grain"
    raw["roles"]["food"] = "bread"
    assert sorted(paths(raw)) == ["roles.food", "roles.keep"]


def test_function_settings_are_checked(raw):
    raw["functions"]["disabled"] = ["consume_food", "no_such"]
    raw["functions"]["player_orders"].append("fire_tick")
    raw["functions"]["overrides"]["nothing"] = {"gas": 1}
    found = paths(raw)
    assert found == [
        "functions.disabled[0]",
        "functions.disabled[1]",
        "functions.overrides.nothing",
        "functions.player_orders[7]",
    ]


def test_unknown_narrative_effect_keys_are_refused(raw):
    raw["narrative"]["effects"]["dragon_arrives"] = ["It does."]
    raw["narrative"]["effects"]["fire_started"] = [
        "{structure} burns for {hours} hours."
    ]
    found = problems(raw)
    assert [p["path"] for p in found] == [
        "narrative.effects.dragon_arrives",
        "narrative.effects.fire_started[0]",
    ]


def test_starting_values_must_lie_in_range(raw):
    raw["metrics"]["morale"]["start"] = 101
    raw["stockpiles"]["grain"]["start"] = 401
    assert paths(raw) == ["metrics.morale.start", "stockpiles.grain.start"]


def test_a_theme_that_is_not_an_object_is_refused():
    with pytest.raises(ThemeError):
        agents.load_theme(["not", "a", "theme"])


def test_theme_error_message_names_the_first_path(raw):
    raw["turn_limit"] = 3
    with pytest.raises(ThemeError, match="^turn_limit: "):
        agents.load_theme(raw)


def test_builtin_theme_data_lists_the_shipped_packs():
    packs = agents.builtin_theme_data()
    assert list(packs) == sorted(packs) or len(packs) == 1
    for slug, raw in packs.items():
        assert raw["slug"] == slug


def test_the_theme_schema_is_a_valid_json_schema():
    import json

    import jsonschema

    from agents.theme import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_a_malformed_condition_points_at_the_condition(raw):
    raw["scenes"][3]["requires"] = [{"ref": "turn", "op": "about", "value": 2}]
    found = problems(raw)
    assert found[0]["path"].startswith("scenes[3].requires[0]")
    assert "about" in found[0]["message"]


def test_a_missing_field_is_named_in_the_path(raw):
    del raw["npcs"]["ada"]["fates"]["dead"]
    assert problems(raw) == [
        {"path": "npcs.ada.fates.dead", "message": "'dead' is a required property"}
    ]
