"""System checks for settings combinations that run but are unsafe.

``manage.py check`` (and every server start) reports them. Each names the
setting to change. In production they are errors; the embedded default is a
single-process game on one machine, where some of them are the intended
shape, so they are not raised there.
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"
LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django_prometheus.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _production() -> bool:
    return bool(getattr(settings, "PRODUCTION", False))


@register(Tags.compatibility)
def check_channel_layer(app_configs, **kwargs):
    if not _production():
        return []
    backends = [
        layer.get("BACKEND", "")
        for layer in getattr(settings, "CHANNEL_LAYERS", {}).values()
    ]
    if any(backend == IN_MEMORY_LAYER for backend in backends):
        return [
            Error(
                "The in-memory channel layer is configured in production.",
                hint="It reaches only sockets in the same process, so other "
                "server replicas never see a turn. Set REDIS_URL.",
                id="fortress.E001",
            )
        ]
    return []


@register(Tags.security)
def check_allowed_hosts(app_configs, **kwargs):
    if not _production():
        return []
    if "*" in settings.ALLOWED_HOSTS:
        return [
            Error(
                "ALLOWED_HOSTS contains '*' in production.",
                hint="Any Host header would be accepted, which opens host-header "
                "attacks on password-reset links and caches. List the site's "
                "names in DJANGO_ALLOWED_HOSTS.",
                id="fortress.E002",
            )
        ]
    return []


@register(Tags.security)
def check_refresh_rotation(app_configs, **kwargs):
    jwt = getattr(settings, "SIMPLE_JWT", {})
    if not jwt.get("ROTATE_REFRESH_TOKENS"):
        return []
    blacklist_installed = (
        "rest_framework_simplejwt.token_blacklist" in settings.INSTALLED_APPS
    )
    if not jwt.get("BLACKLIST_AFTER_ROTATION") or not blacklist_installed:
        return [
            Error(
                "Refresh tokens rotate, but a rotated-out token is not blacklisted.",
                hint="Without the blacklist an old refresh token keeps working "
                "after rotation, so a stolen one is never retired. Install "
                "'rest_framework_simplejwt.token_blacklist' and set "
                "BLACKLIST_AFTER_ROTATION.",
                id="fortress.E003",
            )
        ]
    return []


@register(Tags.database)
def check_persistent_connections(app_configs, **kwargs):
    if not getattr(settings, "ASGI_APPLICATION", None):
        return []
    errors = []
    for alias, database in settings.DATABASES.items():
        if database.get("CONN_MAX_AGE", 0) != 0:
            errors.append(
                Error(
                    f"Database '{alias}' keeps persistent connections under ASGI.",
                    hint="Each request runs on a worker thread that may never "
                    "come back, so persistent connections pile up until the "
                    "server runs out. Set CONN_MAX_AGE to 0 and use the "
                    "connection pool (OPTIONS['pool']) on PostgreSQL.",
                    id="fortress.E004",
                )
            )
    return errors


@register(Tags.caches)
def check_shared_cache(app_configs, **kwargs):
    if not _production():
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in LOCAL_CACHES:
        return [
            Warning(
                "The cache is local to each process in production.",
                hint="Throttle counts, WebSocket tickets and cached sessions "
                "would differ between replicas. Set REDIS_URL.",
                id="fortress.W001",
            )
        ]
    return []


@register(Tags.compatibility)
def check_background_tasks(app_configs, **kwargs):
    if not _production():
        return []
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return [
            Warning(
                "Celery tasks run inside the web process in production.",
                hint="Simulations and clean-up would hold a request open. Set "
                "REDIS_URL (or CELERY_BROKER_URL) and run a worker.",
                id="fortress.W002",
            )
        ]
    return []


@register(Tags.database)
def check_database_engine(app_configs, **kwargs):
    if not _production():
        return []
    engine = settings.DATABASES.get("default", {}).get("ENGINE", "")
    if "sqlite" in engine:
        return [
            Warning(
                "SQLite is the database in production.",
                hint="One file on one machine cannot back several server "
                "replicas. Set DATABASE_URL to a PostgreSQL database.",
                id="fortress.W003",
            )
        ]
    return []
