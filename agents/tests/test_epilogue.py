"""Epilogue lines follow each person's fate and whether the siege was won."""

from __future__ import annotations

import agents
from agents import endings


def _ending(theme: agents.Theme, kind: str) -> dict:
    return next(e for e in theme.data["endings"] if e["kind"] == kind)


def test_a_survivor_of_a_defeat_gets_the_defeat_line(raw):
    npc = next(iter(raw["npcs"]))
    raw["npcs"][npc]["fates"]["alive_defeat"] = "{name} walked out with the others."
    theme = agents.load_theme(raw)
    data = agents.new_game(theme, 3).data

    lost = endings.build(theme, data, _ending(theme, "defeat"))
    won = endings.build(theme, data, _ending(theme, "victory"))

    line_lost = next(e["line"] for e in lost["epilogue"] if e["npc"] == npc)
    line_won = next(e["line"] for e in won["epilogue"] if e["npc"] == npc)
    name = raw["npcs"][npc]["name"]
    assert line_lost == f"{name} walked out with the others."
    assert line_won != line_lost


def test_without_a_defeat_line_the_alive_line_is_used(raw):
    theme = agents.load_theme(raw)
    data = agents.new_game(theme, 3).data
    lost = endings.build(theme, data, _ending(theme, "defeat"))
    assert all(entry["line"] for entry in lost["epilogue"])
