"""Every write to background jobs, and the clean-ups they run, goes through here.

A job's task is handed only the job's id. It first claims the row with one
conditional UPDATE from queued to running; a redelivered or duplicate message
for a job that is already running or finished claims nothing and does
nothing. Messages are dispatched only once the row is committed.
"""

import logging
import time
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from agents import simulate
from agents.engine import STORYTELLERS
from agents.policies import POLICIES
from game.errors import InvalidInput, ThemeUnavailable
from game.jobs.events import job_publish
from game.models import GameSession, IdempotencyKey, Job, Theme
from game.selectors import parse_uuid, theme_current, theme_engine
from game.services import SEED_MAX

logger = logging.getLogger(__name__)

SIMULATION_MAX_GAMES = 20_000
# Progress is written to the row and sent to watchers at most this often,
# plus once when the last game is done, however fast the games run.
PROGRESS_INTERVAL = 1.0
# A running job not finished this long after its task's hard time limit has
# lost its worker.
STALE_MARGIN = timedelta(minutes=10)

FINISHED = (Job.State.SUCCEEDED, Job.State.FAILED)


# --- Simulations ---------------------------------------------------------


def _check_simulation(*, theme_slug, policy, games, seed, storyteller) -> dict:
    """The parameters of a simulation, checked; InvalidInput names the bad one."""
    try:
        theme = theme_current(slug=str(theme_slug or ""))
    except ThemeUnavailable as exc:
        raise InvalidInput(exc.message, details={"theme": [exc.message]}) from exc
    if policy not in POLICIES:
        raise InvalidInput(
            f"The policy must be one of {', '.join(POLICIES)}.",
            details={"policy": ["Unknown policy."]},
        )
    if storyteller in ("", None):
        storyteller = None
    elif storyteller not in STORYTELLERS:
        raise InvalidInput(
            f"The storyteller must be one of {', '.join(STORYTELLERS)}, or none "
            "for the theme's own.",
            details={"storyteller": ["Unknown storyteller."]},
        )
    for name, value, low, high in (
        ("games", games, 1, SIMULATION_MAX_GAMES),
        ("seed", seed, 0, SEED_MAX),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(
                f"The {name} must be a whole number.",
                details={name: ["Not an integer."]},
            )
        if not low <= value <= high:
            raise InvalidInput(
                f"The {name} must be between {low} and {high}.",
                details={name: [f"Out of range {low}..{high}."]},
            )
    if seed + games - 1 > SEED_MAX:
        raise InvalidInput(
            "The last game's seed would not fit in 64 bits; lower the seed.",
            details={"seed": ["Too large for this many games."]},
        )
    return {
        "theme": theme.slug,
        "theme_version": theme.version,
        "policy": policy,
        "storyteller": storyteller,
        "games": games,
        "seed": seed,
    }


def simulation_start(
    *,
    requested_by,
    theme_slug: str,
    policy: str,
    games: int,
    seed: int,
    storyteller: str | None = None,
) -> Job:
    """Queue a batch simulation of one theme by one policy.

    The job pins the theme's current version, so its result can be
    reproduced later. Its task is sent once this transaction commits; with
    no broker configured it runs right then, in this process.
    """
    parameters = _check_simulation(
        theme_slug=theme_slug,
        policy=policy,
        games=games,
        seed=seed,
        storyteller=storyteller,
    )
    with transaction.atomic():
        job = Job.objects.create(
            kind=Job.Kind.SIMULATION,
            parameters=parameters,
            progress_total=games,
            requested_by=requested_by,
            task_id=str(uuid.uuid4()),
        )
        job_id, task_id = job.pk, job.task_id
        transaction.on_commit(lambda: _enqueue_simulation(job_id, task_id))
    logger.info(
        "job queued job=%s kind=simulation theme=%s policy=%s games=%s seed=%s",
        job.pk,
        parameters["theme"],
        policy,
        games,
        seed,
    )
    return job


def _enqueue_simulation(job_id, task_id: str) -> None:
    # Imported here: the task module imports this one.
    from game.tasks import simulation_run

    try:
        simulation_run.apply_async(args=[str(job_id)], task_id=task_id)
    except Exception as exc:
        # The row is committed but no message went out: say so on the job
        # instead of leaving it queued for ever.
        logger.exception("job %s could not be queued", job_id)
        _finish(
            job_id,
            Job.State.FAILED,
            from_states=(Job.State.QUEUED,),
            error=f"Could not reach the task queue: {type(exc).__name__}: {exc}",
        )


def job_claim(*, job_id, task_id: str = "") -> Job | None:
    """Move a queued job to running and return it; None if there is none to run.

    A running job is claimed again by the same task id: that is its message
    handed back after the worker running it died, so the job starts over.
    Any other message for a running or finished job claims nothing.
    """
    pk = parse_uuid(job_id)
    if pk is None:
        return None
    changes = {"state": Job.State.RUNNING, "started": timezone.now()}
    claimable = Q(state=Job.State.QUEUED)
    if task_id:
        changes["task_id"] = task_id
        claimable |= Q(state=Job.State.RUNNING, task_id=task_id)
    if not Job.objects.filter(claimable, pk=pk).update(**changes):
        return None
    return Job.objects.get(pk=pk)


def simulation_execute(*, job_id, task_id: str = "") -> bool:
    """Run a queued simulation job to its end; False if there was none to run.

    Failures, including running past the soft time limit, are recorded on the
    job rather than raised: the job row is what people read.
    """
    job = job_claim(job_id=job_id, task_id=task_id)
    if job is None:
        logger.info("job %s is not queued; nothing to run", job_id)
        return False

    params = job.parameters
    started = time.monotonic()
    try:
        theme = Theme.objects.get(slug=params["theme"], version=params["theme_version"])
        report = simulate.run(
            theme_engine(theme),
            params["policy"],
            params["games"],
            seed0=params["seed"],
            progress=_ProgressReporter(job.pk),
            storyteller=params.get("storyteller"),
        )
    except SoftTimeLimitExceeded:
        limit = settings.CELERY_SIMULATION_SOFT_TIME_LIMIT
        _finish(
            job.pk,
            Job.State.FAILED,
            error=f"Stopped at its time limit of {limit} s; run fewer games per job.",
        )
    except Theme.DoesNotExist:
        _finish(
            job.pk,
            Job.State.FAILED,
            error=f"Theme {params['theme']} {params['theme_version']} "
            "is no longer stored.",
        )
    except Exception as exc:
        logger.exception("simulation job %s failed", job.pk)
        _finish(job.pk, Job.State.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        result = {"report": report, "balance": simulate.balance([report])}
        _finish(job.pk, Job.State.SUCCEEDED, result=result)
    logger.info(
        "job finished job=%s kind=simulation seconds=%.1f",
        job.pk,
        time.monotonic() - started,
    )
    return True


class _ProgressReporter:
    """simulate.run's progress callback, thinned to PROGRESS_INTERVAL."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.last = None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if (
            done < total
            and self.last is not None
            and now - self.last < PROGRESS_INTERVAL
        ):
            return
        self.last = now
        Job.objects.filter(pk=self.job_id, state=Job.State.RUNNING).update(
            progress_done=done, progress_total=total
        )
        event = {"type": "progress", "job": str(self.job_id), "done": done}
        event["total"] = total
        transaction.on_commit(lambda: job_publish(self.job_id, event))


def _finish(
    job_id,
    state: str,
    *,
    from_states=(Job.State.RUNNING,),
    result=None,
    error: str = "",
    progress_done=None,
) -> bool:
    """Record a job's end, unless something else already moved it on."""
    changes = {"state": state, "finished": timezone.now(), "error": error}
    if result is not None:
        changes["result"] = result
    if state == Job.State.SUCCEEDED:
        changes["progress_done"] = (
            F("progress_total") if progress_done is None else progress_done
        )
    ended = Job.objects.filter(pk=job_id, state__in=from_states).update(**changes)
    if ended:
        event = {"type": "finished", "job": str(job_id), "state": state}
        transaction.on_commit(lambda: job_publish(job_id, event))
    return bool(ended)


# --- Clean-ups -----------------------------------------------------------


def games_abandon_idle(*, now=None) -> int:
    """Mark active games nobody has played for GAME_IDLE_DAYS as abandoned.

    The version bump makes a turn that read the game before this ran fail its
    version check, and the condition on ``updated`` is checked again under the
    row lock, so a turn committed meanwhile keeps its game active.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.GAME_IDLE_DAYS)
    return GameSession.objects.filter(
        status=GameSession.Status.ACTIVE, updated__lt=cutoff
    ).update(status=GameSession.Status.ABANDONED, version=F("version") + 1)


def idempotency_keys_purge(*, now=None) -> int:
    """Delete turn idempotency keys older than IDEMPOTENCY_KEY_DAYS.

    A client retrying a submission that old gets a stale-turn answer instead
    of the stored one; the turn is still never played twice.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.IDEMPOTENCY_KEY_DAYS)
    deleted, _ = IdempotencyKey.objects.filter(created__lt=cutoff).delete()
    return deleted


def tokens_flush_expired(*, now=None) -> int:
    """Delete expired refresh tokens and their blacklist entries.

    The same rows simplejwt's ``flushexpiredtokens`` command removes, counted.
    """
    deleted, _ = OutstandingToken.objects.filter(
        expires_at__lte=now or timezone.now()
    ).delete()
    return deleted


def jobs_prune(*, now=None) -> dict:
    """Fail jobs whose worker was lost, and delete old finished jobs.

    A running job is given up on once its task's hard time limit and a
    margin have passed; a queued one once it is older than JOB_KEEP_DAYS.
    """
    now = now or timezone.now()
    keep = timedelta(days=settings.JOB_KEEP_DAYS)
    longest = max(
        settings.CELERY_SIMULATION_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT
    )
    stale_running = Job.objects.filter(
        state=Job.State.RUNNING,
        started__lt=now - timedelta(seconds=longest) - STALE_MARGIN,
    )
    lost = 0
    for job_id in stale_running.values_list("pk", flat=True):
        lost += _finish(
            job_id, Job.State.FAILED, error="Its worker stopped without finishing it."
        )
    for job_id in Job.objects.filter(
        state=Job.State.QUEUED, created__lt=now - keep
    ).values_list("pk", flat=True):
        lost += _finish(
            job_id,
            Job.State.FAILED,
            from_states=(Job.State.QUEUED,),
            error="No worker picked it up.",
        )
    deleted, _ = Job.objects.filter(
        state__in=FINISHED, finished__lt=now - keep
    ).delete()
    return {"failed_lost": lost, "deleted": deleted}


_CLEANUPS = {
    Job.Kind.ABANDON_IDLE: lambda: {"abandoned": games_abandon_idle()},
    Job.Kind.PURGE_IDEMPOTENCY_KEYS: lambda: {"deleted": idempotency_keys_purge()},
    Job.Kind.FLUSH_TOKENS: lambda: {"deleted": tokens_flush_expired()},
    Job.Kind.PRUNE_JOBS: jobs_prune,
    Job.Kind.FAIL_LOST_TURNS: lambda: {"failed": _pending_turns_fail_lost()},
}


def _pending_turns_fail_lost() -> int:
    # Imported here: game.pending imports the game services, which this
    # module's callers may still be loading.
    from game.pending import pending_turns_fail_lost

    return pending_turns_fail_lost()


def cleanup_run(kind: str, *, task_id: str = "") -> Job:
    """Run one clean-up now and record it as a job row, which it returns.

    Each clean-up is idempotent on its own: a second run finds nothing left
    to do and records a run that changed nothing.
    """
    run = _CLEANUPS[kind]
    job = Job.objects.create(
        kind=kind,
        state=Job.State.RUNNING,
        started=timezone.now(),
        progress_total=1,
        task_id=task_id,
    )
    try:
        result = run()
    except SoftTimeLimitExceeded:
        _finish(job.pk, Job.State.FAILED, error="Stopped at its time limit.")
    except Exception as exc:
        logger.exception("clean-up job %s (%s) failed", job.pk, kind)
        _finish(job.pk, Job.State.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        _finish(job.pk, Job.State.SUCCEEDED, result=result)
        logger.info("clean-up done job=%s kind=%s result=%s", job.pk, kind, result)
    job.refresh_from_db()
    return job
