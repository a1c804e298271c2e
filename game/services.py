"""Every write to games, turns, themes and idempotency keys goes through here.

Views, API views, consumers, commands and admin actions parse input, call one
of these functions and render what it returns or raises (game.errors).
"""

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import agents
from game import metrics
from game.accounts import canonical_username
from game.broadcast import broadcast_on_commit, broadcast_turn
from game.errors import (
    ChainCorrupt,
    Forbidden,
    GameOver,
    IdempotencyConflict,
    InvalidAction,
    InvalidInput,
    StaleTurn,
    ThemeVersionConflict,
    WatchOnly,
)
from game.models import GameSession, IdempotencyKey, Theme, Turn
from game.selectors import (
    replay_stored,
    session_by_id,
    session_for_turn,
    session_get,
    sessions_with_theme,
    theme_current,
    theme_engine,
    turn_list,
)
from game.voices import voice_check, voice_configs, voice_default

logger = logging.getLogger(__name__)

# Seeds are stored in a signed 64-bit column; keeping them below 2**63 means
# every seed round-trips through PostgreSQL, SQLite and JSON unchanged.
SEED_MAX = 2**63 - 1
IDEMPOTENCY_KEY_MAX = 200
# Game-master events and other engine action kinds are not a player's to send.
PLAYER_ACTION_TYPES = ("choose", "order", "free_text")


@dataclass(frozen=True)
class TurnResult:
    """What turn_submit hands back.

    ``payload`` is the response body for the turn (also the WebSocket message
    without its "type"); ``replayed`` is true when an idempotency key matched
    an earlier submission and nothing new was played. ``status`` is 202, and
    ``turn`` None, when the turn was queued for a worker instead of played.
    """

    turn: Turn | None
    session: GameSession
    replayed: bool
    payload: dict
    status: int = 201


def theme_sync_builtin() -> list[Theme]:
    """Store every built-in pack the engine ships, once per slug and version.

    Running it again changes nothing unless a pack's content changed. Changed
    content under an unchanged version may replace the stored copy only while
    no game uses it: a game pinned to that version must keep replaying the
    content it was played with, so that case is refused.
    """
    synced = []
    for slug, raw in sorted(agents.builtin_theme_data().items()):
        compiled = agents.load_theme(raw)
        with transaction.atomic():
            theme, created = Theme.objects.select_for_update().get_or_create(
                slug=compiled.slug,
                version=compiled.version,
                defaults={
                    "title": compiled.title,
                    "data": compiled.data,
                    "content_hash": compiled.content_hash,
                    "builtin": True,
                },
            )
            if not created and theme.content_hash != compiled.content_hash:
                if GameSession.objects.filter(theme=theme).exists():
                    raise ThemeVersionConflict(
                        f"Built-in theme {theme.slug} {theme.version} changed but "
                        "games already use that version; raise its version.",
                        details={"theme": theme.slug, "version": theme.version},
                    )
                logger.warning(
                    "built-in theme %s %s changed content; no game used it yet",
                    theme.slug,
                    theme.version,
                )
                theme.title = compiled.title
                theme.data = compiled.data
                theme.content_hash = compiled.content_hash
                theme.builtin = True
                theme.save()
        if slug != compiled.slug:
            logger.warning(
                "built-in pack file %s declares slug %s", slug, compiled.slug
            )
        synced.append(theme)
    return synced


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput(
            "The seed must be a whole number.", details={"seed": ["Not an integer."]}
        )
    if not 0 <= seed <= SEED_MAX:
        raise InvalidInput(
            f"The seed must be between 0 and {SEED_MAX}.",
            details={"seed": [f"Out of range 0..{SEED_MAX}."]},
        )
    return seed


# Passed as ``voice`` to mean "whatever the site gives new games".
SITE_DEFAULT = object()


