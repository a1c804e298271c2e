"""Reads of background jobs; nothing here writes a row."""

from django.db.models import Count, QuerySet

from game.errors import NotFound
from game.models import Job
from game.selectors import parse_uuid


def job_get(*, job_id) -> Job:
    """One job by id; NotFound for a malformed or unknown id."""
    pk = parse_uuid(job_id)
    job = (
        Job.objects.select_related("requested_by").filter(pk=pk).first() if pk else None
    )
    if job is None:
        raise NotFound("No such job.", details={"job": str(job_id)})
    return job


def job_list(*, kind: str | None = None, state: str | None = None) -> QuerySet[Job]:
    """Jobs, newest first, optionally of one kind and state."""
    jobs = Job.objects.select_related("requested_by")
    if kind:
        jobs = jobs.filter(kind=kind)
    if state:
        jobs = jobs.filter(state=state)
    return jobs.order_by("-created")


def job_view(job: Job, *, with_result: bool = True) -> dict:
    """A job as plain JSON-ready data, the same for the API and the socket."""
    view = {
        "id": str(job.id),
        "kind": job.kind,
        "state": job.state,
        "parameters": job.parameters,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "error": job.error,
        "requested_by": job.requested_by.get_username() if job.requested_by else None,
        "created": job.created.isoformat(),
        "started": job.started.isoformat() if job.started else None,
        "finished": job.finished.isoformat() if job.finished else None,
    }
    if with_result:
        view["result"] = job.result
    return view


def job_counts() -> dict[tuple[str, str], int]:
    """How many job rows there are of each (kind, state) that has any."""
    rows = (
        Job.objects.order_by()  # no default ordering in the GROUP BY
        .values_list("kind", "state")
        .annotate(count=Count("pk"))
    )
    return {(kind, state): count for kind, state, count in rows}
