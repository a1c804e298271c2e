"""Celery tasks. Each takes a job id or nothing and hands it to a service.

All of them are idempotent, so the settings acknowledge a message only after
its task ran and requeue it when its worker dies (CELERY_TASK_ACKS_LATE,
CELERY_TASK_REJECT_ON_WORKER_LOST). Time limits come from the settings too;
simulations get their own, longer ones through CELERY_TASK_ANNOTATIONS.
"""

from celery import shared_task

from game import pending
from game.jobs import services
from game.models import Job


@shared_task(bind=True)
def simulation_run(self, job_id: str) -> dict:
    """Run a queued simulation job; a no-op for any other job."""
    ran = services.simulation_execute(job_id=job_id, task_id=self.request.id or "")
    return {"job": str(job_id), "ran": ran}


def _cleanup(task, kind: str) -> dict:
    job = services.cleanup_run(kind, task_id=task.request.id or "")
    return {"job": str(job.pk), "state": job.state, "result": job.result}


@shared_task(bind=True)
def games_abandon_idle(self) -> dict:
    """Mark games idle for GAME_IDLE_DAYS as abandoned."""
    return _cleanup(self, Job.Kind.ABANDON_IDLE)


@shared_task(bind=True)
def idempotency_keys_purge(self) -> dict:
    """Delete turn idempotency keys older than IDEMPOTENCY_KEY_DAYS."""
    return _cleanup(self, Job.Kind.PURGE_IDEMPOTENCY_KEYS)


@shared_task(bind=True)
def tokens_flush_expired(self) -> dict:
    """Delete expired JWT refresh tokens (and their blacklist entries)."""
    return _cleanup(self, Job.Kind.FLUSH_TOKENS)


@shared_task(bind=True)
def jobs_prune(self) -> dict:
    """Fail jobs whose worker was lost; delete finished jobs past JOB_KEEP_DAYS."""
    return _cleanup(self, Job.Kind.PRUNE_JOBS)


@shared_task(bind=True)
def turn_resolve(self, pending_id: str) -> dict:
    """Play a pending turn whose agents speak through models; a no-op otherwise."""
    played = pending.pending_turn_execute(
        pending_id=pending_id, task_id=self.request.id or ""
    )
    return {"pending": str(pending_id), "ran": played}


@shared_task(bind=True)
def pending_turns_fail_lost(self) -> dict:
    """Give up pending turns whose worker died or whose message was lost."""
    return _cleanup(self, Job.Kind.FAIL_LOST_TURNS)