def session_create(
    *,
    owner,
    theme_slug: str,
    seed: int | None = None,
    storyteller: str | None = None,
    voice=SITE_DEFAULT,
    voice_overrides: dict | None = None,
) -> GameSession:
    """Start a game on the newest enabled version of a theme.

    ``storyteller`` picks the Director's profile (steady, relentless or
    chaotic); None keeps the theme's own. ``voice`` names a language-model
    voice profile of the site's (game.voices), None or "" for the rule-based
    agents; left out, the site's default profile applies.
    """
    theme = theme_current(slug=theme_slug)
    seed = secrets.randbelow(SEED_MAX + 1) if seed is None else _check_seed(seed)
    if voice is SITE_DEFAULT:
        voice = voice_default()
    voice_setting = voice_check(voice, voice_overrides)

    try:
        state = agents.new_game(theme_engine(theme), seed, storyteller)
    except agents.ActionError as exc:
        raise InvalidInput(
            exc.message, details={exc.field or "storyteller": [exc.message]}
        ) from exc
    data = state.data
    session = GameSession.objects.create(
        owner=owner,
        theme=theme,
        seed=seed,
        state=data,
        turn_number=int(data.get("turn", 0)),
        head_chain_hash=agents.state_hash(data),
        voice=voice_setting,
    )
    metrics.SESSIONS_CREATED.inc()
    logger.info("session %s created on %s seed %s", session.id, theme, seed)
    return session


def _check_fork_turn(at_turn, source: GameSession) -> int:
    if isinstance(at_turn, bool) or not isinstance(at_turn, int):
        raise InvalidInput(
            "The turn to fork at must be a whole number.",
            details={"turn": ["Not an integer."]},
        )
    if not 0 <= at_turn <= source.turn_number:
        raise InvalidInput(
            f"The turn to fork at must be between 0 and {source.turn_number}.",
            details={"turn": [f"Out of range 0..{source.turn_number}."]},
        )
    return at_turn


def session_fork(*, session_id, user, at_turn: int) -> GameSession:
    """A new private game for ``user`` that starts as ``session_id`` stood at a turn.

    The new game pins the same theme version, seed and storyteller, carries
    copies of the source's first ``at_turn`` turns (same actions, records and
    hashes) and the state those turns lead to, rebuilt by replaying them
    through the engine. Anyone who may see the source may fork it; a source
    whose stored turns no longer replay to their hashes is refused.
    """
    return _fork(lambda: session_get(user=user, session_id=session_id), user, at_turn)


def session_fork_for_operator(*, session_id, user, at_turn: int) -> GameSession:
    """session_fork for game masters' tools: any game, private ones too."""
    return _fork(lambda: session_by_id(session_id), user, at_turn)


def _fork(find_source, user, at_turn) -> GameSession:
    with transaction.atomic():
        source = find_source()
        at_turn = _check_fork_turn(at_turn, source)
        turns = list(turn_list(session=source)[:at_turn])
        if len(turns) != at_turn:
            raise ChainCorrupt(
                f"Turns up to {at_turn} are not all stored.",
                details={"turn": at_turn},
            )
        try:
            opening, replayed = replay_stored(source, turns)
        except agents.ActionError as exc:
            raise ChainCorrupt(
                f"The game's opening cannot be rebuilt: {exc.message}",
                details={"first_bad_turn": 0},
            ) from exc
        for item in replayed:
            if item.problems:
                raise ChainCorrupt(
                    f"Turn {item.number} does not replay to its stored "
                    f"hashes ({item.problems[0]}); the game cannot be forked.",
                    details={
                        "first_bad_turn": item.number,
                        "problems": item.problems,
                    },
                )

        state = replayed[-1].outcome.state if replayed else opening
        data = state.data
        ending_id, _ = _ending_of(data)
        fork = GameSession.objects.create(
            owner=user,
            theme=source.theme,
            seed=source.seed,
            state=data,
            turn_number=at_turn,
            head_chain_hash=turns[-1].chain_hash if turns else state.hash,
            status=(
                GameSession.Status.ACTIVE
                if data.get("status", "active") == "active"
                else GameSession.Status.ENDED
            ),
            ending=ending_id,
            visibility=GameSession.Visibility.PRIVATE,
            parent=source,
            fork_turn=at_turn,
            # The branch speaks as its source did; the recordings of the
            # turns it keeps come with their records.
            voice=source.voice,
        )
        Turn.objects.bulk_create(
            Turn(
                session=fork,
                number=turn.number,
                action=turn.action,
                record=turn.record,
                state_hash=turn.state_hash,
                chain_hash=turn.chain_hash,
                duration_us=turn.duration_us,
            )
            for turn in turns
        )
    metrics.SESSIONS_CREATED.inc()
    logger.info("session %s forked from %s at turn %s", fork.id, source.id, at_turn)
    return GameSession.objects.select_related("theme", "owner").get(pk=fork.pk)


