"""Batch play for balance: many seeded games of one theme by one policy, summarised.

Pure engine side (no Django). The same arguments always give the same report;
wall-clock time is left out of it on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from agents import policies
from agents.engine import new_game, resolve_turn, snapshot
from agents.theme import Theme, load_theme

Progress = Callable[[int, int], None]

# An option picked more often than this share of a scene's plays (by a policy
# that is trying to win) is a sign the other two are not real choices.
DOMINANT_SHARE = 85
DOMINANT_MIN_PLAYS = 20
CHUNK = 25

# Balance bars, as percentages of games.
RANDOM_WIN_LOW = 10
RANDOM_WIN_HIGH = 40
BEST_WIN_LOW = 60
ENDING_LOW = 1
ENDING_HIGH = 60


def play_game(
    theme: Theme, policy: str, seed: int, storyteller: str | None = None
) -> dict[str, Any]:
    """One game from new_game to its end, reduced to what a report needs.

    ``storyteller`` picks the Director's profile; None keeps the theme's own.
    """
    state = new_game(theme, seed, storyteller)
    accepted: dict[str, int] = {}
    rejected: dict[str, int] = {}
    choices: list[list[Any]] = []
    trajectory = [snapshot(theme, state.data)]

    while not state.ended:
        action, outcome = policies.decide(policy, state)
        scene_id = state.data["scene"]["id"]
        if action["type"] == "choose":
            choices.append([scene_id, action["option"]])
        else:
            choices.append([scene_id, "order:" + action["function"]])
        if outcome is None:
            outcome = resolve_turn(state, action)
        for proposal in outcome.record["proposals"]:
            tally = accepted if proposal["verdict"] == "accepted" else rejected
            tally[proposal["function"]] = tally.get(proposal["function"], 0) + 1
        trajectory.append(outcome.record["metrics"])
        state = outcome.state

    ending = state.data["ending"]
    return {
        "seed": seed,
        "ending": ending["id"],
        "kind": ending["kind"],
        "length": state.data["turn"],
        "accepted": accepted,
        "rejected": rejected,
        "choices": choices,
        "trajectory": trajectory,
    }


def run(
    theme: Theme,
    policy: str,
    games: int,
    seed0: int = 1,
    progress: Progress | None = None,
    jobs: int = 1,
    storyteller: str | None = None,
) -> dict[str, Any]:
    """Play `games` games with seeds seed0, seed0+1, ... and report on them.

    `progress(done, total)` is called as games finish. With `jobs` > 1 the
    games are shared among worker processes; the report is the same.
    ``storyteller`` is passed to every game, as in play_game.
    """
    if policy not in policies.POLICIES:
        raise ValueError(
            f"unknown policy {policy!r}; one of {', '.join(policies.POLICIES)}"
        )
    if type(games) is not int or games < 1:
        raise ValueError("games must be a positive integer")
    seeds = list(range(seed0, seed0 + games))

    results: list[dict[str, Any]] = []
    for batch in _play_all(theme, policy, seeds, jobs, storyteller):
        results.extend(batch)
        if progress:
            progress(len(results), games)
    return report(theme, policy, seed0, results)


def _play_all(
    theme: Theme,
    policy: str,
    seeds: list[int],
    jobs: int,
    storyteller: str | None = None,
) -> Iterator[list[dict[str, Any]]]:
    chunks = [seeds[i : i + CHUNK] for i in range(0, len(seeds), CHUNK)]
    if jobs <= 1 or len(chunks) == 1:
        for chunk in chunks:
            yield [play_game(theme, policy, seed, storyteller) for seed in chunk]
        return
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_worker_init, initargs=(theme.data,)
    ) as pool:
        # map() keeps the order of the chunks, so the report does not depend
        # on which worker finishes first.
        yield from pool.map(
            _worker_play, [(policy, storyteller, chunk) for chunk in chunks]
        )


_WORKER_THEME: list[Theme] = []


def _worker_init(raw: dict[str, Any]) -> None:
    _WORKER_THEME[:] = [load_theme(raw)]


def _worker_play(
    job: tuple[str, str | None, list[int]],
) -> list[dict[str, Any]]:
    policy, storyteller, seeds = job
    theme = _WORKER_THEME[0]
    return [play_game(theme, policy, seed, storyteller) for seed in seeds]


def report(
    theme: Theme, policy: str, seed0: int, results: list[dict[str, Any]]
) -> dict[str, Any]:
    """The summary of finished games (see docs/balance.md for each field)."""
    games = len(results)
    counts: dict[str, int] = {}
    for game in results:
        counts[game["ending"]] = counts.get(game["ending"], 0) + 1
    endings = [
        {
            "id": e["id"],
            "title": e["title"],
            "kind": e["kind"],
            "count": counts.get(e["id"], 0),
            "share": _share(counts.get(e["id"], 0), games),
        }
        for e in theme.data["endings"]
    ]
    victories = sum(1 for game in results if game["kind"] == "victory")
    lengths = [game["length"] for game in results]

    return {
        "theme": {"slug": theme.slug, "version": theme.version, "title": theme.title},
        "policy": policy,
        "games": games,
        "seed0": seed0,
        "endings": endings,
        "victory_share": _share(victories, games),
        "length": {
            "mean": round(sum(lengths) / games, 2),
            "min": min(lengths),
            "max": max(lengths),
            "turn_limit": theme.data["turn_limit"],
        },
        "functions": _functions(results),
        "options": _options(results),
        "trajectories": _trajectories(results),
    }


def _share(count: int, total: int) -> float:
    """A percentage with two decimals."""
    return round(100 * count / total, 2) if total else 0.0


def _functions(results: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for game in results:
        for verdict in ("accepted", "rejected"):
            for name, count in game[verdict].items():
                entry = out.setdefault(name, {"accepted": 0, "rejected": 0})
                entry[verdict] += count
    return dict(sorted(out.items()))


def _options(results: list[dict[str, Any]]) -> dict[str, Any]:
    """How often each option of each scene was taken, and which ones dominate."""
    scenes: dict[str, dict[str, int]] = {}
    for game in results:
        for scene_id, pick in game["choices"]:
            tally = scenes.setdefault(scene_id, {})
            tally[str(pick)] = tally.get(str(pick), 0) + 1

    dominant = []
    for scene_id, tally in sorted(scenes.items()):
        plays = sum(tally.values())
        for pick, count in sorted(tally.items()):
            share = _share(count, plays)
            if plays >= DOMINANT_MIN_PLAYS and share > DOMINANT_SHARE:
                dominant.append(
                    {"scene": scene_id, "pick": pick, "share": share, "plays": plays}
                )
    return {
        "by_scene": {
            scene_id: dict(sorted(tally.items()))
            for scene_id, tally in sorted(scenes.items())
        },
        "dominant": dominant,
    }


def _trajectories(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of every tracked number at each turn, over the games still running."""
    longest = max(len(game["trajectory"]) for game in results)
    keys = list(results[0]["trajectory"][0])
    running = []
    means: dict[str, list[float]] = {key: [] for key in keys}
    for turn in range(longest):
        rows = [g["trajectory"][turn] for g in results if len(g["trajectory"]) > turn]
        running.append(len(rows))
        for key in keys:
            means[key].append(round(sum(row[key] for row in rows) / len(rows), 2))
    return {"turns": list(range(longest)), "running": running, "mean": means}


