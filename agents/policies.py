"""Built-in players for simulation and balance: random, greedy, cautious, scripted.

A policy looks at a state and returns an action the engine accepts. Every
policy is deterministic for a given state: its randomness comes from its own
named stream ("policy"), which the engine never opens, so a policy's draws
never shift the game's own numbers.
"""

from __future__ import annotations

from typing import Any

from agents.engine import check_action, resolve_turn
from agents.errors import ActionError, EngineError
from agents.functions import REGISTRY
from agents.rng import Stream
from agents.state import Outcome, State
from agents.theme import Theme

POLICIES = ("random", "greedy", "cautious", "scripted")
STREAM = "policy"

RISK_ORDER = {"low": 0, "medium": 1, "high": 2}

# Score weights. Percentages (0-100) are multiplied by these, so a structure
# at full integrity is worth 400 and a living NPC 60 plus half its health.
STRUCTURE_WEIGHT = 4
ROLE_METRIC_WEIGHT = 3
OTHER_METRIC_WEIGHT = 2
STOCK_WEIGHT = 1
VITAL_STOCK_WEIGHT = 4
NPC_ALIVE = 60
ENEMY_WEIGHT = 4
HUNGER_WEIGHT = 2
DISEASE_WEIGHT = 2
GOAL_FLAG = 300
ENDED_DEFEAT = -100_000
ENDED_VICTORY = 100_000

# Thresholds of the scripted commander.
LOW_STRUCTURE_PERCENT = 50
HURT_HEALTH = 50
TIRED_FATIGUE = 70


Decision = tuple[dict[str, Any], "Outcome | None"]


def choose(
    policy: str, state: State, rng: Stream | int | None = None
) -> dict[str, Any]:
    """The action `policy` takes on `state`.

    `rng` is a Stream, or a seed for one; by default the stream is opened from
    the game's own seed and turn, so replaying a game replays its choices.
    """
    return decide(policy, state, rng)[0]