def session_undo(*, session_id, user) -> GameSession:
    """Take back the last turn: a fork at the turn before the current one.

    The original game is left as it was; an ended game comes back as the
    turn before its end.
    """
    source = session_get(user=user, session_id=session_id)
    if source.turn_number == 0:
        raise InvalidInput(
            "Nothing to undo: no turn has been played yet.",
            details={"turn": ["The game is at turn 0."]},
        )
    return session_fork(session_id=source.pk, user=user, at_turn=source.turn_number - 1)


def session_set_visibility(*, session_id, user, visibility: str) -> GameSession:
    """Let the owner make a game public (spectators may watch) or private."""
    session = session_get(user=user, session_id=session_id)
    if session.owner_id != user.pk:
        raise WatchOnly(details={"session": str(session_id)})
    return _set_visibility(session, visibility)


def session_set_visibility_for_operator(*, session_id, visibility: str) -> GameSession:
    """session_set_visibility for game masters' tools: any game."""
    return _set_visibility(session_by_id(session_id), visibility)


def _set_visibility(session: GameSession, visibility: str) -> GameSession:
    """Store the visibility and tell the game's sockets once it is committed.

    Spectators' sockets close when a game turns private (game.consumers), so
    that no one goes on watching a game they could no longer open.
    """
    if visibility not in GameSession.Visibility.values:
        raise InvalidInput(
            "Visibility must be private or public.",
            details={"visibility": [f'"{visibility}" is not a valid choice.']},
        )
    with transaction.atomic():
        GameSession.objects.filter(pk=session.pk).update(
            visibility=visibility, version=F("version") + 1, updated=timezone.now()
        )
        session.refresh_from_db()
        broadcast_on_commit(
            "visibility",
            session.pk,
            session.turn_number,
            visibility=session.visibility,
        )
    return session


def session_abandon(*, session_id) -> GameSession:
    """End an active game without an ending (a game master's tool).

    Its turns stay as they are and it still replays; it takes no more turns.
    A game that is already over is refused.
    """
    with transaction.atomic():
        session = (
            sessions_with_theme()
            .select_for_update(of=("self",))
            .get(pk=session_by_id(session_id).pk)
        )
        if session.status != GameSession.Status.ACTIVE:
            raise GameOver(
                f"This game is already {session.get_status_display().lower()}.",
                details={"status": session.status},
            )
        GameSession.objects.filter(pk=session.pk).update(
            status=GameSession.Status.ABANDONED,
            version=F("version") + 1,
            updated=timezone.now(),
        )
        session.refresh_from_db()
        broadcast_on_commit(
            "status", session.pk, session.turn_number, status=session.status
        )
    logger.info("session %s abandoned by a game master", session.pk)
    return session


