"""Small presentation helpers for the game templates: bar widths and id labels."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def percent(value, maximum, minimum=0):
    """Width of a bar, 0-100, for a value within [minimum, maximum].

    Returns an integer so the inline style never carries a locale-dependent
    decimal separator.
    """
    try:
        value, maximum, minimum = int(value), int(maximum), int(minimum)
    except (TypeError, ValueError):
        return 0
    span = maximum - minimum
    if span <= 0:
        return 0
    return max(0, min(100, (value - minimum) * 100 // span))


@register.filter
def humanize_id(value):
    """Turn an identifier such as ``north_gate`` or ``npc:maren`` into words."""
    if value is None:
        return ""
    return str(value).replace("_", " ").replace(":", " ")


# What the player reads while an agent's model is working on their turn.
AGENT_AT_WORK = {
    "planner": "your orders are being read",
    "characters": "your people are having their say",
    "events": "the next hours are taking shape",
    "narrator": "the chronicle is being written",
}


@register.filter
def agent_at_work(agent):
    """A pending turn's working agent in the player's words."""
    return AGENT_AT_WORK.get(agent, "")


@register.simple_tag
def admin_overview():
    """Today's figures for the admin's front page."""
    from game.selectors import overview_today

    return overview_today()


@register.simple_tag
def map_radius(integrity, maximum):
    """The filled disc of a structure on the map: its share of full strength."""
    try:
        share = max(0, min(int(integrity), int(maximum))) / max(int(maximum), 1)
    except (TypeError, ValueError):
        return 0
    return round(5 * share, 2)


@register.simple_tag
def trend(trends, key):
    """A number's change over the last turn: an arrow and the amount, or nothing."""
    if not trends:
        return ""
    delta = trends.get(key)
    if not isinstance(delta, int) or delta == 0:
        return ""
    word, arrow = ("up", "▲") if delta > 0 else ("down", "▼")
    return format_html(
        ' <span class="trend trend-{}" title="{} {} since the last turn">'
        '<span aria-hidden="true">{}</span>'
        '<span class="visually-hidden">{} {}</span>{}</span>',
        word,
        word.capitalize(),
        abs(delta),
        arrow,
        word,
        abs(delta),
        f"{delta:+d}",
    )


@register.filter
def has_refusal(proposals):
    """Whether the Judge refused any proposal of a turn."""
    return any(
        isinstance(p, dict) and p.get("verdict") == "rejected" for p in proposals or ()
    )


@register.simple_tag
def posted(order_error, name, fallback):
    """The value a refused order was sent with for one argument, or the fallback."""
    values = (order_error or {}).get("values") or {}
    return values.get(name, fallback)
