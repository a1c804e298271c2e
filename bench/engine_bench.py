"""Engine benchmark: per-turn resolve_turn latency and replay time against the bars.

Run from the project root: `.venv/bin/python bench/engine_bench.py [--games N]`.
Prints the figures and a PASS/FAIL line per bar; exits 1 if any bar fails.
Times are CPU time of this thread by default (`--clock wall` for wall time),
so other processes sharing the cores do not count against the engine.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import agents  # noqa: E402
from agents import policies  # noqa: E402

TURN_P50_MS = 1.0
TURN_P99_MS = 5.0
REPLAY_MS = 100.0
REPLAY_TURNS = 100
REPLAY_ROUNDS = 5
CLOCKS = {"cpu": time.thread_time_ns, "wall": time.perf_counter_ns}
clock = CLOCKS["cpu"]


def percentile(sorted_values: list[int], pct: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


def play(theme: agents.Theme, seed: int, policy: str) -> tuple[list[dict], list[int]]:
    """One game by `policy`; the actions and each resolve_turn time in ns."""
    state = agents.new_game(theme, seed)
    actions, times = [], []
    while not state.ended:
        action = policies.choose(policy, state)
        start = clock()
        state = agents.resolve_turn(state, action).state
        times.append(clock() - start)
        actions.append(action)
    return actions, times


def chained_games(
    theme: agents.Theme, seed0: int, policy: str
) -> list[tuple[int, list[dict]]]:
    """Consecutive seeded games whose turns add up to at least REPLAY_TURNS.

    A theme's turn limit is at most 40, so a 100-turn history is built by
    chaining whole games; replaying it replays each game from new_game.
    """
    games, turns, seed = [], 0, seed0
    while turns < REPLAY_TURNS:
        actions, _ = play(theme, seed, policy)
        games.append((seed, actions))
        turns += len(actions)
        seed += 1
    return games


def time_replay(theme: agents.Theme, games: list[tuple[int, list[dict]]]) -> float:
    """Milliseconds to replay the chained games, scaled to exactly 100 turns."""
    turns = sum(len(actions) for _, actions in games)
    best = float("inf")
    for _ in range(REPLAY_ROUNDS):
        start = clock()
        for seed, actions in games:
            agents.replay(theme, seed, actions)
        best = min(best, (clock() - start) / 1e6)
    return best * REPLAY_TURNS / turns


def verdict(label: str, value: float, bar: float) -> bool:
    ok = value <= bar
    print(
        f"{'PASS' if ok else 'FAIL'}  {label}: {value:.3f} ms "
        f"(bar {bar:g} ms, {value / bar:.2f} of the bar)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--games", type=int, default=150, help="games per theme")
    parser.add_argument("--policy", choices=policies.POLICIES, default="random")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]

    packs = agents.builtin_theme_data()
    themes = [agents.load_theme(packs[slug]) for slug in sorted(packs)]
    print(
        f"engine bench: {args.games} {args.policy}-policy games per theme, "
        f"themes: {', '.join(t.slug for t in themes)}; Python {sys.version.split()[0]}"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.clock} clock; {os.cpu_count()} cores, load average {load}")

    started = time.monotonic()
    everything: list[int] = []
    replays: list[float] = []
    for theme in themes:
        gc.collect()
        times: list[int] = []
        for seed in range(args.seed, args.seed + args.games):
            times.extend(play(theme, seed, args.policy)[1])
        times.sort()
        everything.extend(times)
        replay_ms = time_replay(theme, chained_games(theme, args.seed, args.policy))
        replays.append(replay_ms)
        print(
            f"  {theme.slug:<12} turns {len(times):>6}  "
            f"p50 {percentile(times, 50) / 1e6:.3f} ms  "
            f"p99 {percentile(times, 99) / 1e6:.3f} ms  "
            f"max {times[-1] / 1e6:.3f} ms  "
            f"mean {statistics.fmean(times) / 1e6:.3f} ms  "
            f"replay of {REPLAY_TURNS} turns {replay_ms:.1f} ms"
        )

    everything.sort()
    print(f"all themes: {len(everything)} turns in {time.monotonic() - started:.1f} s")
    results = [
        verdict("per-turn median", percentile(everything, 50) / 1e6, TURN_P50_MS),
        verdict("per-turn p99", percentile(everything, 99) / 1e6, TURN_P99_MS),
        verdict(
            f"replay of {REPLAY_TURNS} turns (worst theme)", max(replays), REPLAY_MS
        ),
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
