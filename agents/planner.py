"""The Planner: turns the player's action into proposed safe-function calls.

A free-text order is read by a language model when one is configured; without
one (or when its reply is unusable) the keyword reading below maps common
phrasings onto the theme's player orders. What either proposes still goes
before the Judge like any other call.
"""

from __future__ import annotations

import re
from typing import Any

from agents.copying import clone
from agents.functions import REGISTRY
from agents.functions.helpers import PRESENT
from agents.functions.registry import Arg
from agents.theme import Theme

FREE_TEXT_CHARS = 300
MAX_FREE_TEXT_CALLS = 3

# Plain words for each player order, beyond the theme's own label for it.
# Two-word entries match as a phrase.
ORDER_WORDS: dict[str, tuple[str, ...]] = {
    "archer_volley": ("volley", "volleys", "shoot", "loose", "archers", "railguns"),
    "assign_duty": ("assign", "post", "duty", "station"),
    "barricade": ("barricade", "barricades", "block", "brace", "seal"),
    "brew_remedy": ("brew", "remedy", "remedies", "potion"),
    "bribe_captain": ("bribe", "pay off"),
    "buy_supplies": ("buy", "purchase"),
    "counter_battery": ("counter", "battery", "bombard"),
    "craft_ammo": ("craft", "fletch", "fletchers", "ammunition", "ammo"),
    "dig_defences": ("dig", "ditch", "trench", "earthworks"),
    "evacuate_civilians": ("evacuate", "civilians"),
    "exchange_prisoners": ("prisoners", "exchange"),
    "extinguish_fire": ("extinguish", "douse", "quench", "put out", "buckets", "blaze"),
    "fall_back_to_keep": ("fall back", "retreat", "withdraw"),
    "forage": ("forage", "foraging", "gather"),
    "forge_weapons": ("forge", "weapons", "blades"),
    "fortify_all": ("fortify", "everywhere"),
    "guard_stores": ("guard", "protect", "stores", "granary"),
    "heal_npc": ("heal", "tend", "physician", "doctor", "medic", "wounds"),
    "hold_feast": ("feast", "banquet"),
    "hold_reserve": ("reserve", "reserves"),
    "hold_the_line": ("hold the line", "stand firm"),
    "honour_the_fallen": ("honour", "honor", "fallen", "mourn", "bury"),
    "lay_traps": ("traps", "snares"),
    "levy_tax": ("tax", "levy", "taxes"),
    "man_the_walls": ("man the", "crowd", "defend", "troops", "watch"),
    "offer_terms": ("terms", "surrender"),
    "patch_breach": ("breach", "shore"),
    "purify_water": ("purify", "water", "wells", "boil"),
    "quarantine_sick": ("quarantine", "isolate", "shut"),
    "raise_banner": ("banner", "flag", "colours", "colors"),
    "rally_troops": ("rally", "hearten"),
    "ransom_npc": ("ransom", "buy back"),
    "ration_food": ("ration", "rations", "rationing", "food", "bread", "feed"),
    "rebuild_structure": ("rebuild", "raise", "reconstruct"),
    "recruit_townsfolk": ("recruit", "enlist", "conscript", "townsfolk"),
    "reinforce_structure": ("reinforce", "strengthen", "armour", "armor", "plate"),
    "relief_column": ("relief",),
    "repair_structure": ("repair", "mend", "fix", "patch up", "restore", "masons"),
    "request_aid": ("aid", "help", "allies"),
    "requisition": ("requisition", "seize", "commandeer"),
    "rescue_npc": ("rescue", "free", "save"),
    "rest_npc": ("rest", "sleep", "bed", "relieve", "stand down"),
    "reward_npc": ("reward", "pay", "bonus"),
    "salvage": ("salvage", "scavenge", "strip"),
    "scout_enemy": ("scout", "spy", "reconnoitre", "reconnoiter", "scouting"),
    "sell_stock": ("sell",),
    "send_messenger": ("messenger", "message", "rider", "word"),
    "share_wealth": ("share", "distribute"),
    "smuggle_supplies": ("smuggle", "smugglers"),
    "snipe_officers": ("snipe", "snipers", "officers"),
    "sortie": ("sortie", "sally", "charge"),
    "tell_stories": ("stories", "tales", "songs"),
    "trade_goods": ("trade", "barter", "swap"),
    "treat_disease": ("disease", "sickness", "sick", "fever", "plague", "cure"),
}
# Words too common to tell one order from another.
STOP_WORDS = frozenset(
    "a an the to of and or at on in for with from by our my your their some all "
    "send set give get have let be is are up down it them someone".split()
)
# Numbers an order takes when the words give none.
DEFAULT_NUMBERS = {"amount": 20, "volleys": 2, "troops": 50}
CLAUSE = re.compile(r"[;,.!?]| and then | then | and also | also | and ")
WORD = re.compile(r"[a-z0-9]+")
NUMBER = re.compile(r"\b\d{1,4}\b")


