"""Job outcomes and the broker's backlog, read by the web process at scrape time.

Workers run in other processes (often other machines), so counters kept in
a worker would never reach the web's /metrics. Instead this collector reads
the job rows and the broker's queue lengths whenever Prometheus scrapes.
Labels are bounded: job kinds and states are fixed sets, queues are the
configured ones. A failing database or broker leaves its metric without
samples; the scrape itself never fails.
"""

import logging

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

RUNS = "fortress_task_runs"
QUEUE_LENGTH = "fortress_task_queue_length"
RUNS_HELP = "Background job rows by kind of task and state."
QUEUE_HELP = "Messages waiting in the Celery broker, by queue (Redis broker only)."

# kombu's Redis transport keeps a queue's prioritised messages in extra lists
# named queue + separator + priority step; the length is their sum.
_REDIS_PRIORITY_SEP = "\x06\x16"
_REDIS_PRIORITY_STEPS = (3, 6, 9)
_REDIS_TIMEOUT = 0.5

_redis_clients: dict[str, object] = {}
_registered: list[Collector] = []


def _runs_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(RUNS, RUNS_HELP, labels=["task", "state"])


def _queue_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(QUEUE_LENGTH, QUEUE_HELP, labels=["queue"])


def _celery_app():
    from fortress_site.celery import app

    return app


def _queue_names(app) -> list[str]:
    names = {app.conf.task_default_queue}
    for queue in app.conf.task_queues or ():
        names.add(getattr(queue, "name", str(queue)))
    return sorted(name for name in names if name)


def _redis_client(url: str):
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(
            url,
            socket_timeout=_REDIS_TIMEOUT,
            socket_connect_timeout=_REDIS_TIMEOUT,
        )
        _redis_clients[url] = client
    return client


def queue_lengths() -> dict[str, int]:
    """Waiting messages per configured queue; empty unless the broker is Redis."""
    app = _celery_app()
    url = app.conf.broker_url or ""
    if app.conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return {}
    prefix = (app.conf.broker_transport_options or {}).get("global_keyprefix", "")
    client = _redis_client(url)
    names = _queue_names(app)
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            key = prefix + name
            pipe.llen(key)
            for step in _REDIS_PRIORITY_STEPS:
                pipe.llen(f"{key}{_REDIS_PRIORITY_SEP}{step}")
        sizes = pipe.execute()
    per_queue = 1 + len(_REDIS_PRIORITY_STEPS)
    return {
        name: sum(sizes[i * per_queue : (i + 1) * per_queue])
        for i, name in enumerate(names)
    }


class JobCollector(Collector):
    """Exports fortress_task_runs{task,state} and fortress_task_queue_length."""

    def describe(self):
        # Registration must not touch the database or the broker.
        return [_runs_family(), _queue_family()]

    def collect(self):
        yield self._runs()
        yield self._queues()

    def _runs(self) -> GaugeMetricFamily:
        family = _runs_family()
        try:
            from game.jobs.selectors import job_counts
            from game.models import Job

            counts = job_counts()
            for kind in Job.Kind.values:
                for state in Job.State.values:
                    family.add_metric([kind, state], counts.get((kind, state), 0))
        except Exception as exc:
            logger.warning("job counts left out of /metrics: %s", exc)
            family = _runs_family()
        return family

    def _queues(self) -> GaugeMetricFamily:
        family = _queue_family()
        try:
            for name, length in queue_lengths().items():
                family.add_metric([name], length)
        except Exception as exc:
            logger.warning("queue lengths left out of /metrics: %s", exc)
            family = _queue_family()
        return family


def register_job_collector(registry=REGISTRY) -> Collector:
    """Register the collector once per process; later calls return the first."""
    if not _registered:
        collector = JobCollector()
        registry.register(collector)
        _registered.append(collector)
    return _registered[0]
