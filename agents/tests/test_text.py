"""Filled-in text reads as prose: sentences start with a capital letter."""

from __future__ import annotations

import agents
from agents.templates import fill


def test_a_name_opening_a_sentence_is_capitalised(theme):
    data = agents.new_game(theme, 1).data
    spec = dict(theme.data, enemy=dict(theme.data["enemy"], name="the grey host"))

    text = fill(
        "Smoke rises. {enemy.name} is moving, and {enemy.name} waits.", data, spec
    )

    assert text == "Smoke rises. The grey host is moving, and the grey host waits."
    assert fill("{enemy.name} comes.", data, spec) == "The grey host comes."
    assert fill('"{enemy.name}!" he cries.', data, spec) == '"The grey host!" he cries.'


def test_an_order_is_recorded_and_told_by_the_theme_label(raw):
    order = raw["functions"]["player_orders"][0]
    raw["functions"]["order_text"] = {order: {"label": "Do the thing"}}
    raw["narrative"]["order"] = ["Word goes round: {order}."]
    theme = agents.load_theme(raw)
    state = agents.new_game(theme, 5)
    view = agents.view(state)
    spec = next(o for o in view["orders"] if o["function"] == order)
    args = {}
    for name, arg in spec["args"].items():
        if arg["type"] == "int":
            args[name] = arg["min"]
        elif arg["type"] == "structure":
            args[name] = view["structures"][0]["id"]
        elif arg["type"] == "npc":
            args[name] = view["npcs"][0]["id"]
        else:
            args[name] = arg["choices"][0]

    outcome = agents.resolve_turn(
        state, {"type": "order", "function": order, "args": args}
    )

    assert outcome.record["scene"]["order"] == {
        "function": order,
        "label": "Do the thing",
    }
    assert outcome.record["narrative"][0] == "Word goes round: Do the thing."