def session_set_voice(
    *, session_id, user=None, voice: str | None, voice_overrides: dict | None = None
) -> GameSession:
    """Switch the voice a game's next turns speak with (None: rule-based).

    With ``user`` only its owner may; without, it is a game master's tool
    and any game may be switched. Played turns keep the recordings they
    were played with, so replays are unaffected.
    """
    session = (
        session_get(user=user, session_id=session_id)
        if user is not None
        else session_by_id(session_id)
    )
    if user is not None and session.owner_id != user.pk:
        raise WatchOnly(details={"session": str(session_id)})
    # Checked only now: the refusal names the site's profiles, which are for
    # the game's owner to hear, not for anyone who guesses at an id.
    setting = voice_check(voice, voice_overrides)
    GameSession.objects.filter(pk=session.pk).update(
        voice=setting, version=F("version") + 1, updated=timezone.now()
    )
    session.refresh_from_db()
    logger.info("session %s voice set to %s", session.pk, voice or "rule-based")
    return session


def _fingerprint(session_id, action, expected_turn) -> str:
    text = agents.canonical_json(
        {"session": str(session_id), "action": action, "expected_turn": expected_turn}
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ending_of(data: dict) -> tuple[str, str]:
    """(ending id, ending kind) of a state's data; empty strings while active."""
    ending = data.get("ending")
    if isinstance(ending, dict):
        return str(ending.get("id", "")), str(ending.get("kind", ""))
    if isinstance(ending, str):
        return ending, ""
    return "", ""


def _check_turn_input(
    action, expected_turn, idempotency_key, allowed=PLAYER_ACTION_TYPES
):
    if not isinstance(action, dict):
        raise InvalidInput(
            "The action must be a JSON object.",
            details={"action": ["Expected an object."]},
        )
    if action.get("type") not in allowed:
        names = ", ".join(f'"{name}"' for name in allowed)
        raise InvalidAction(f"The action type must be one of {names}.", field="type")
    if isinstance(expected_turn, bool) or not isinstance(expected_turn, int):
        raise InvalidInput(
            "expected_turn must be the number of the game's current turn.",
            details={"expected_turn": ["Not an integer."]},
        )
    if idempotency_key is not None and not (
        0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX
    ):
        raise InvalidInput(
            f"An Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters.",
            details={"idempotency_key": ["Bad length."]},
        )


def turn_submit(
    *,
    session_id,
    user,
    action: dict,
    expected_turn: int,
    idempotency_key: str | None = None,
) -> TurnResult:
    """Play one turn of a game: the whole turn commits, or nothing does.

    ``expected_turn`` is the turn number the client last saw (the session's
    current ``turn``); the new turn is numbered one higher. A game that speaks
    through language models is not played here: its turn is queued for a
    worker and the result is a pending turn (status 202).
    """
    _check_turn_input(action, expected_turn, idempotency_key)

    with transaction.atomic():
        # The row lock serialises submitters on PostgreSQL; SQLite's IMMEDIATE
        # transactions do the same there. The version check in the UPDATE
        # of turn_commit still catches any writer that slipped past both.
        session = session_for_turn(user=user, session_id=session_id)

        fingerprint = _fingerprint(session.pk, action, expected_turn)
        if idempotency_key is not None:
            stored = (
                IdempotencyKey.objects.select_related("turn")
                .filter(user=user, key=idempotency_key)
                .first()
            )
            if stored is not None:
                answered = stored.turn is not None or stored.response_status == 202
                if stored.fingerprint != fingerprint or not answered:
                    metrics.record_turn_refused("idempotency_conflict")
                    raise IdempotencyConflict(
                        details={"idempotency_key": idempotency_key}
                    )
                return TurnResult(
                    turn=stored.turn,
                    session=session,
                    replayed=True,
                    payload=stored.response_body,
                    status=stored.response_status,
                )

        return _play(session, user, action, expected_turn, idempotency_key, fingerprint)


def turn_submit_gm(*, session_id, user, event: dict, expected_turn: int) -> TurnResult:
    """Play a game master's event as the next turn of any game.

    ``event`` is a ``gm_event`` action without its type: a safe-function call
    (``function``, ``args``), a ``scene`` from the theme's deck to come next,
    or both, and optionally a ``text`` the chronicle opens with. The Judge
    rules on it like on any proposal; it is recorded, broadcast and replayed
    like any turn. Needs the ``game.intervene`` permission.
    """
    if not (user.is_active and user.is_staff and user.has_perm("game.intervene")):
        raise Forbidden("Intervening in games needs the game-master permission.")
    if not isinstance(event, dict):
        raise InvalidInput(
            "The event must be an object.", details={"event": ["Expected an object."]}
        )
    action = {"type": "gm_event", **{k: v for k, v in event.items() if k != "type"}}
    _check_turn_input(action, expected_turn, None, allowed=("gm_event",))

    with transaction.atomic():
        session = (
            sessions_with_theme()
            .select_for_update(of=("self",))
            .get(pk=session_by_id(session_id).pk)
        )
        result = _play(session, user, action, expected_turn, None, "")
    logger.info(
        "game-master event session=%s turn=%s by=%s",
        session.pk,
        expected_turn + 1,
        user,
    )
    return result


def _play(session, user, action, expected_turn, idempotency_key, fingerprint):
    """The turn on a session locked by the caller: checks, then play or queue."""
    if session.status != GameSession.Status.ACTIVE:
        metrics.record_turn_refused("game_over")
        raise GameOver(
            details={"status": session.status, "ending": session.ending or None}
        )
    if expected_turn != session.turn_number:
        metrics.record_turn_refused("stale")
        raise StaleTurn(
            f"expected_turn is {expected_turn} but the game is at turn "
            f"{session.turn_number}.",
            current_turn=session.turn_number,
        )
    # Imported here: game.pending builds on this module.
    from game import pending

    if session.check_pending:
        pending.pending_turn_check_none_open(session)

    state = agents.restore(
        theme_engine(session.theme), session.state, session.head_chain_hash
    )
    if voice_configs(session.voice) is not None:
        try:
            agents.check_action(state, action)
        except agents.ActionError as exc:
            metrics.record_turn_refused("invalid")
            raise _invalid_action(exc) from exc
        queued = pending.pending_turn_queue(session=session, user=user, action=action)
        if idempotency_key is not None:
            _idempotency_store(
                user, idempotency_key, session, fingerprint, None, 202, queued
            )
        return TurnResult(
            turn=None, session=session, replayed=False, payload=queued, status=202
        )

    started = time.perf_counter_ns()
    try:
        outcome = agents.resolve_turn(state, action)
    except agents.ActionError as exc:
        metrics.record_turn_refused("invalid")
        raise _invalid_action(exc) from exc
    duration_us = (time.perf_counter_ns() - started) // 1000

    turn, payload = turn_commit(session, action, outcome, duration_us)
    if idempotency_key is not None:
        _idempotency_store(
            user, idempotency_key, session, fingerprint, turn, 201, payload
        )
    return TurnResult(turn=turn, session=session, replayed=False, payload=payload)


def _invalid_action(exc: agents.ActionError) -> InvalidAction:
    field = getattr(exc, "field", None) or "action"
    return InvalidAction(getattr(exc, "message", None) or str(exc), field=field)


def _idempotency_store(user, key, session, fingerprint, turn, status, payload):
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                user=user,
                key=key,
                session=session,
                fingerprint=fingerprint,
                turn=turn,
                response_status=status,
                response_body=payload,
            )
    except IntegrityError as exc:
        # The same key raced in for another game; this turn must not count
        # as done under a key that answers for something else.
        raise IdempotencyConflict(details={"idempotency_key": key}) from exc


