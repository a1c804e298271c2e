"""The Celery application; tasks live in the game app.

A worker can serve its own Prometheus metrics (language-model exchanges,
turns played in the background) on FORTRESS_WORKER_METRICS_PORT. Its pool
processes count into files under PROMETHEUS_MULTIPROC_DIR, which must be
set in the worker's environment before it starts (a fresh, empty folder:
counts left there are added in), and the main process serves their sum.
"""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_init, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fortress_site.settings")

# prometheus_client opens its files there as soon as a metric is defined,
# which is before any worker signal fires.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

app = Celery("fortress_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _serve_worker_metrics(**kwargs):
    from django.conf import settings

    port = settings.WORKER_METRICS_PORT
    if not port:
        return
    folder = settings.WORKER_METRICS_DIR
    if not folder:
        raise RuntimeError(
            "FORTRESS_WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR: the "
            "pool processes count into files there."
        )
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    start_http_server(port, addr=settings.WORKER_METRICS_ADDR, registry=registry)


@worker_process_shutdown.connect
def _forget_pool_process(pid=None, **kwargs):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())