def plan(
    theme: Theme,
    data: dict[str, Any],
    action: dict[str, Any],
    calls: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Proposals for the action; a free-text order's calls are given by the caller."""
    agent, group = "planner", "player"
    if action["type"] == "gm_event":
        agent = group = "gm"
    if action["type"] == "free_text":
        calls = calls or []
    elif action["type"] in ("order", "gm_event"):
        # A game master's event may only set the next scene, calling nothing.
        calls = (
            [{"fn": action["function"], "args": action.get("args", {})}]
            if "function" in action
            else []
        )
    else:
        scene = theme.scenes[data["scene"]["id"]]
        calls = scene["options"][action["option"]]["plan"]
    return [
        {
            "agent": agent,
            "group": group,
            "function": call["fn"],
            "args": clone(call.get("args", {})),
        }
        for call in calls
    ]


def keyword_calls(
    theme: Theme, data: dict[str, Any], text: str
) -> list[dict[str, Any]]:
    """The theme's player orders that the words ask for, with arguments filled in.

    Each clause ("repair the gate, then ration the bread") gives at most one
    call; a clause that names no order, or whose order lacks something it
    needs (whom to rest, which duty), gives none.
    """
    calls: list[dict[str, Any]] = []
    lowered = " " + text.lower().replace("'", "") + " "
    for clause in CLAUSE.split(lowered):
        name = _best_order(theme, f" {clause.strip()} ")
        if name is None or any(call["fn"] == name for call in calls):
            continue
        args = _arguments(theme, data, name, clause)
        if args is not None:
            calls.append({"fn": name, "args": args})
        if len(calls) >= MAX_FREE_TEXT_CALLS:
            break
    return calls


def _order_words(theme: Theme, name: str) -> list[str]:
    """Words that call for an order: its label's, its name's and plain synonyms.

    Words of people's and places' names are left out of the label's, so that
    "Send someone to Sister Hild" does not make every mention of Hild a call
    to heal.
    """
    label = theme.data["functions"].get("order_text", {}).get(name, {}).get("label", "")
    names = _name_words(theme)
    words = [w for w in WORD.findall(label.lower()) if w not in STOP_WORDS | names]
    words += [w for w in name.split("_") if w not in STOP_WORDS]
    return words + list(ORDER_WORDS.get(name, ()))


def _name_words(theme: Theme) -> frozenset[str]:
    words: set[str] = set()
    for table in ("npcs", "structures"):
        for entry in theme.data[table].values():
            words.update(WORD.findall(entry["name"].lower().replace("'", "")))
    return frozenset(words)


def _best_order(theme: Theme, clause: str) -> str | None:
    tokens = set(WORD.findall(clause))
    best, best_score = None, 0
    for name in theme.player_orders:
        score = 0
        for word in _order_words(theme, name):
            if " " in word:
                score += 2 if f" {word} " in clause else 0
            elif word in tokens:
                score += 1
        # Ties go to the first order the theme lists.
        if score > best_score:
            best, best_score = name, score
    return best


def _arguments(
    theme: Theme, data: dict[str, Any], name: str, clause: str
) -> dict[str, Any] | None:
    args: dict[str, Any] = {}
    for arg in REGISTRY[name].args:
        value = _argument(theme, data, name, arg, clause)
        if value is None:
            return None
        args[arg.name] = value
    return args


def _argument(
    theme: Theme, data: dict[str, Any], name: str, arg: Arg, clause: str
) -> Any:
    tokens = set(WORD.findall(clause))
    if arg.type == "int":
        assert arg.min is not None and arg.max is not None
        found = NUMBER.search(clause)
        wanted = int(found.group()) if found else DEFAULT_NUMBERS.get(arg.name, arg.min)
        return min(arg.max, max(arg.min, wanted))
    if arg.type == "str":
        for choice in arg.choices:
            if choice in tokens:
                return choice
        return "half" if name == "ration_food" and "half" in arg.choices else None
    if arg.type == "structure":
        return _named(theme, "structures", tokens) or _likely_structure(
            theme, data, name
        )
    if arg.type == "npc":
        return _named(theme, "npcs", tokens) or _likely_npc(theme, data, name)
    if arg.type == "stockpile":
        return _named(theme, "stockpiles", tokens)
    return None


def _named(theme: Theme, table: str, tokens: set[str]) -> str | None:
    """The id whose name (or id) shares the most words with the clause."""
    best, best_score = None, 0
    for key in sorted(theme.data[table]):
        name = theme.data[table][key]["name"].lower().replace("'", "")
        words = set(WORD.findall(name)) | set(key.split("_"))
        score = len((words - STOP_WORDS) & tokens)
        if score > best_score:
            best, best_score = key, score
    return best


def _likely_structure(theme: Theme, data: dict[str, Any], name: str) -> str | None:
    """Where an order that names no place is most needed."""
    live = data["structures"]
    if name == "extinguish_fire":
        burning = [sid for sid in theme.structure_ids if live[sid]["fire"] > 0]
        return max(burning, key=lambda sid: live[sid]["fire"]) if burning else None
    if name == "rebuild_structure":
        fallen = [s for s in theme.structure_ids if live[s]["status"] == "collapsed"]
        return fallen[0] if fallen else None
    standing = [s for s in theme.structure_ids if live[s]["status"] != "collapsed"]
    if not standing:
        return None
    return min(
        standing, key=lambda s: live[s]["integrity"] * 100 // max(1, live[s]["max"])
    )


def _likely_npc(theme: Theme, data: dict[str, Any], name: str) -> str | None:
    """Who an order that names nobody is most likely meant for."""
    npcs = data["npcs"]
    here = [
        nid
        for nid in theme.npc_ids
        if npcs[nid]["status"] in PRESENT and npcs[nid].get("away", 0) <= 0
    ]
    if not here:
        return None
    if name == "rest_npc":
        return max(here, key=lambda nid: npcs[nid]["fatigue"])
    if name == "heal_npc":
        return min(here, key=lambda nid: npcs[nid]["health"])
    if name == "assign_duty":
        return None
    # Anyone may be sent: the freshest of those fit for it.
    fit = [nid for nid in here if npcs[nid]["status"] == "active"] or here
    return min(fit, key=lambda nid: npcs[nid]["fatigue"])
