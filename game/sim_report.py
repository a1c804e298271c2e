"""Simulation reports drawn as HTML: inline SVG charts, no scripts, no network.

The ``simulate`` command writes them into a standalone page; the admin shows
them on a finished simulation job. Every value from a report is escaped.
"""

from __future__ import annotations

import html
from typing import Any

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


STYLE = (
    ".sim-charts{display:flex;flex-wrap:wrap;gap:1em}"
    ".sim-report figure{margin:0}.sim-report figcaption{font-weight:600}"
    ".sim-report table{border-collapse:collapse}"
    ".sim-report td,.sim-report th{padding:2px 8px;text-align:right}"
    ".sim-report td:first-child,.sim-report th:first-child{text-align:left}"
    ".sim-report .pass{color:#2f7d4f}.sim-report .fail{color:#a33a2f}"
)


def report_html(reports: list[dict[str, Any]], balance: dict[str, list]) -> str:
    """The charts of one or more reports, grouped by theme.

    ``balance`` maps a theme slug to the checks ``simulate.balance`` made.
    """
    parts = ["<div class='sim-report'>"]
    for slug in dict.fromkeys(r["theme"]["slug"] for r in reports):
        group = [r for r in reports if r["theme"]["slug"] == slug]
        theme = group[0]["theme"]
        parts.append(
            f"<h2>{html.escape(theme['title'])} ({html.escape(slug)} "
            f"{html.escape(theme['version'])})</h2>"
        )
        parts.append(_ending_bars(group))
        parts.append(_checks(balance.get(slug, [])))
        parts.append(_policy_legend(group))
        parts.append("<div class='sim-charts'>")
        for key in group[0]["trajectories"]["mean"]:
            parts.append(_line_chart(key, group))
        parts.append("</div>")
    parts.append("</div>")
    return "\n".join(parts)


def page_html(document: dict[str, Any]) -> str:
    """A standalone page for a document of reports, balance and command line."""
    return "\n".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            "<title>Fortress Director simulation</title><style>",
            "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}",
            "h2{margin-top:2em}",
            STYLE,
            "</style></head><body>",
            "<h1>Fortress Director simulation</h1>",
            f"<p><code>{html.escape(document['command'])}</code></p>",
            report_html(document["reports"], document["balance"]),
            "</body></html>",
        ]
    )


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
