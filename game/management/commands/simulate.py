"""Plays many seeded games per theme and policy and reports the balance.

Themes come from the packs shipped in agents/themes/ (no database needed);
``--source db`` plays the newest enabled version stored by ``load_themes``.
Writes a JSON report and a self-contained HTML chart to ``--out``.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import agents
from agents import simulate
from agents.policies import POLICIES

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
        html_path.write_text(render_html(document), encoding="utf-8")
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


# --- The HTML chart: inline SVG, no scripts, no network. ---

VICTORY_COLOURS = ("#2f7d4f", "#4fa36b", "#7cc28f", "#a9dbb4", "#cfeed6")
DEFEAT_COLOURS = ("#a33a2f", "#c4574a", "#db7f6f", "#eaa79a", "#f4cdc5", "#8a2f26")
POLICY_COLOURS = {
    "random": "#888888",
    "greedy": "#1f5fa8",
    "cautious": "#c08a1e",
    "scripted": "#7a3fa0",
}
CHART_W = 320
CHART_H = 150
PAD = 40


def render_html(document: dict[str, Any]) -> str:
    reports = document["reports"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Fortress Director simulation</title><style>",
        "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}",
        "h2{margin-top:2em}.charts{display:flex;flex-wrap:wrap;gap:1em}",
        "figure{margin:0}figcaption{font-weight:600}",
        "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}",
        "td:first-child,th:first-child{text-align:left}",
        ".pass{color:#2f7d4f}.fail{color:#a33a2f}",
        "</style></head><body>",
        "<h1>Fortress Director simulation</h1>",
        f"<p><code>{html.escape(document['command'])}</code></p>",
    ]
    slugs = list(dict.fromkeys(r["theme"]["slug"] for r in reports))
    for slug in slugs:
        group = [r for r in reports if r["theme"]["slug"] == slug]
        theme = group[0]["theme"]
        parts.append(
            f"<h2>{html.escape(theme['title'])} ({html.escape(slug)} "
            f"{html.escape(theme['version'])})</h2>"
        )
        parts.append(_ending_bars(group))
        parts.append(_checks(document["balance"].get(slug, [])))
        parts.append(_policy_legend(group))
        parts.append("<div class='charts'>")
        for key in group[0]["trajectories"]["mean"]:
            parts.append(_line_chart(key, group))
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _ending_colours(endings: list[dict[str, Any]]) -> dict[str, str]:
    colours = {}
    wins = losses = 0
    for ending in endings:
        if ending["kind"] == "victory":
            colours[ending["id"]] = VICTORY_COLOURS[wins % len(VICTORY_COLOURS)]
            wins += 1
        else:
            colours[ending["id"]] = DEFEAT_COLOURS[losses % len(DEFEAT_COLOURS)]
            losses += 1
    return colours


def _ending_bars(group: list[dict[str, Any]]) -> str:
    """One stacked bar of ending shares per policy, and a legend."""
    colours = _ending_colours(group[0]["endings"])
    label_w, bar_w, row_h = 90, 600, 26
    height = row_h * len(group) + 10
    svg = [
        f"<svg role='img' aria-label='Ending shares by policy' "
        f"width='{label_w + bar_w + 10}' height='{height}' "
        "xmlns='http://www.w3.org/2000/svg'>"
    ]
    for row, report in enumerate(group):
        y = 5 + row * row_h
        svg.append(
            f"<text x='0' y='{y + 16}'>{html.escape(report['policy'])} "
            f"{report['victory_share']:.0f}%</text>"
        )
        x = float(label_w)
        for ending in report["endings"]:
            width = bar_w * ending["share"] / 100
            if width <= 0:
                continue
            svg.append(
                f"<rect x='{x:.1f}' y='{y}' width='{width:.1f}' height='{row_h - 6}' "
                f"fill='{colours[ending['id']]}'><title>"
                f"{html.escape(ending['title'])}: {ending['share']}%</title></rect>"
            )
            x += width
    svg.append("</svg>")

    legend = ["<table><tr><th>Ending</th><th>Kind</th>"]
    legend += [f"<th>{html.escape(r['policy'])}</th>" for r in group]
    legend.append("</tr>")
    for index, ending in enumerate(group[0]["endings"]):
        legend.append(
            f"<tr><td><span style='color:{colours[ending['id']]}'>&#9632;</span> "
            f"{html.escape(ending['title'])}</td><td>{ending['kind']}</td>"
        )
        legend += [f"<td>{r['endings'][index]['share']:.1f}%</td>" for r in group]
        legend.append("</tr>")
    legend.append("<tr><td>Mean length</td><td></td>")
    legend += [f"<td>{r['length']['mean']:.1f}</td>" for r in group]
    legend.append("</tr></table>")
    return "".join(svg) + "".join(legend)


def _policy_legend(group: list[dict[str, Any]]) -> str:
    names = [
        f"<span style='color:{POLICY_COLOURS.get(r['policy'], '#333')}'>&#9644; "
        f"{html.escape(r['policy'])}</span>"
        for r in group
    ]
    return "<p>Mean per turn, over the games still running: " + " ".join(names) + "</p>"


def _checks(checks: list[dict[str, Any]]) -> str:
    items = []
    for check in checks:
        mark = "pass" if check["ok"] else "fail"
        items.append(
            f"<li class='{mark}'>{mark.upper()}: {html.escape(check['bar'])} "
            f"({html.escape(check['detail'])})</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def _line_chart(key: str, group: list[dict[str, Any]]) -> str:
    """Mean of one number per turn, a line per policy."""
    series = [(r["policy"], r["trajectories"]["mean"][key]) for r in group]
    turns = max(len(values) for _, values in series)
    low = min(min(values) for _, values in series)
    high = max(max(values) for _, values in series)
    span = (high - low) or 1
    inner_w = CHART_W - PAD - 10
    inner_h = CHART_H - PAD - 10

    def point(turn: int, value: float) -> str:
        x = PAD + inner_w * turn / max(turns - 1, 1)
        y = 10 + inner_h * (high - value) / span
        return f"{x:.1f},{y:.1f}"

    svg = [
        f"<figure><figcaption>{html.escape(key)}</figcaption>",
        f"<svg role='img' aria-label='{html.escape(key)} per turn' width='{CHART_W}' "
        f"height='{CHART_H}' xmlns='http://www.w3.org/2000/svg'>",
        f"<line x1='{PAD}' y1='{CHART_H - PAD + 10}' x2='{CHART_W - 10}' "
        f"y2='{CHART_H - PAD + 10}' stroke='#999'/>",
        f"<text x='0' y='16' font-size='10'>{high:.0f}</text>",
        f"<text x='0' y='{CHART_H - PAD + 10}' font-size='10'>{low:.0f}</text>",
        f"<text x='{PAD}' y='{CHART_H - 4}' font-size='10'>turn 0</text>",
        f"<text x='{CHART_W - 50}' y='{CHART_H - 4}' font-size='10'>"
        f"turn {turns - 1}</text>",
    ]
    for policy, values in series:
        points = " ".join(point(t, v) for t, v in enumerate(values))
        colour = POLICY_COLOURS.get(policy, "#333")
        svg.append(
            f"<polyline fill='none' stroke='{colour}' stroke-width='2' "
            f"points='{points}'><title>{html.escape(policy)}</title></polyline>"
        )
    svg.append("</svg></figure>")
    return "".join(svg)
