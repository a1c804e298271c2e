"""Turns resolved on a worker, for games whose agents speak through models.

A model can take seconds per agent, so such a turn is not played on the
request: ``turn_submit`` checks it, stores a PendingTurn and answers 202; the
Celery task ``turn_resolve`` is handed the pending turn's id once that
commits, and calls ``pending_turn_execute``. While a pending turn is open
(queued or running) its game accepts no other turn.

The task claims its pending turn with one conditional UPDATE, so a message
delivered twice plays the turn once. A pending turn whose worker died, or
whose message was lost, is given up after a lease (its task's hard time
limit and a margin, or PENDING_TURN_QUEUE_SECONDS in the queue): the next
submission fails it and goes ahead, and so does the periodic clean-up.
"""

import logging
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import agents
from game import metrics, services, voices
from game.broadcast import broadcast_event, broadcast_on_commit
from game.errors import StaleTurn, TurnPending
from game.models import GameSession, PendingTurn
from game.selectors import pending_view, sessions_with_theme, theme_engine

logger = logging.getLogger(__name__)

# A running turn's task is past saving this long after its hard time limit.
RUNNING_MARGIN = timedelta(seconds=60)


def _lost(now=None) -> Q:
    """Open pending turns that no worker will finish any more."""
    now = now or timezone.now()
    running_since = now - timedelta(seconds=settings.CELERY_TURN_TIME_LIMIT)
    queued_since = now - timedelta(seconds=settings.PENDING_TURN_QUEUE_SECONDS)
    return Q(
        state=PendingTurn.State.RUNNING, started__lt=running_since - RUNNING_MARGIN
    ) | Q(state=PendingTurn.State.QUEUED, created__lt=queued_since)


def pending_turn_check_none_open(session: GameSession) -> None:
    """TurnPending if the game has a live pending turn; fail one that is lost.

    Called with the session row locked, so no pending turn can be queued
    for it meanwhile.
    """
    open_turn = PendingTurn.objects.filter(
        session=session, state__in=PendingTurn.OPEN
    ).first()
    if open_turn is None:
        return
    if PendingTurn.objects.filter(pk=open_turn.pk).filter(_lost()).exists():
        _fail(open_turn, "Its worker stopped before the turn was played.")
        return
    metrics.record_turn_refused("pending")
    raise TurnPending(
        f"Turn {open_turn.number} is still being played; wait for it.",
        current_turn=session.turn_number,
        details={"pending": pending_view(open_turn)},
    )


def pending_turn_queue(*, session: GameSession, user, action: dict) -> dict:
    """Store a pending turn for a checked action; its task goes out on commit.

    Returns the 202 body: the game as it stands and the pending turn.
    """
    pending = PendingTurn.objects.create(
        session=session,
        number=session.turn_number + 1,
        action=action,
        submitted_by=user,
    )
    GameSession.objects.filter(pk=session.pk).update(check_pending=True)
    session.check_pending = True
    view = pending_view(pending)
    body = {
        "session": str(session.pk),
        "turn": session.turn_number,
        "status": session.status,
        "pending": view,
    }
    pending_id = pending.pk
    transaction.on_commit(lambda: _dispatch(pending_id, body))
    logger.info(
        "turn queued session=%s turn=%s pending=%s",
        session.pk,
        pending.number,
        pending_id,
    )
    return body


def _dispatch(pending_id, body: dict) -> None:
    # Imported here: the task module imports this one.
    from game.tasks import turn_resolve

    broadcast_event({"type": "pending", **body})
    try:
        result = turn_resolve.apply_async(args=[str(pending_id)])
    except Exception as exc:
        logger.exception("pending turn %s could not be queued", pending_id)
        pending = PendingTurn.objects.filter(pk=pending_id).first()
        if pending is not None:
            _fail(
                pending,
                f"Could not reach the task queue ({type(exc).__name__}); "
                "submit the turn again.",
                from_states=(PendingTurn.State.QUEUED,),
            )
        return
    PendingTurn.objects.filter(pk=pending_id, task_id="").update(task_id=result.id)


def _claim(pending_id, task_id: str) -> PendingTurn | None:
    """Move a queued (or lost running) pending turn to running; None if not ours.

    A running one is taken over by its own message handed back after its
    worker died, or by any once its lease ran out. Whoever took it over last
    is the only one whose turn can commit.
    """
    claimable = Q(state=PendingTurn.State.QUEUED) | (
        Q(state=PendingTurn.State.RUNNING) & _lost()
    )
    changes = {"state": PendingTurn.State.RUNNING, "started": timezone.now()}
    if task_id:
        changes["task_id"] = task_id
        # The same message handed back after its worker died: play it again.
        claimable |= Q(state=PendingTurn.State.RUNNING, task_id=task_id)
    try:
        claimed = PendingTurn.objects.filter(claimable, pk=pending_id).update(**changes)
    except (ValueError, TypeError):
        return None
    if not claimed:
        return None
    return PendingTurn.objects.select_related("session", "submitted_by").get(
        pk=pending_id
    )