def decide(policy: str, state: State, rng: Stream | int | None = None) -> Decision:
    """The action, and its Outcome when the policy already resolved it.

    Lookahead policies resolve every candidate; handing back the chosen one's
    outcome spares a batch runner from resolving the same turn twice.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; one of {', '.join(POLICIES)}")
    if state.ended:
        raise ActionError("the game has ended; no more actions are accepted", "action")
    stream = _stream(state, rng)
    if policy == "random":
        return _random(state, stream), None
    if policy == "greedy":
        action, _, outcome = _best_option(state, stream)
        return action, outcome
    if policy == "cautious":
        return _cautious(state), None
    return _scripted(state, stream)


def _stream(state: State, rng: Stream | int | None) -> Stream:
    if isinstance(rng, Stream):
        return rng
    seed = state.data["seed"] if rng is None else rng
    return Stream(seed, state.data["turn"], STREAM)


def _options(state: State) -> list[dict[str, Any]]:
    return list(state.data["scene"]["options"])


def _random(state: State, stream: Stream) -> dict[str, Any]:
    return {"type": "choose", "option": stream.below(len(_options(state)))}


def _cautious(state: State) -> dict[str, Any]:
    """Lowest risk, then lowest total visible cost, then the first listed."""

    def key(option: dict[str, Any]) -> tuple[int, int, int]:
        cost = sum(c["amount"] for c in option.get("costs", []))
        return RISK_ORDER.get(option.get("risk", "medium"), 1), cost, option["index"]

    best = min(_options(state), key=key)
    return {"type": "choose", "option": best["index"]}


def _best_option(
    state: State, stream: Stream
) -> tuple[dict[str, Any], int, Outcome | None]:
    """The option whose next state scores highest; ties are broken by the stream."""
    scored = []
    for option in _options(state):
        action = {"type": "choose", "option": option["index"]}
        points, outcome = _resolve(state, action)
        scored.append((points, action, outcome))
    top = max(points for points, _, _ in scored)
    _, action, outcome = stream.choice([c for c in scored if c[0] == top])
    return action, top, outcome


def outcome_score(state: State, action: dict[str, Any]) -> int:
    """The score of the state one action leads to; a refused action scores lowest."""
    return _resolve(state, action)[0]


def _resolve(state: State, action: dict[str, Any]) -> tuple[int, Outcome | None]:
    try:
        outcome = resolve_turn(state, action)
    except (ActionError, EngineError):
        return ENDED_DEFEAT * 10, None
    return score(outcome.state), outcome


def score(state: State) -> int:
    """A fixed integer judgement of how well the defence stands."""
    theme = state.theme
    spec = theme.data
    data = state.data
    total = 0

    for live in data["structures"].values():
        total += STRUCTURE_WEIGHT * _percent(live["integrity"], live["max"])

    directions = _directions(theme)
    for mid, value in data["metrics"].items():
        direction = directions.get(mid, 0)
        if not direction:
            continue
        meta = spec["metrics"][mid]
        weight = (
            ROLE_METRIC_WEIGHT if mid in _role_metrics(theme) else OTHER_METRIC_WEIGHT
        )
        total += (
            direction
            * weight
            * _percent(value - meta["min"], meta["max"] - meta["min"])
        )

    vital = _vital_stocks(theme)
    for sid, value in data["stockpiles"].items():
        weight = VITAL_STOCK_WEIGHT if sid in vital else STOCK_WEIGHT
        total += weight * _percent(value, spec["stockpiles"][sid]["max"])

    for live in data["npcs"].values():
        if live["status"] in ("active", "wounded"):
            total += NPC_ALIVE + live["health"] // 2

    total -= ENEMY_WEIGHT * _percent(
        data["enemy"]["strength"], spec["enemy"]["strength"]
    )
    total -= HUNGER_WEIGHT * data["world"].get("hunger", 0)
    total -= DISEASE_WEIGHT * data["world"].get("disease", 0)

    flags = data["flags"]
    for name, op, value, sign in _goal_flags(theme):
        if _compare(flags.get(name, 0), op, value):
            total += sign * GOAL_FLAG

    ending = data.get("ending")
    if ending:
        total += ENDED_VICTORY if ending.get("kind") == "victory" else ENDED_DEFEAT
    return total


def _percent(value: int, maximum: int) -> int:
    return value * 100 // maximum if maximum > 0 else 0


def _role_metrics(theme: Theme) -> set[str]:
    return {theme.roles[r] for r in ("morale", "garrison") if r in theme.roles}


_DIRECTIONS: dict[str, dict[str, int]] = {}


def _directions(theme: Theme) -> dict[str, int]:
    # Keyed by content hash: the same pack always reads the same way.
    found = _DIRECTIONS.get(theme.content_hash)
    if found is None:
        found = _DIRECTIONS[theme.content_hash] = metric_directions(theme)
    return found


def metric_directions(theme: Theme) -> dict[str, int]:
    """+1 where more of a metric is better, -1 where less is, 0 when unknown.

    Read from the endings: a defeat that fires when a metric falls low means
    the metric is wanted high, and the reverse for victories. The morale and
    garrison roles are wanted high whatever the endings say.
    """
    votes: dict[str, int] = {}
    for ending in theme.data["endings"]:
        sign = 1 if ending["kind"] == "defeat" else -1
        for cond in _conditions(ending.get("conditions", [])):
            ref = cond.get("ref", "")
            if not isinstance(ref, str) or not ref.startswith("metrics."):
                continue
            op = cond.get("op")
            if op in ("<", "<="):
                votes[ref[8:]] = votes.get(ref[8:], 0) + sign
            elif op in (">", ">="):
                votes[ref[8:]] = votes.get(ref[8:], 0) - sign
    out = {mid: (vote > 0) - (vote < 0) for mid, vote in votes.items()}
    for mid in _role_metrics(theme):
        out[mid] = 1
    return out


_VITAL: dict[str, set[str]] = {}


def _vital_stocks(theme: Theme) -> set[str]:
    """Stockpiles a defeat ending watches: running out of them loses the game."""
    found = _VITAL.get(theme.content_hash)
    if found is None:
        found = _VITAL[theme.content_hash] = {
            cond["ref"][11:]
            for ending in theme.data["endings"]
            if ending["kind"] == "defeat"
            for cond in _conditions(ending.get("conditions", []))
            if isinstance(cond.get("ref"), str)
            and cond["ref"].startswith("stockpiles.")
        }
    return found


_GOALS: dict[str, list[tuple[str, str, Any, int]]] = {}


def _goal_flags(theme: Theme) -> list[tuple[str, str, Any, int]]:
    """Flag conditions of the endings: (flag, op, value, +1 victory / -1 defeat).

    A victory that needs a flag makes setting it worth points now, although
    the ending only comes at the turn limit.
    """
    found = _GOALS.get(theme.content_hash)
    if found is not None:
        return found
    goals: dict[tuple[str, str, str, int], tuple[str, str, Any, int]] = {}
    for ending in theme.data["endings"]:
        sign = 1 if ending["kind"] == "victory" else -1
        for cond in _conditions(ending.get("conditions", [])):
            ref = cond.get("ref", "")
            if isinstance(ref, str) and ref.startswith("flags."):
                goal = (ref[6:], cond["op"], cond["value"], sign)
                goals[(goal[0], goal[1], repr(goal[2]), sign)] = goal
    found = _GOALS[theme.content_hash] = [goals[key] for key in sorted(goals)]
    return found


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "in":
        return left in right
    if type(left) is not type(right):
        return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _conditions(node: Any) -> list[dict[str, Any]]:
    """The plain conditions under a list or "any"; negated ones are skipped."""
    if isinstance(node, list):
        return [c for item in node for c in _conditions(item)]
    if isinstance(node, dict):
        if "any" in node:
            return _conditions(node["any"])
        if "ref" in node:
            return [node]
    return []


def _scripted(state: State, stream: Stream) -> Decision:
    """A commander's rules: mend what is low, tend the hurt and the tired.

    An order costs the turn's scene, so the commander never gives two in a
    row, and gives one only when the turn it leads to scores at least as
    well as the best option's; otherwise it plays the best option.
    """
    last = state.data.get("last_action") or {}
    best, best_points, best_outcome = _best_option(state, stream)
    if last.get("type") == "order":
        return best, best_outcome
    for order in _wanted_orders(state):
        try:
            check_action(state, order)
        except ActionError:
            continue
        points, outcome = _resolve(state, order)
        if points >= best_points:
            return order, outcome
    return best, best_outcome


def _wanted_orders(state: State) -> list[dict[str, Any]]:
    """Candidate orders, most urgent first, limited to the theme's player orders."""
    theme = state.theme
    data = state.data
    allowed = set(theme.player_orders)
    out: list[dict[str, Any]] = []

    keep = theme.roles.get("keep")
    structures = sorted(
        data["structures"].items(),
        key=lambda item: (
            item[0] != keep,
            _percent(item[1]["integrity"], item[1]["max"]),
            item[0],
        ),
    )
    for sid, live in structures:
        if live["status"] == "collapsed":
            if "rebuild_structure" in allowed:
                out.append(_order("rebuild_structure", structure=sid))
            continue
        if live.get("fire", 0) > 0 and "extinguish_fire" in allowed:
            out.append(_order("extinguish_fire", structure=sid))
        if _percent(live["integrity"], live["max"]) < LOW_STRUCTURE_PERCENT:
            if "repair_structure" in allowed:
                amount = _clamp(theme, "repair_structure", "amount", 40)
                out.append(_order("repair_structure", structure=sid, amount=amount))

    people = sorted(data["npcs"].items())
    for nid, live in people:
        if live["status"] not in ("active", "wounded") or live.get("away", 0) > 0:
            continue
        if live["health"] < HURT_HEALTH and "heal_npc" in allowed:
            out.append(_order("heal_npc", npc=nid))
    for nid, live in people:
        if live["status"] not in ("active", "wounded") or live.get("away", 0) > 0:
            continue
        if live["fatigue"] >= TIRED_FATIGUE and "rest_npc" in allowed:
            out.append(_order("rest_npc", npc=nid))
    return out


def _order(function: str, **args: Any) -> dict[str, Any]:
    return {"type": "order", "function": function, "args": args}


def _clamp(theme: Theme, function: str, arg: str, wanted: int) -> int:
    spec = REGISTRY[function].arg_index[arg]
    low = spec.min if spec.min is not None else wanted
    high = spec.max if spec.max is not None else wanted
    return max(low, min(high, wanted))
