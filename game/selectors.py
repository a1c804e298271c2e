"""Reads of stored games and themes; nothing here writes a row.

Callers get querysets or plain dicts and never need to know how access rules
are expressed in SQL.
"""

import uuid
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Q, QuerySet

import agents
from game.errors import NotFound, ThemeUnavailable, WatchOnly
from game.models import GameSession, PendingTurn, Theme, Turn
from game.voices import voice_summary


def _version_key(version: str):
    # Versions are MAJOR.MINOR.PATCH; anything unparsable sorts first so that
    # a malformed row never shadows a well-formed one.
    try:
        return (1, tuple(int(part) for part in version.split(".")))
    except ValueError:
        return (0, (version,))


def theme_list() -> QuerySet[Theme]:
    """Enabled themes, only the newest enabled version of each slug."""
    newest: dict[str, tuple] = {}
    for pk, slug, version in Theme.objects.filter(enabled=True).values_list(
        "pk", "slug", "version"
    ):
        key = _version_key(version)
        if slug not in newest or key > newest[slug][0]:
            newest[slug] = (key, pk)
    ids = [pk for _, pk in newest.values()]
    return Theme.objects.filter(pk__in=ids).order_by("slug")


def theme_current(*, slug: str) -> Theme:
    """The version of a theme that new games start on; ThemeUnavailable if none."""
    theme = theme_list().filter(slug=slug).first()
    if theme is None:
        raise ThemeUnavailable(f'No enabled theme "{slug}".', details={"theme": slug})
    return theme


@lru_cache(maxsize=32)
def _compiled(pk: int, content_hash: str, version: str):
    # Keyed by content hash so an edited row is recompiled, never served stale.
    return agents.load_theme(Theme.objects.get(pk=pk).data)


def theme_engine(theme: Theme):
    """The engine's compiled form of a stored theme, cached per content."""
    return _compiled(theme.pk, theme.content_hash, theme.version)


def parse_uuid(value) -> uuid.UUID | None:
    """A UUID from whatever a client sent, or None if it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def sessions_with_theme() -> QuerySet[GameSession]:
    """Sessions with their theme and owner, but not the theme's pack.

    The pack is a few hundred kilobytes of JSON that only compiling the
    theme needs, and theme_engine() caches that; loading it with every
    session would decode it again on every request.
    """
    return GameSession.objects.select_related("theme", "owner").defer("theme__data")


def session_get(*, user, session_id) -> GameSession:
    """A session the user may see: their own, or anyone's public one.

    Anything else is reported as missing, so that a private game's existence
    never leaks to someone who may not see it.
    """
    pk = parse_uuid(session_id)
    if pk is None:
        raise NotFound("No such game.", details={"session": str(session_id)})
    visible = Q(visibility=GameSession.Visibility.PUBLIC)
    if user is not None and user.is_authenticated:
        visible |= Q(owner=user)
    session = sessions_with_theme().filter(visible, pk=pk).first()
    if session is None:
        raise NotFound("No such game.", details={"session": str(session_id)})
    return session


def session_for_turn(*, user, session_id) -> GameSession:
    """The user's own session, row-locked for the caller's transaction.

    Someone else's public game is WatchOnly (spectators watch a game, they do
    not play it); a private one is missing. This is the read every turn
    submission starts with, so it asks for no more than a turn needs.
    """
    pk = parse_uuid(session_id)
    if pk is None:
        raise NotFound("No such game.", details={"session": str(session_id)})
    try:
        return (
            GameSession.objects.select_related("theme")
            .defer("theme__data")
            .select_for_update(of=("self",))
            .get(pk=pk, owner=user)
        )
    except GameSession.DoesNotExist:
        public = GameSession.objects.filter(
            pk=pk, visibility=GameSession.Visibility.PUBLIC
        )
        if public.exists():
            raise WatchOnly(details={"session": str(session_id)}) from None
        raise NotFound("No such game.", details={"session": str(session_id)}) from None


def session_list_for_user(*, user) -> QuerySet[GameSession]:
    return sessions_with_theme().filter(owner=user).order_by("-updated")


def session_list_public() -> QuerySet[GameSession]:
    """Public games, most recently played first, for spectators."""
    return (
        sessions_with_theme()
        .filter(visibility=GameSession.Visibility.PUBLIC)
        .order_by("-updated")
    )


def session_meta(session: GameSession) -> dict:
    """The stored facts about a session, without the engine's view of it."""
    return {
        "id": str(session.id),
        "owner": session.owner.get_username(),
        "theme": {
            "slug": session.theme.slug,
            "version": session.theme.version,
            "title": session.theme.title,
        },
        "seed": session.seed,
        "status": session.status,
        "turn": session.turn_number,
        "ending": session.ending or None,
        "visibility": session.visibility,
        "parent": str(session.parent_id) if session.parent_id else None,
        "fork_turn": session.fork_turn,
        "storyteller": session_storyteller(session),
        "voice": voice_summary(session.voice),
        "head_chain_hash": session.head_chain_hash,
        "created": session.created.isoformat(),
        "updated": session.updated.isoformat(),
    }