def pending_turn_execute(*, pending_id, task_id: str = "") -> bool:
    """Play a pending turn and commit it; False if there was nothing to play.

    Every failure is recorded on the pending turn and told to the game's
    watchers; the game is then free for the next submission.
    """
    pending = _claim(pending_id, task_id)
    if pending is None:
        logger.info("pending turn %s is not waiting; nothing to play", pending_id)
        return False

    session = sessions_with_theme().get(pk=pending.session_id)
    if not _still_next(session, pending):
        _fail(pending, "The game moved on before this turn could be played.")
        return True

    state = agents.restore(
        theme_engine(session.theme), session.state, session.head_chain_hash
    )
    configs = voices.voice_configs(session.voice)
    started = time.perf_counter_ns()
    try:
        outcome = _resolve(state, pending, configs)
    except agents.ActionError as exc:
        _fail(pending, f"The order can no longer be given: {exc.message}")
        return True
    except SoftTimeLimitExceeded:
        limit = settings.CELERY_TURN_SOFT_TIME_LIMIT
        _fail(pending, f"The turn ran past its time limit of {limit} s.")
        return True
    except Exception as exc:
        logger.exception("pending turn %s failed", pending.pk)
        _fail(pending, f"The turn could not be played ({type(exc).__name__}).")
        return True
    duration_us = (time.perf_counter_ns() - started) // 1000

    try:
        with transaction.atomic():
            session = (
                sessions_with_theme()
                .select_for_update(of=("self",))
                .get(pk=pending.session_id)
            )
            if not _still_next(session, pending):
                raise StaleTurn(current_turn=session.turn_number)
            # Done only if it is still this run's: a pending turn given up as
            # lost, or taken over by its redelivered message, is not ours.
            finished = PendingTurn.objects.filter(
                pk=pending.pk, state=PendingTurn.State.RUNNING, started=pending.started
            ).update(state=PendingTurn.State.DONE, finished=timezone.now(), agent="")
            if not finished:
                raise _NotOurs
            turn, _payload = services.turn_commit(
                session, pending.action, outcome, duration_us
            )
            PendingTurn.objects.filter(pk=pending.pk).update(turn=turn)
    except _NotOurs:
        logger.info("pending turn %s was taken over; this run is dropped", pending.pk)
        return True
    except StaleTurn:
        _fail(pending, "The game moved on before this turn could be played.")
        return True
    metrics.PENDING_TURNS.labels(outcome="played").inc()
    return True


class _NotOurs(Exception):
    """The pending turn was given up or taken over while this run played it."""


def _still_next(session: GameSession, pending: PendingTurn) -> bool:
    return (
        session.status == GameSession.Status.ACTIVE
        and session.turn_number == pending.number - 1
    )


def _resolve(state, pending: PendingTurn, configs):
    if not configs:
        # The game's voice profile is gone from the settings: rule-based.
        return agents.resolve_turn(state, pending.action)

    from agents.llm import LiveVoice

    session_id = pending.session_id
    number = pending.number

    def on_progress(agent: str) -> None:
        PendingTurn.objects.filter(pk=pending.pk).update(agent=agent)
        broadcast_event(
            {
                "type": "progress",
                "session": str(session_id),
                "turn": number - 1,
                "pending": {"id": str(pending.pk), "turn": number, "agent": agent},
            }
        )

    with LiveVoice(
        configs,
        breaker=voices.BREAKER,
        on_progress=on_progress,
        on_exchange=metrics.record_exchange,
    ) as voice:
        return agents.resolve_turn(state, pending.action, voice=voice)


def _fail(pending: PendingTurn, error: str, *, from_states=PendingTurn.OPEN) -> bool:
    """Record why a pending turn was not played, and tell the game's watchers."""
    failed = PendingTurn.objects.filter(pk=pending.pk, state__in=from_states).update(
        state=PendingTurn.State.FAILED,
        error=error,
        finished=timezone.now(),
        agent="",
    )
    if not failed:
        return False
    metrics.PENDING_TURNS.labels(outcome="failed").inc()
    pending.refresh_from_db()
    current = GameSession.objects.values_list("turn_number", flat=True).get(
        pk=pending.session_id
    )
    broadcast_on_commit(
        "turn_failed", pending.session_id, current, pending=pending_view(pending)
    )
    logger.warning(
        "pending turn failed session=%s turn=%s pending=%s: %s",
        pending.session_id,
        pending.number,
        pending.pk,
        error,
    )
    return True


def pending_turns_fail_lost(*, now=None) -> int:
    """Give up every open pending turn that no worker will finish any more."""
    lost = 0
    for pending in PendingTurn.objects.filter(_lost(now)):
        lost += _fail(pending, "Its worker stopped before the turn was played.")
    return lost
