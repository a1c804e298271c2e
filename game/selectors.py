"""Reads of stored games and themes; nothing here writes a row.

Callers get querysets or plain dicts and never need to know how access rules
are expressed in SQL.
"""

import uuid
from functools import lru_cache

from django.db.models import Q, QuerySet

import agents
from game.errors import NotFound, ThemeUnavailable
from game.models import GameSession, Theme, Turn


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


def _parse_uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def session_get(*, user, session_id) -> GameSession:
    """A session the user may see: their own, or anyone's public one.

    Anything else is reported as missing, so that a private game's existence
    never leaks to someone who may not see it.
    """
    pk = _parse_uuid(session_id)
    if pk is None:
        raise NotFound("No such game.", details={"session": str(session_id)})
    visible = Q(visibility=GameSession.Visibility.PUBLIC)
    if user is not None and user.is_authenticated:
        visible |= Q(owner=user)
    session = (
        GameSession.objects.select_related("theme", "owner")
        .filter(visible, pk=pk)
        .first()
    )
    if session is None:
        raise NotFound("No such game.", details={"session": str(session_id)})
    return session


def session_list_for_user(*, user) -> QuerySet[GameSession]:
    return (
        GameSession.objects.filter(owner=user)
        .select_related("theme", "owner")
        .order_by("-updated")
    )


def session_list_public() -> QuerySet[GameSession]:
    """Public games, most recently played first, for spectators."""
    return (
        GameSession.objects.filter(visibility=GameSession.Visibility.PUBLIC)
        .select_related("theme", "owner")
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
        "head_chain_hash": session.head_chain_hash,
        "created": session.created.isoformat(),
        "updated": session.updated.isoformat(),
    }


def state_view(session: GameSession, state_data: dict) -> dict:
    """agents.view of some state data of this session's theme."""
    return agents.view(agents.restore(theme_engine(session.theme), state_data))


def session_view(session: GameSession) -> dict:
    """Session meta plus, under "view", agents.view of its stored state."""
    return {**session_meta(session), "view": state_view(session, session.state)}


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
    pk = _parse_uuid(session_id)
    session = (
        GameSession.objects.select_related("theme", "owner").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if session is None:
        raise NotFound("No such game.", details={"session": str(session_id)})
    return session


def session_verify(session: GameSession) -> dict:
    """Replay a stored game through the engine and compare it turn by turn.

    Returns {"ok", "turns", "first_bad_turn", "reason"}; the first bad turn is
    the earliest whose stored action, state hash or chain hash disagrees with
    the replay (0 means the initial state itself).
    """
    theme = theme_engine(session.theme)
    turns = list(turn_list(session=session))
    report = {"ok": True, "turns": len(turns), "first_bad_turn": None, "reason": ""}

    def bad(number, reason):
        report.update(ok=False, first_bad_turn=number, reason=reason)
        return report

    for expected, turn in enumerate(turns, start=1):
        if turn.number != expected:
            return bad(expected, f"turn {expected} is missing")

    initial = agents.new_game(theme, session.seed)
    prev_chain = agents.state_hash(initial.data)
    if not turns and session.head_chain_hash != prev_chain:
        return bad(0, "head chain hash differs from the initial state's hash")

    recordings = [(turn.record or {}).get("recordings") or [] for turn in turns]
    try:
        replayed = agents.replay(
            theme,
            session.seed,
            [turn.action for turn in turns],
            recordings if any(recordings) else None,
        )
    except agents.ActionError as exc:
        number = getattr(exc, "turn", None) or 0
        return bad(number, f"stored action is not valid: {exc}")

    for turn, again in zip(turns, replayed, strict=False):
        stored_chain = agents.chain_hash(prev_chain, turn.action, turn.state_hash)
        if turn.state_hash != again["state_hash"]:
            return bad(turn.number, "state hash differs from the replay")
        if turn.chain_hash != again["chain_hash"] or turn.chain_hash != stored_chain:
            return bad(turn.number, "chain hash differs from the replay")
        prev_chain = turn.chain_hash
    if len(replayed) != len(turns):
        return bad(min(len(replayed), len(turns)) + 1, "replay length differs")
    if turns and session.head_chain_hash != turns[-1].chain_hash:
        return bad(turns[-1].number, "session head differs from the last turn")
    return report
