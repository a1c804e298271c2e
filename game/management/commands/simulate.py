"""Plays many seeded games per theme and policy and reports the balance.

Themes come from the packs shipped in agents/themes/ (no database needed);
``--source db`` plays the newest enabled version stored by ``load_themes``.
Writes a JSON report and a self-contained HTML chart to ``--out``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import agents
from agents import simulate
from agents.policies import POLICIES
from game import sim_report

DEFAULT_OUT = "var/sim"
PROGRESS_WIDTH = 30
PROGRESS_LINES = 10
DOC_BEGIN = "<!-- simulate:begin -->"
DOC_END = "<!-- simulate:end -->"


class Command(BaseCommand):
    help = "Simulate games by built-in policies and report endings and balance."

    def add_arguments(self, parser):
        parser.add_argument("--theme", help="Theme slug (default: lornhaven).")
        parser.add_argument(
            "--all-themes", action="store_true", help="Every theme of the source."
        )
        parser.add_argument("--policy", choices=POLICIES, default="random")
        parser.add_argument(
            "--all-policies", action="store_true", help="Run all four policies."
        )
        parser.add_argument("--games", type=int, default=2000)
        parser.add_argument(
            "--policy-games",
            action="append",
            default=[],
            metavar="POLICY=N",
            help="Games for one policy instead of --games (repeatable), e.g. "
            "greedy=500 where lookahead makes 2000 too slow.",
        )
        parser.add_argument("--seed", type=int, default=1, help="First game's seed.")
        parser.add_argument(
            "--jobs", type=int, default=1, help="Worker processes (default 1)."
        )
        parser.add_argument(
            "--out",
            default=DEFAULT_OUT,
            help=f"Directory for the JSON and HTML (default {DEFAULT_OUT}); "
            'pass "" to write no files.',
        )
        parser.add_argument(
            "--source",
            choices=("builtin", "db"),
            default="builtin",
            help="builtin: the packs in agents/themes/; db: stored themes.",
        )
        parser.add_argument(
            "--markdown",
            action="store_true",
            help="Print markdown tables (as in docs/balance.md) instead of text.",
        )
        parser.add_argument(
            "--update-doc",
            metavar="PATH",
            help=f"Replace the part of PATH between {DOC_BEGIN} and {DOC_END} "
            "with the command line and the markdown tables.",
        )

    def handle(self, *args, **opts):
        # Progress and timings are not errors; keep them out of the error colour.
        self.stderr.style_func = None
        if opts["games"] < 1:
            raise CommandError("--games must be at least 1.")
        if opts["jobs"] < 1:
            raise CommandError("--jobs must be at least 1.")
        if opts["theme"] and opts["all_themes"]:
            raise CommandError("Give --theme or --all-themes, not both.")
        if opts["update_doc"]:
            text = _read_doc(Path(opts["update_doc"]))
            if DOC_BEGIN not in text or DOC_END not in text:
                raise CommandError(
                    f"{opts['update_doc']} has no {DOC_BEGIN} ... {DOC_END} section."
                )

        counts = _policy_games(opts["policy_games"])
        opts["counts"] = counts
        themes = self._themes(opts)
        policies = POLICIES if opts["all_policies"] else (opts["policy"],)
        reports = []
        started = time.monotonic()
        for theme in themes:
            for policy in policies:
                bar = Progress(self.stderr, f"{theme.slug} {policy}")
                reports.append(
                    simulate.run(
                        theme,
                        policy,
                        counts.get(policy, opts["games"]),
                        seed0=opts["seed"],
                        progress=bar.update,
                        jobs=opts["jobs"],
                    )
                )
                bar.finish()
        elapsed = time.monotonic() - started

        if opts["markdown"]:
            self.stdout.write(simulate.markdown(reports))
        else:
            self.stdout.write(simulate.text_table(reports))
        total = sum(r["games"] for r in reports)
        self.stderr.write(
            f"{total} games in {elapsed:.1f} s "
            f"({1000 * elapsed / total:.1f} ms a game, {opts['jobs']} job(s))"
        )
        if opts["out"]:
            self._write(opts, themes, policies, reports)
        if opts["update_doc"]:
            update_doc(Path(opts["update_doc"]), opts, reports, elapsed)
            self.stderr.write(f"updated {opts['update_doc']}")

    def _themes(self, opts) -> list[agents.Theme]:
        if opts["source"] == "db":
            return self._db_themes(opts)
        packs = agents.builtin_theme_data()
        if opts["all_themes"]:
            return [_load(slug, packs[slug]) for slug in sorted(packs)]
        slug = opts["theme"] or "lornhaven"
        if slug not in packs:
            raise CommandError(
                f'No built-in theme "{slug}"; known: {", ".join(sorted(packs))}.'
            )
        return [_load(slug, packs[slug])]

    def _db_themes(self, opts) -> list[agents.Theme]:
        from game import selectors
        from game.errors import ThemeUnavailable

        if opts["all_themes"]:
            rows = list(selectors.theme_list())
            if not rows:
                raise CommandError("No enabled themes stored; run load_themes.")
            return [selectors.theme_engine(row) for row in rows]
        slug = opts["theme"] or "lornhaven"
        try:
            return [selectors.theme_engine(selectors.theme_current(slug=slug))]
        except ThemeUnavailable as exc:
            raise CommandError(str(exc)) from exc

    def _write(self, opts, themes, policies, reports) -> None:
        out = Path(opts["out"])
        out.mkdir(parents=True, exist_ok=True)
        theme_part = "all" if len(themes) > 1 else themes[0].slug
        policy_part = "all" if len(policies) > 1 else policies[0]
        stem = f"{theme_part}-{policy_part}-{opts['games']}g-s{opts['seed']}"
        document = {
            "command": command_line(opts),
            "reports": reports,
            "balance": {
                slug: simulate.balance(
                    [r for r in reports if r["theme"]["slug"] == slug]
                )
                for slug in dict.fromkeys(r["theme"]["slug"] for r in reports)
            },
        }
        json_path = out / f"{stem}.json"
        json_path.write_text(json.dumps(document, indent=1), encoding="utf-8")
        html_path = out / f"{stem}.html"
        html_path.write_text(sim_report.page_html(document), encoding="utf-8")
        self.stderr.write(f"wrote {json_path} and {html_path}")


def _load(slug: str, raw: dict[str, Any]) -> agents.Theme:
    try:
        return agents.load_theme(raw)
    except agents.ThemeError as exc:
        problems = "; ".join(f"{e['path']}: {e['message']}" for e in exc.errors[:5])
        raise CommandError(f'Theme "{slug}" does not load: {problems}') from exc


def _policy_games(items: list[str]) -> dict[str, int]:
    counts = {}
    for item in items:
        policy, _, number = item.partition("=")
        if policy not in POLICIES or not number.isdigit() or int(number) < 1:
            raise CommandError(
                f'--policy-games takes POLICY=N with N at least 1, not "{item}".'
            )
        counts[policy] = int(number)
    return counts


def _read_doc(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc


def update_doc(path: Path, opts, reports, elapsed: float) -> None:
    """Put the tables between the markers, so the doc is regenerated, not edited."""
    text = _read_doc(path)
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    games = sum(r["games"] for r in reports)
    body = (
        f"\n```sh\n.venv/bin/python {command_line(opts)} --jobs {opts['jobs']}\n```\n\n"
        f"{games} games in {elapsed:.0f} s.\n\n{simulate.markdown(reports)}\n"
    )
    path.write_text(head + DOC_BEGIN + body + DOC_END + tail, encoding="utf-8")


def command_line(opts) -> str:
    parts = ["manage.py simulate"]
    parts.append(
        "--all-themes"
        if opts["all_themes"]
        else f"--theme {opts['theme'] or 'lornhaven'}"
    )
    parts.append(
        "--all-policies" if opts["all_policies"] else f"--policy {opts['policy']}"
    )
    parts.append(f"--games {opts['games']}")
    for policy, count in opts.get("counts", {}).items():
        parts.append(f"--policy-games {policy}={count}")
    parts.append(f"--seed {opts['seed']}")
    if opts["source"] != "builtin":
        parts.append(f"--source {opts['source']}")
    return " ".join(parts)


class Progress:
    """A progress bar on a terminal, or a line every tenth of the way otherwise.

    `stream` is a command's OutputWrapper, whose write() takes `ending`.
    """

    def __init__(self, stream, label: str):
        self.stream = stream
        self.label = label
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.monotonic()
        self.next_line = 0

    def update(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        if self.live:
            filled = PROGRESS_WIDTH * done // total
            bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
            self.stream.write(
                f"\r{self.label:<22} [{bar}] {done}/{total} {elapsed:6.1f}s",
                ending="",
            )
            self.stream.flush()
            return
        if done * PROGRESS_LINES >= self.next_line * total:
            self.stream.write(f"{self.label}: {done}/{total} games, {elapsed:.1f}s")
            self.next_line = done * PROGRESS_LINES // total + 1

    def finish(self) -> None:
        if self.live:
            self.stream.write("")
            self.stream.flush()