def turn_commit(
    session: GameSession, action: dict, outcome, duration_us: int
) -> tuple[Turn, dict]:
    """Store a resolved turn on a session locked by the caller's transaction.

    Returns the turn and its payload (the REST response body, and the
    WebSocket message without its "type"), which is broadcast and counted
    once the transaction commits. StaleTurn if another writer got there first.
    """
    data = outcome.state.data
    record = outcome.record
    number = session.turn_number + 1
    new_state_hash = outcome.state.hash
    new_chain_hash = agents.chain_hash(session.head_chain_hash, action, new_state_hash)
    ending_id, ending_kind = _ending_of(data)
    now = timezone.now()
    status = (
        GameSession.Status.ACTIVE
        if data.get("status", "active") == "active"
        else GameSession.Status.ENDED
    )

    updated = GameSession.objects.filter(pk=session.pk, version=session.version).update(
        state=data,
        turn_number=number,
        head_chain_hash=new_chain_hash,
        status=status,
        ending=ending_id,
        version=session.version + 1,
        updated=now,
        # No pending turn is open once a turn commits: the submission checked
        # under this lock, or this is the pending turn itself.
        check_pending=False,
    )
    if updated == 0:
        metrics.record_turn_refused("stale")
        current = GameSession.objects.values_list("turn_number", flat=True).get(
            pk=session.pk
        )
        raise StaleTurn(current_turn=current)

    turn = Turn.objects.create(
        session=session,
        number=number,
        action=action,
        record=record,
        state_hash=new_state_hash,
        chain_hash=new_chain_hash,
        duration_us=duration_us,
    )
    # The row now holds what was just written; no need to read it back.
    session.state = data
    session.turn_number = number
    session.head_chain_hash = new_chain_hash
    session.status = status
    session.ending = ending_id
    session.version += 1
    session.updated = now
    session.check_pending = False
    view = agents.view(outcome.state)
    payload = {
        "session": str(session.pk),
        "turn": number,
        "status": session.status,
        "record": record,
        "view": view,
    }

    outcome_label = "ended" if status == GameSession.Status.ENDED else "played"
    timings = record.get("timings_us") if isinstance(record, dict) else None

    def after_commit():
        metrics.record_turn_committed(
            outcome=outcome_label,
            duration_us=duration_us,
            timings_us=timings,
            proposals=record.get("proposals") if isinstance(record, dict) else (),
        )
        if status == GameSession.Status.ENDED:
            metrics.record_ending(ending_kind or view_ending_kind(view))
        broadcast_turn(payload)
        logger.info(
            "turn session=%s turn=%s duration_us=%s outcome=%s ending=%s",
            session.pk,
            number,
            duration_us,
            outcome_label,
            ending_id or "-",
        )

    transaction.on_commit(after_commit)
    return turn, payload


