"""The Narrator: the turn told in paragraphs, from the effects that really happened."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from agents.rng import Stream
from agents.templates import fill
from agents.theme import Theme

# Effect keys the rules can report, with a plain fallback for themes that
# give no text of their own.
EFFECT_KEYS: dict[str, str] = {
    "structure_damaged": "{structure} takes damage.",
    "structure_collapsed": "{structure} collapses.",
    "structure_repaired": "Work crews restore {structure}.",
    "structure_reinforced": "{structure} is made stronger.",
    "structure_rebuilt": "{structure} rises again from its ruin.",
    "fire_started": "Fire takes hold of {structure}.",
    "fire_spread": "The fire leaps to {structure}.",
    "fire_out": "The fire at {structure} dies.",
    "assault_repelled": "The attack on {structure} is thrown back.",
    "enemy_losses": "The enemy loses {amount} of its strength.",
    "engine_destroyed": "A siege engine is wrecked; {amount} remain.",
    "garrison_losses": "{amount} defenders are lost.",
    "stock_lost": "{amount} of the {stockpile} is lost.",
    "stock_gained": "{amount} {stockpile} is added to the stores.",
    "raid_foiled": "Raiders come for the {stockpile} and leave with nothing.",
    "morale_up": "Spirits lift.",
    "morale_down": "Spirits sink.",
    "npc_wounded": "{npc} is wounded.",
    "npc_killed": "{npc} is dead.",
    "npc_healed": "{npc} is back on their feet.",
    "npc_rested": "{npc} rests at last.",
    "npc_deserted": "{npc} is gone in the night.",
    "npc_departed": "{npc} rides out for help.",
    "npc_returned": "{npc} returns.",
    "relief_called": "{npc} brings word that help is coming.",
    "recruits": "{amount} townsfolk take up arms.",
    "rations_changed": "Rations are set to {level}.",
    "hunger": "Hunger gnaws at the garrison.",
    "weather_changed": "The weather turns: {weather}.",
    "disease_spread": "Sickness spreads.",
    "disease_treated": "The sick are tended.",
    "omen": "Something strange is seen, and everyone reads it differently.",
    "parley": "{npc} speaks with the enemy under a white flag.",
    "scouted": "{npc} comes back with news of the enemy camp.",
    "duty_assigned": "{npc} takes up a new post: {duty}.",
    "walls_manned": "{amount} defenders line the walls.",
    "barricaded": "Barricades go up at {structure}.",
    "oil_ready": "Cauldrons are set to boil above {structure}.",
    "ambush_set": "{npc} lays a trap for the next attack.",
    "sortie": "{npc} leads a sally out of the gates.",
    "vigil": "A vigil is kept through the night.",
    "last_stand": "Every hand is called to the walls for a last stand.",
    "npc_encouraged": "{npc} stands a little straighter.",
    "npc_rebuked": "{npc} takes the rebuke in silence.",
    "npc_rewarded": "{npc} is rewarded.",
    "npc_captured": "{npc} is taken alive by the enemy.",
    "npc_ransomed": "{npc} is bought back from the enemy.",
    "npc_rescued": "{npc} is snatched back from the enemy camp.",
    "npc_exchanged": "{npc} comes home in an exchange of prisoners.",
    "rescue_failed": "The attempt to free {npc} fails.",
    "captive_killed": "Word comes that the enemy has killed {npc}.",
}
# Leads for a paragraph that would otherwise repeat; plain enough for any world.
AGAIN = (
    "Again.",
    "Once more.",
    "Not for the first time.",
    "And still it goes on.",
    "Nobody is surprised any longer.",
    "It is becoming familiar.",
)
DIGEST_CHARS = 10
# The opening of a turn whose free-text order named nothing the garrison can do.
UNCLEAR_ORDER = (
    "The order is heard, but nobody can make out what is wanted; "
    "the day passes while the garrison waits for clearer words."
)

MAX_EFFECT_PARAGRAPHS = 8
USED_MEMORY = 48
# Small, constant notes are folded into their totals rather than repeated.
SUMMED = ("enemy_losses", "garrison_losses", "morale_up", "morale_down", "hunger")


def merge(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    order: list[tuple[str, str]] = []
    for note in notes:
        subject = str(
            note.get("structure") or note.get("npc") or note.get("stockpile") or ""
        )
        key = (note["key"], subject)
        if key in merged:
            if "amount" in note:
                if note["key"] == "engine_destroyed" or note["key"] == "hunger":
                    merged[key]["amount"] = note["amount"]
                else:
                    merged[key]["amount"] = (
                        merged[key].get("amount", 0) + note["amount"]
                    )
            continue
        merged[key] = dict(note)
        order.append(key)
    # Morale up and down in one turn read as noise; keep only the net change.
    up = merged.get(("morale_up", ""), {}).get("amount", 0)
    down = merged.get(("morale_down", ""), {}).get("amount", 0)
    if up and down:
        keep = "morale_up" if up > down else "morale_down"
        drop = "morale_down" if keep == "morale_up" else "morale_up"
        merged[(keep, "")]["amount"] = abs(up - down)
        order.remove((drop, ""))
    # A point of morale drifting away each night is not news.
    return [
        merged[key]
        for key in order
        if not (key[0] in ("morale_up", "morale_down") and merged[key]["amount"] < 2)
    ]


def _pick(key: str, texts: list[str], said: set[str], roll: Stream) -> tuple[int, str]:
    """A text not said lately if there is one; `said` holds the recent keys."""
    fresh = [i for i in range(len(texts)) if f"{key}:{i}" not in said]
    index = roll.choice(fresh) if fresh else roll.below(len(texts))
    return index, texts[index]


def tell(
    theme: Theme,
    data: dict[str, Any],
    opening: str,
    notes: list[dict[str, Any]],
    roll: Stream,
) -> list[str]:
    """Paragraphs for this turn; remembers templates and paragraphs in `data`.

    No paragraph is told twice in a game: when every template of an effect
    has been said in this exact form, the paragraph is composed afresh with a
    lead and a detail of the place; if even that is spent it is left out
    (the effects diff still records what happened).
    """
    told = data.setdefault("told", [])
    spec = theme.data["narrative"]
    details = list(spec["atmosphere"]["sights"]) + list(spec["atmosphere"]["sounds"])
    paragraphs: list[str] = []

    # A set answers "told already?" without scanning the game's whole list
    # for every candidate form; the list stays the record kept in the state.
    told_set = set(told)

    def say(templates: list[str], local: dict[str, Any]) -> None:
        forms = _forms(templates, local, details, data, theme, roll)
        text = _fresh(forms, told, told_set)
        if text:
            paragraphs.append(text)

    if opening:
        say([opening], {})
    effects = spec.get("effects", {})
    used = data.setdefault("narrated", [])
    said = set(used)  # kept in step with `used` until it is trimmed below
    for note in merge(notes)[:MAX_EFFECT_PARAGRAPHS]:
        key = note["key"]
        texts = effects.get(key) or [EFFECT_KEYS[key]]
        index, _ = _pick(key, texts, said, roll)
        used.append(f"{key}:{index}")
        said.add(f"{key}:{index}")
        local = {k: v for k, v in note.items() if k != "key"}
        order = [index] + [i for i in range(len(texts)) if i != index]
        say([texts[i] for i in order], local)
    if len(used) > USED_MEMORY:
        del used[: len(used) - USED_MEMORY]
    return paragraphs


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def _fresh(forms: Iterator[str], told: list[str], told_set: set[str]) -> str | None:
    """The first form of the paragraph not yet told this game, remembered.

    `told_set` holds the same digests as `told` and is kept in step with it.
    """
    for text in forms:
        digest = _digest(text)
        if digest not in told_set:
            told.append(digest)
            told_set.add(digest)
            return text
    return None


def _forms(
    templates: list[str],
    local: dict[str, Any],
    details: list[str],
    data: dict[str, Any],
    theme: Theme,
    roll: Stream,
) -> Iterator[str]:
    """Ever more composed forms: plain, with a detail, with a lead, with both.

    Lazy, so the usual case (the first template is fresh) fills one text.
    """
    variants = []
    for template in templates:
        text = fill(template, data, theme.data, local)
        variants.append(text)
        yield text
    # A shuffle's draws depend only on the length of the list, so shuffling
    # positions gives the same order as shuffling the filled details; each
    # detail is then filled only when a form first needs it.
    order = list(range(len(details)))
    leads = list(AGAIN)
    roll.shuffle(order)
    roll.shuffle(leads)
    extras: list[str | None] = [None] * len(order)

    def extra(k: int) -> str:
        text = extras[k]
        if text is None:
            text = extras[k] = fill(details[order[k]], data, theme.data)
        return text

    for text in variants:
        for k in range(len(order)):
            yield f"{text} {extra(k)}"
        for lead in leads:
            yield f"{lead} {text}"
        for lead in leads:
            for k in range(len(order)):
                yield f"{lead} {text} {extra(k)}"


def order_text(
    theme: Theme, data: dict[str, Any], label: str, description: str, roll: Stream
) -> str:
    """The opening of a turn spent on a direct order.

    Without the theme's own templates there is no opening at all: the effects
    tell what the order did, and a function's description is not story text.
    """
    texts = theme.data["narrative"].get("order")
    if not texts:
        return ""
    local = {"order": label, "description": description}
    return fill(roll.choice(texts), data, theme.data, local)


def mood(theme: Theme, data: dict[str, Any]) -> str:
    tension = data["director"]["tension"]
    morale = data["metrics"][theme.roles["morale"]]
    score = tension + max(0, 50 - morale)
    if score < 25:
        return "calm"
    if score < 50:
        return "tense"
    if score < 80:
        return "grim"
    return "desperate"


def atmosphere(theme: Theme, data: dict[str, Any], roll: Stream) -> dict[str, str]:
    """Mood, a sight, a sound and, where the theme describes it, the weather.

    Sights, sounds and skies not used lately come first.
    """
    spec = theme.data["narrative"]["atmosphere"]
    name = mood(theme, data)
    used = data.setdefault("narrated", [])
    out = {"mood": name, "text": fill(spec["mood"][name], data, theme.data)}
    said = set(used)  # kept in step with `used`
    for part in ("sights", "sounds"):
        index, text = _pick(part, spec[part], said, roll)
        used.append(f"{part}:{index}")
        said.add(f"{part}:{index}")
        out[part] = fill(text, data, theme.data)
    weather = data["world"]["weather"]
    skies = spec.get("weather", {}).get(weather)
    if skies:
        index, text = _pick(f"weather:{weather}", skies, said, roll)
        used.append(f"weather:{weather}:{index}")
        out["weather"] = fill(text, data, theme.data)
    return out