def state_view(session: GameSession, state_data: dict) -> dict:
    """agents.view of some state data of this session's theme."""
    return agents.view(agents.restore(theme_engine(session.theme), state_data))


def session_view(session: GameSession) -> dict:
    """Session meta plus, under "view", agents.view of its stored state, and
    under "pending" the turn a worker is playing for it (or None)."""
    return {
        **session_meta(session),
        "view": state_view(session, session.state),
        "pending": pending_open_view(session),
    }


def pending_view(pending: PendingTurn) -> dict:
    """A pending turn as clients see it; the same over REST and the socket."""
    return {
        "id": str(pending.pk),
        "turn": pending.number,
        "state": pending.state,
        "agent": pending.agent or None,
        "error": pending.error or None,
        "created": pending.created.isoformat(),
    }


def pending_open_view(session: GameSession) -> dict | None:
    """The game's open (queued or running) pending turn, or None."""
    pending = PendingTurn.objects.filter(
        session=session, state__in=PendingTurn.OPEN
    ).first()
    return pending_view(pending) if pending is not None else None


def pending_submitted_view(body: dict) -> dict:
    """A 202 body of a queued turn, brought up to date: game turn and pending."""
    pending = PendingTurn.objects.select_related("session").get(
        pk=body["pending"]["id"]
    )
    return {
        **body,
        "turn": pending.session.turn_number,
        "status": pending.session.status,
        "pending": pending_view(pending),
    }


def pending_by_id(pending_id) -> PendingTurn:
    """A pending turn by id, with no access check: for code that made it."""
    return PendingTurn.objects.get(pk=pending_id)


def pending_get(*, session: GameSession, pending_id) -> PendingTurn:
    pk = parse_uuid(pending_id)
    pending = PendingTurn.objects.filter(session=session, pk=pk).first() if pk else None
    if pending is None:
        raise NotFound("No such pending turn.", details={"pending": str(pending_id)})
    return pending


def turn_list(*, session: GameSession) -> QuerySet[Turn]:
    return Turn.objects.filter(session=session).order_by("number")


def turn_get(*, session: GameSession, number: int) -> Turn:
    turn = Turn.objects.filter(session=session, number=number).first()
    if turn is None:
        raise NotFound(
            f"Turn {number} has not been played in this game.",
            details={"turn": number},
        )
    return turn


def session_by_id(session_id) -> GameSession:
    """Any session by id, with no access check: for operators' tools only."""
    pk = parse_uuid(session_id)
    session = sessions_with_theme().filter(pk=pk).first() if pk is not None else None
    if session is None:
        raise NotFound("No such game.", details={"session": str(session_id)})
    return session


def session_opening_snapshot(session: GameSession) -> dict:
    """The numbers a game started with, as a turn record's metrics carry them."""
    theme = theme_engine(session.theme)
    opening = agents.new_game(theme, session.seed, session_storyteller(session))
    return agents.metrics_snapshot(opening)