def balance(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The balance bars checked against one theme's reports (one per policy).

    Each check is {"bar", "ok", "detail"}. Checks that need a policy's report
    are only made when that report is present.
    """
    checks: list[dict[str, Any]] = []
    by_policy = {r["policy"]: r for r in reports}
    if not reports:
        return checks

    random_report = by_policy.get("random")
    if random_report:
        share = random_report["victory_share"]
        checks.append(
            {
                "bar": f"random wins {RANDOM_WIN_LOW}-{RANDOM_WIN_HIGH}%",
                "ok": RANDOM_WIN_LOW <= share <= RANDOM_WIN_HIGH,
                "detail": f"{share}%",
            }
        )
        outside = [
            f"{e['id']} {e['share']}%"
            for e in random_report["endings"]
            if not ENDING_LOW <= e["share"] <= ENDING_HIGH
        ]
        checks.append(
            {
                "bar": f"every ending {ENDING_LOW}-{ENDING_HIGH}% (random)",
                "ok": not outside,
                "detail": "all within" if not outside else ", ".join(outside),
            }
        )

    best = max(reports, key=lambda r: r["victory_share"])
    checks.append(
        {
            "bar": f"best policy wins at least {BEST_WIN_LOW}%",
            "ok": best["victory_share"] >= BEST_WIN_LOW,
            "detail": f"{best['policy']} {best['victory_share']}%",
        }
    )

    # Reached by the random policy when it was run, else by any policy.
    pool = [random_report] if random_report else reports
    reached = {e["id"] for r in pool for e in r["endings"] if e["count"]}
    missing = [e["id"] for e in reports[0]["endings"] if e["id"] not in reached]
    checks.append(
        {
            "bar": "every ending reached",
            "ok": not missing,
            "detail": "all" if not missing else "missing: " + ", ".join(missing),
        }
    )
    return checks


def markdown(reports: list[dict[str, Any]]) -> str:
    """Markdown tables, one per theme: ending shares by policy, then the bars."""
    out: list[str] = []
    for slug, group in _by_theme(reports):
        theme = group[0]["theme"]
        policies_run = [r["policy"] for r in group]
        games = sorted({r["games"] for r in group})
        out.append(
            f"### {theme['title']} (`{slug}` {theme['version']}), "
            f"{'/'.join(str(g) for g in games)} games per policy"
        )
        out.append("")
        out.append("| Ending | Kind | " + " | ".join(policies_run) + " |")
        out.append("|---|---|" + "---:|" * len(policies_run))
        for index, ending in enumerate(group[0]["endings"]):
            shares = [f"{r['endings'][index]['share']:.1f}%" for r in group]
            out.append(
                f"| {ending['title']} (`{ending['id']}`) | {ending['kind']} | "
                + " | ".join(shares)
                + " |"
            )
        wins = [f"**{r['victory_share']:.1f}%**" for r in group]
        out.append("| **Victory** | | " + " | ".join(wins) + " |")
        lengths = [f"{r['length']['mean']:.1f}" for r in group]
        out.append("| Mean length (turns) | | " + " | ".join(lengths) + " |")
        out.append("")
        for check in balance(group):
            mark = "PASS" if check["ok"] else "FAIL"
            out.append(f"- {mark}: {check['bar']} ({check['detail']})")
        out.append("")
    return "\n".join(out)


def text_table(reports: list[dict[str, Any]]) -> str:
    """A plain table for a terminal: one row per theme and policy."""
    head = f"{'theme':<12} {'policy':<9} {'games':>6} {'win %':>6} {'len':>5}  endings"
    lines = [head, "-" * len(head)]
    for report in reports:
        shares = ", ".join(
            f"{e['id']} {e['share']:.1f}%" for e in report["endings"] if e["count"]
        )
        lines.append(
            f"{report['theme']['slug']:<12} {report['policy']:<9} "
            f"{report['games']:>6} {report['victory_share']:>6.1f} "
            f"{report['length']['mean']:>5.1f}  {shares}"
        )
    return "\n".join(lines)


def _by_theme(
    reports: list[dict[str, Any]],
) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for report in reports:
        groups.setdefault(report["theme"]["slug"], []).append(report)
    return list(groups.items())
