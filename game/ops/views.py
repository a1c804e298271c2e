"""Liveness and readiness probes, and the Prometheus metrics endpoint."""

import hmac
import ipaddress
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

from game import metrics, voices

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """The process is alive and serving; checks nothing beyond that."""
    return JsonResponse({"status": "ok"})


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache():
    # The Redis cache skips its own errors so that play goes on; the probe
    # asks Redis directly, so that an outage is reported with its address.
    client = getattr(getattr(cache, "client", None), "get_client", None)
    if client is not None:
        client(write=True).ping()
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("value written was not read back")
    cache.delete(key)


def _check_channel_layer():
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    # One publish to a group nobody joins: it fails at once if Redis is gone.
    async_to_sync(layer.group_send)("fortress.readyz", {"type": "readyz.ping"})


def _check_broker():
    # Imported here so that the probe module loads even where Celery does not.
    from fortress_site.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _broker_configured() -> bool:
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    return (
        bool(url)
        and not url.startswith("memory://")
        and not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    )


@never_cache
@require_GET
def readyz(request):
    """Every backing service answers; 503 naming the ones that do not."""
    checks = {
        "database": _check_database,
        "cache": _check_cache,
        "channel_layer": _check_channel_layer,
    }
    if _broker_configured():
        checks["broker"] = _check_broker

    results = {}
    failed = []
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = {"status": "fail", "error": str(exc) or type(exc).__name__}
            failed.append(name)
        else:
            results[name] = {"status": "ok"}
        metrics.READINESS.labels(check=name).set(0 if name in failed else 1)

    body = {"status": "fail" if failed else "ok", "checks": results}
    if failed:
        body["failed"] = failed

    # A model server that is down leaves games playable (their agents fall
    # back to the rule-based ones), so it degrades readiness but never fails it.
    servers = voices.voice_servers_check()
    if servers:
        down = sorted(label for label, state in servers.items() if state != "ok")
        results["voices"] = {
            "status": "degraded" if down else "ok",
            "servers": servers,
        }
        metrics.READINESS.labels(check="voices").set(0 if down else 1)
        if down:
            body["degraded"] = ["voices"]
            if not failed:
                body["status"] = "degraded"
    return JsonResponse(body, status=503 if failed else 200)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _metrics_allowed(request) -> bool:
    """A scraper with the configured bearer token, or a local client.

    With METRICS_TOKEN set (always, in production) the token is required from
    everyone. Without one, only clients on the same machine may read: the
    embedded server is a single-user game on loopback.
    """
    token = settings.METRICS_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        )
    return _is_loopback(request.META.get("REMOTE_ADDR", ""))


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus text exposition, for the scraper only."""
    if not _metrics_allowed(request):
        response = HttpResponse(
            "Metrics need a bearer token.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return ExportToDjangoView(request)