def session_storyteller(session: GameSession) -> str | None:
    """The Director profile a game was started with, read from its stored state.

    The profile never changes during play, so the current state remembers
    the choice made at the start; replays need it to rebuild the opening.
    """
    director = (
        session.state.get("director") if isinstance(session.state, dict) else None
    )
    profile = director.get("profile") if isinstance(director, dict) else None
    return profile if isinstance(profile, str) else None


@dataclass
class ReplayedTurn:
    """One stored turn set beside the engine's replay of it.

    ``number`` is the turn the row should be (rows are expected 1, 2, 3...);
    ``outcome`` is None once the replay could not go on (an earlier or this
    stored action could not be played); ``problems`` lists every way the
    stored row disagrees with the replay or with its own chain.
    """

    number: int
    turn: Turn
    outcome: "agents.Outcome | None"
    problems: list[str] = field(default_factory=list)


# Parts of a turn record that are measured rather than computed; everything
# else in a record must come out of the replay exactly as stored.
MEASURED_RECORD_FIELDS = ("timings_us",)


def _computed_part(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in MEASURED_RECORD_FIELDS}


def replay_stored(session: GameSession, turns: list[Turn]):
    """The opening state and a ReplayedTurn per stored turn, in order.

    Each turn is resolved from the stored action (with the recordings kept in
    its record) on the state the replay reached, then its stored action,
    hashes and record hashes are compared with the result and its chain
    link with the stored turn before it. Raises agents.ActionError if the
    stored storyteller profile cannot start a game.
    """
    theme = theme_engine(session.theme)
    state = agents.new_game(theme, session.seed, session_storyteller(session))
    opening = state
    prev_chain = state.hash
    out = []
    for expected, turn in enumerate(turns, start=1):
        problems = []
        record = turn.record if isinstance(turn.record, dict) else {}
        if turn.number != expected:
            problems.append(f"turn {expected} is missing (found turn {turn.number})")
        outcome = None
        if state is not None:
            try:
                outcome = agents.resolve_turn(
                    state, turn.action, record.get("recordings") or None
                )
            except (agents.ActionError, ValueError, TypeError, KeyError) as exc:
                message = getattr(exc, "message", None) or str(exc)
                problems.append(f"stored action cannot be played: {message}")
        else:
            problems.append("not replayed: an earlier turn could not be played")
        if outcome is not None:
            if turn.state_hash != outcome.record["state_hash"]:
                problems.append("state hash differs from the replay")
            if turn.chain_hash != outcome.record["chain_hash"]:
                problems.append("chain hash differs from the replay")
            if _computed_part(record) != _computed_part(outcome.record):
                problems.append("the stored record (story, effects or rulings) differs")
        if record.get("action") != turn.action:
            problems.append("the record's action differs from the stored action")
        if record.get("state_hash") != turn.state_hash:
            problems.append("the record's state hash differs from the turn's")
        if record.get("chain_hash") != turn.chain_hash:
            problems.append("the record's chain hash differs from the turn's")
        if agents.chain_hash(prev_chain, turn.action, turn.state_hash) != (
            turn.chain_hash
        ):
            problems.append("chain hash does not follow from the turn before")
        prev_chain = turn.chain_hash
        state = outcome.state if outcome is not None else None
        out.append(ReplayedTurn(expected, turn, outcome, problems))
    return opening, out


