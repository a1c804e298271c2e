"""Batch simulation: reports are complete, reproducible, and the bars are judged."""

from __future__ import annotations

import pytest

import agents
from agents import policies, simulate

from .test_policies import morale_theme


def test_report_counts_every_game_once(theme):
    report = simulate.run(theme, "random", 12, seed0=40)

    assert report["games"] == 12
    assert sum(e["count"] for e in report["endings"]) == 12
    assert [e["id"] for e in report["endings"]] == [
        e["id"] for e in theme.data["endings"]
    ]
    assert round(sum(e["share"] for e in report["endings"])) == 100
    wins = sum(e["count"] for e in report["endings"] if e["kind"] == "victory")
    assert report["victory_share"] == round(100 * wins / 12, 2)
    assert 1 <= report["length"]["min"] <= report["length"]["mean"]
    assert report["length"]["max"] <= theme.data["turn_limit"]


def test_same_arguments_give_the_same_report(theme):
    first = simulate.run(theme, "greedy", 6, seed0=3)
    assert simulate.run(theme, "greedy", 6, seed0=3) == first
    assert simulate.run(theme, "greedy", 6, seed0=4) != first


def test_worker_processes_give_the_same_report(theme):
    games = simulate.CHUNK + 5
    assert simulate.run(theme, "random", games, jobs=2) == simulate.run(
        theme, "random", games
    )


def test_progress_is_reported_up_to_the_total(theme):
    seen = []
    simulate.run(theme, "cautious", 5, progress=lambda done, total: seen.append(done))
    assert seen[-1] == 5
    assert seen == sorted(seen)


def test_trajectories_start_with_every_game_and_the_opening_numbers(theme):
    report = simulate.run(theme, "random", 8)
    paths = report["trajectories"]

    assert paths["running"][0] == 8
    assert paths["turns"][0] == 0
    opening = agents.new_game(theme, 1).data
    assert paths["mean"]["morale"][0] == opening["metrics"]["morale"]
    for key in ("structures", "enemy_strength", "tension", "grain"):
        assert len(paths["mean"][key]) == len(paths["turns"])


def test_function_usage_counts_accepted_proposals(theme):
    report = simulate.run(theme, "scripted", 6)
    used = report["functions"]
    assert sum(entry["accepted"] for entry in used.values()) > 0
    assert all(set(entry) == {"accepted", "rejected"} for entry in used.values())


def test_an_option_greedy_always_takes_is_flagged(raw):
    theme = morale_theme(raw)
    report = simulate.run(theme, "greedy", 25)
    dominant = report["options"]["dominant"]
    assert dominant
    assert {d["pick"] for d in dominant} == {"1"}
    assert all(d["share"] > simulate.DOMINANT_SHARE for d in dominant)


def test_random_options_are_not_flagged(raw):
    theme = morale_theme(raw)
    report = simulate.run(theme, "random", 25)
    assert report["options"]["dominant"] == []


def test_bad_arguments_are_refused(theme):
    with pytest.raises(ValueError, match="unknown policy"):
        simulate.run(theme, "psychic", 3)
    with pytest.raises(ValueError, match="positive"):
        simulate.run(theme, "random", 0)


def fake_report(policy: str, win: float, shares: list[float]) -> dict:
    endings = [
        {"id": f"e{i}", "title": f"E{i}", "kind": "x", "count": int(s), "share": s}
        for i, s in enumerate(shares)
    ]
    return {"policy": policy, "victory_share": win, "endings": endings}


def test_balance_passes_a_well_tuned_theme():
    checks = simulate.balance(
        [fake_report("random", 25.0, [30, 20, 50]), fake_report("greedy", 70.0, [])]
    )
    assert all(check["ok"] for check in checks), checks
    assert len(checks) == 4


def test_balance_names_each_broken_bar():
    checks = simulate.balance(
        [
            fake_report("random", 55.0, [70, 30, 0]),
            fake_report("greedy", 58.0, [50, 50, 0]),
        ]
    )
    failed = {check["bar"]: check["detail"] for check in checks if not check["ok"]}
    assert failed == {
        "random wins 10-40%": "55.0%",
        "every ending 1-60% (random)": "e0 70%, e2 0%",
        "best policy wins at least 60%": "greedy 58.0%",
        "every ending reached": "missing: e2",
    }


def test_markdown_has_a_row_per_ending_and_the_bars(theme):
    reports = [simulate.run(theme, p, 4) for p in ("random", "greedy")]
    text = simulate.markdown(reports)
    for ending in theme.data["endings"]:
        assert f"(`{ending['id']}`)" in text
    assert "| Ending | Kind | random | greedy |" in text
    assert "best policy wins at least 60%" in text


@pytest.mark.parametrize("policy", ["greedy", "scripted"])
def test_a_simulated_game_is_the_game_the_policy_plays(theme, policy):
    state = agents.new_game(theme, 21)
    while not state.ended:
        state = agents.resolve_turn(state, policies.choose(policy, state)).state

    game = simulate.play_game(theme, policy, 21)
    assert game["ending"] == state.data["ending"]["id"]
    assert game["length"] == state.data["turn"]