def view_ending_kind(view: dict) -> str:
    ending = view.get("ending") if isinstance(view, dict) else None
    return str(ending.get("kind", "")) if isinstance(ending, dict) else ""


def user_register(*, username: str, password: str, email: str = ""):
    """Create a player account, applying the site's password validators."""
    User = get_user_model()
    errors: dict[str, list[str]] = {}

    # Stored in Unicode's compatibility form, as Django's own forms do, so
    # that one name typed two ways is one name (game.accounts).
    username = canonical_username(username)
    if not username:
        errors["username"] = ["A username is required."]
    elif len(username) > 150:
        errors["username"] = ["At most 150 characters."]
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError as exc:
            errors["username"] = list(exc.messages)
    if (
        "username" not in errors
        and User.objects.filter(username__iexact=username).exists()
    ):
        errors["username"] = ["That username is taken."]

    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            errors["email"] = list(exc.messages)

    if not password:
        errors["password"] = ["A password is required."]
    else:
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)

    if errors:
        first_field = next(iter(errors))
        raise InvalidInput(f"{first_field}: {errors[first_field][0]}", details=errors)

    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username, password=password, email=email
            )
    except IntegrityError as exc:
        raise InvalidInput(
            "username: That username is taken.",
            details={"username": ["That username is taken."]},
        ) from exc