def session_verify(session: GameSession) -> dict:
    """Replay a stored game through the engine and compare it turn by turn.

    Returns {"ok", "turns", "first_bad_turn", "reason", "detail", "results"}:
    ``results`` has {"turn", "ok", "problems"} for every stored turn, and the
    first bad turn is the earliest whose stored action, hashes or record
    hashes disagree with the replay or the chain (0 means the opening state
    itself). ``reason`` and ``detail`` both carry the first problem found.
    """
    turns = list(turn_list(session=session))
    report = {
        "ok": True,
        "turns": len(turns),
        "first_bad_turn": None,
        "reason": "",
        "detail": "",
        "results": [],
    }

    def bad(number, reason):
        if report["ok"]:
            report.update(ok=False, first_bad_turn=number, reason=reason, detail=reason)

    try:
        opening, replayed = replay_stored(session, turns)
    except agents.ActionError as exc:
        bad(0, f"the opening state cannot be rebuilt: {exc.message}")
        return report

    for item in replayed:
        report["results"].append(
            {
                "turn": item.number,
                "ok": not item.problems,
                "problems": item.problems,
            }
        )
        if item.problems:
            bad(item.number, f"turn {item.number}: {item.problems[0]}")

    last = turns[-1].number if turns else 0
    head = turns[-1].chain_hash if turns else opening.hash
    if session.head_chain_hash != head:
        bad(last, "the game's head chain hash differs from its last turn")
    if session.turn_number != len(turns):
        bad(last, f"the game says turn {session.turn_number} but has {len(turns)}")
    final = replayed[-1].outcome.state if replayed and replayed[-1].outcome else None
    final = opening if not turns else final
    if final is not None and session.state != final.data:
        bad(last, "the stored current state differs from the replay")
    return report


def session_inspect(session: GameSession) -> dict:
    """A game turn by turn for game masters, with every state rebuilt by replay.

    ``states[n]`` is the state after turn n (0: the opening), or None from
    the first turn the replay could not play; ``turns`` pairs each stored
    turn with the problems the replay found in it.
    """
    turns = list(turn_list(session=session))
    opening, replayed = replay_stored(session, turns)
    states: list[dict | None] = [opening.data]
    for item in replayed:
        states.append(item.outcome.state.data if item.outcome is not None else None)
    return {
        "states": states,
        "turns": [(item.turn, item.problems) for item in replayed],
    }


def state_diff(before: dict, after: dict) -> list[dict]:
    """What changed between two states of one game: path, from, to."""
    from agents.engine import effects_diff

    return effects_diff(before, after)


def overview_today(now=None) -> dict:
    """Figures for the admin's front page: today's games, endings, latency."""
    from django.db.models import Avg, Count, F
    from django.utils import timezone

    now = now or timezone.now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    turns_today = Turn.objects.filter(created__gte=start)
    endings = (
        GameSession.objects.filter(status=GameSession.Status.ENDED)
        .exclude(ending="")
        .values("theme__slug", "ending")
        .annotate(count=Count("pk"))
        .order_by("theme__slug", "-count", "ending")
    )
    return {
        "started_today": GameSession.objects.filter(created__gte=start).count(),
        # Ended today: the game's last turn, the one that ended it, is today's.
        "ended_today": GameSession.objects.filter(
            status=GameSession.Status.ENDED,
            turns__number=F("turn_number"),
            turns__created__gte=start,
        )
        .distinct()
        .count(),
        "active": GameSession.objects.filter(status=GameSession.Status.ACTIVE).count(),
        "turns_today": turns_today.count(),
        "mean_turn_ms": (turns_today.aggregate(mean=Avg("duration_us"))["mean"] or 0)
        / 1000,
        "endings": list(endings),
    }


def session_record_for_user(*, user) -> list[dict]:
    """A player's record per theme: games, victories, defeats, still in play."""
    rows: dict[str, dict] = {}
    games = GameSession.objects.filter(owner=user).values_list(
        "theme__slug", "theme__title", "status", "state__ending__kind"
    )
    for slug, title, status, kind in games:
        row = rows.setdefault(
            slug,
            {
                "slug": slug,
                "title": title or slug,
                "games": 0,
                "victories": 0,
                "defeats": 0,
                "active": 0,
            },
        )
        row["games"] += 1
        if status == GameSession.Status.ACTIVE:
            row["active"] += 1
        elif kind == "victory":
            row["victories"] += 1
        elif kind == "defeat":
            row["defeats"] += 1
    return [rows[slug] for slug in sorted(rows)]
