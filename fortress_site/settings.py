"""Settings for Fortress Director, read from the environment.

With nothing set, the embedded defaults apply: SQLite under ``var/``, an
in-memory channel layer, local-memory cache and Celery tasks run in-process.
Setting DATABASE_URL and REDIS_URL switches to PostgreSQL and Redis.
"""

import json
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
PRODUCTION = env.bool("FORTRESS_PRODUCTION", default=False)

# The embedded default is a local, single-user game: a fixed development key
# is acceptable there and nowhere else, so production refuses to start without
# its own secrets.
_DEV_SECRET = "embedded-development-key-not-for-production"
# Shorter than this, a secret is a placeholder or a typo, not a secret.
SECRET_MIN_LENGTH = 16


def _secret(name: str) -> str:
    value = env.str(name)
    if len(value.strip()) < SECRET_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"{name} must be a random value of at least {SECRET_MIN_LENGTH} "
            "characters (for example `openssl rand -hex 32`)."
        )
    return value


if PRODUCTION:
    SECRET_KEY = _secret("DJANGO_SECRET_KEY")
    JWT_SIGNING_KEY = _secret("JWT_SIGNING_KEY")
    if JWT_SIGNING_KEY == SECRET_KEY:
        raise ImproperlyConfigured(
            "JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY, so that a leak "
            "of one does not give away the other."
        )
    # Prometheus presents this as a bearer token to read /metrics.
    METRICS_TOKEN = _secret("METRICS_TOKEN")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET)
    JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default=_DEV_SECRET + "-jwt")
    # Without a token, /metrics answers only clients on this machine.
    METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "agents",
    "game",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last of the site's own, so it sees a locked-out sign-in's response.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "fortress_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # game.web is a package inside the game app, not an app itself,
            # so its template library is registered here by name.
            "libraries": {"game_extras": "game.web.templatetags.game_extras"},
        },
    },
]

WSGI_APPLICATION = "fortress_site.wsgi.application"
ASGI_APPLICATION = "fortress_site.asgi.application"

# Database: SQLite file by default, a DATABASE_URL otherwise. Both go through
# django-prometheus's instrumented backends so queries and errors are counted.
# Under ASGI a persistent connection would be held per worker thread and
# leak, so CONN_MAX_AGE stays 0; PostgreSQL reuses connections through
# Django's psycopg 3 pool instead.
_INSTRUMENTED_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    _db = env.db_url_config(DATABASE_URL)
    _db["ENGINE"] = _INSTRUMENTED_ENGINES.get(_db["ENGINE"], _db["ENGINE"])
    _db["CONN_MAX_AGE"] = 0
    if _db["ENGINE"].endswith("postgresql") and env.bool("DATABASE_POOL", default=True):
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
        }
    DATABASES = {"default": _db}
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": _INSTRUMENTED_ENGINES["django.db.backends.sqlite3"],
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "fortress.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, when configured, backs the channel layer, the cache (and with it
# DRF's throttles and the login sessions) and Celery.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: each server process subscribes to the groups
            # of its own sockets and Redis pushes each message straight to
            # it. (The list-based layer pulls one message per round trip
            # through a lock all of a process's sockets share, and fell
            # seconds behind under load.) A message nobody listens to is
            # dropped, which is right for live updates: clients resync by
            # turn number.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # A pooled connection left dead by a Redis restart is
                        # replaced on the spot instead of failing a socket.
                        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
                        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
                        "socket_connect_timeout": 2,
                        "socket_timeout": 5,
                        "health_check_interval": 15,
                    }
                ],
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="fortress"),
            # With Redis down the site keeps serving: throttle counts are
            # skipped and sessions are read from the database. Each failure
            # is logged, /readyz names Redis, and WebSocket tickets (which
            # need the cache) are refused with 503.
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "LOG_IGNORED_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
    # Sessions are read from Redis and written through to the database, so
    # a flushed cache signs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache",
        }
    }

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
# Without a broker the embedded default runs tasks in-process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# JSON only: a pickled message from whoever can write to the broker would be
# code run by the worker.
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Job rows hold the results that matter; the backend keeps task states a day.
CELERY_RESULT_EXPIRES = timedelta(
    hours=env.int("CELERY_RESULT_EXPIRES_HOURS", default=24)
)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Every task is idempotent, so a message is acknowledged only once its task
# has run, and one whose worker died is handed to another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Simulations run for minutes: a worker reserves one message at a time
# rather than sitting on messages another worker could be running.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_SIMULATION_SOFT_TIME_LIMIT = env.int(
    "CELERY_SIMULATION_SOFT_TIME_LIMIT", default=3600
)
CELERY_SIMULATION_TIME_LIMIT = env.int(
    "CELERY_SIMULATION_TIME_LIMIT", default=CELERY_SIMULATION_SOFT_TIME_LIMIT + 120
)
CELERY_TASK_ANNOTATIONS = {
    "game.tasks.simulation_run": {
        "soft_time_limit": CELERY_SIMULATION_SOFT_TIME_LIMIT,
        "time_limit": CELERY_SIMULATION_TIME_LIMIT,
    }
}
# Redis hands an unacknowledged message to another worker after this long,
# so it must outlast the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=CELERY_SIMULATION_TIME_LIMIT + 600
    )
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "abandon-idle-games": {
        "task": "game.tasks.games_abandon_idle",
        "schedule": timedelta(hours=1),
    },
    "purge-idempotency-keys": {
        "task": "game.tasks.idempotency_keys_purge",
        "schedule": timedelta(hours=1),
    },
    "flush-expired-tokens": {
        "task": "game.tasks.tokens_flush_expired",
        "schedule": timedelta(days=1),
    },
    "prune-jobs": {
        "task": "game.tasks.jobs_prune",
        "schedule": timedelta(days=1),
    },
}
# A turn whose agents ask language models runs on a worker; this bounds it.
# Each voiced agent may take its timeout times (retries + 1), one after another.
CELERY_TURN_SOFT_TIME_LIMIT = env.int("CELERY_TURN_SOFT_TIME_LIMIT", default=240)
CELERY_TURN_TIME_LIMIT = env.int(
    "CELERY_TURN_TIME_LIMIT", default=CELERY_TURN_SOFT_TIME_LIMIT + 30
)
CELERY_TASK_ANNOTATIONS["game.tasks.turn_resolve"] = {
    "soft_time_limit": CELERY_TURN_SOFT_TIME_LIMIT,
    "time_limit": CELERY_TURN_TIME_LIMIT,
}
# A turn still queued this long is taken as lost (a broker restarted, say),
# so the player can submit again.
PENDING_TURN_QUEUE_SECONDS = env.int("PENDING_TURN_QUEUE_SECONDS", default=600)
CELERY_BEAT_SCHEDULE["fail-lost-turns"] = {
    "task": "game.tasks.pending_turns_fail_lost",
    "schedule": timedelta(minutes=5),
}

# A worker serves its own /metrics on this port when it is set (0: none);
# prometheus_client reads PROMETHEUS_MULTIPROC_DIR itself, at import.
WORKER_METRICS_PORT = env.int("FORTRESS_WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDR = env.str("FORTRESS_WORKER_METRICS_ADDR", default="0.0.0.0")
WORKER_METRICS_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# Language-model voices (docs/language-models.md): a JSON object of named
# voice profiles, inline or in a file. Empty: every game is rule-based.
# FORTRESS_VOICES_FILE, when set, is read instead of FORTRESS_VOICES.
_VOICES_FILE = env.str("FORTRESS_VOICES_FILE", default="")
_VOICES_SOURCE = _VOICES_FILE or "FORTRESS_VOICES"
try:
    if _VOICES_FILE:
        _VOICES_TEXT = Path(_VOICES_FILE).read_text(encoding="utf-8")
    else:
        _VOICES_TEXT = env.str("FORTRESS_VOICES", default="") or "{}"
    FORTRESS_VOICES = json.loads(_VOICES_TEXT)
except OSError as exc:
    raise ImproperlyConfigured(
        f"FORTRESS_VOICES_FILE cannot be read: {exc.strerror} ({_VOICES_FILE})."
    ) from exc
except ValueError as exc:
    raise ImproperlyConfigured(
        f"{_VOICES_SOURCE} is not valid JSON: {exc}. See docs/language-models.md."
    ) from exc

# What the clean-up tasks keep: games untouched this long count as abandoned,
# turn idempotency keys and finished job rows older than this are deleted.
GAME_IDLE_DAYS = env.int("GAME_IDLE_DAYS", default=30)
IDEMPOTENCY_KEY_DAYS = env.int("IDEMPOTENCY_KEY_DAYS", default=7)
JOB_KEEP_DAYS = env.int("JOB_KEEP_DAYS", default=30)

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": (
            "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
        )
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "lobby"
LOGOUT_REDIRECT_URL = "landing"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The browser pages are marked for translation; English is the one shipped.
# A language joins this list once its catalogue is compiled under locale/.
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
if not PRODUCTION:
    # WhiteNoise warns about a missing STATIC_ROOT even when it serves from
    # the source folders, so the embedded default creates the empty folder.
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "game.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "game.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "game.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Throttle counts live in the cache: Redis when configured, so every
    # server replica sees the same counts.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    # Views name a tighter scope of their own: "auth" for signing in,
    # refreshing and registering (per address), "turns" for turn submission
    # (per player).
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
        "turns": env.str("THROTTLE_TURNS", default="120/min"),
    },
}

# Failed sign-ins (browser, admin and API alike) are counted per username
# and address by django-axes; past the limit that pair is locked out for the
# cool-off time, and a successful sign-in clears the count.
AUTHENTICATION_BACKENDS = [
    "game.lockout.LockoutBackend",
    # Django's password check, with usernames in any case (game.accounts).
    "game.accounts.AnyCaseUsernameBackend",
]
AXES_FAILURE_LIMIT = env.int("FORTRESS_LOGIN_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(
    seconds=env.int("FORTRESS_LOGIN_LOCKOUT_SECONDS", default=900)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# "ADA" and "ada" are one account, so their failures count together.
AXES_USERNAME_CALLABLE = "game.accounts.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "game.lockout.lockout_response"
# Sign-in attempts are logged by the site itself, without passwords.
AXES_VERBOSE = False

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=env.int("JWT_ACCESS_MINUTES", default=15)
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ALGORITHM": "HS256",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fortress Director API",
    "DESCRIPTION": "Play and inspect Fortress Director games over REST.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # After the enums, the errors every operation can give (game.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "game.api.schema.document_common_errors",
    ],
}

# Lifetime of the one-use ticket an API client trades for a WebSocket join.
WS_TICKET_SECONDS = env.int("WS_TICKET_SECONDS", default=30)
# A socket whose client sends nothing, not even a ping, for this long is
# closed; the browser pings every 30 seconds.
WS_IDLE_SECONDS = env.float("WS_IDLE_SECONDS", default=120.0)
# A game's sockets hear of joins and leaves at once, then at most once per
# this many seconds from each server process, with the count as it stands.
WS_WATCHERS_SECONDS = env.float("WS_WATCHERS_SECONDS", default=1.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes reports every sign-in at INFO; failures and lockouts are
    # warnings, which is what an operator needs.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Production hardening, per Django's deployment checklist. Behind a TLS
# proxy, set DJANGO_SECURE_PROXY_SSL=true so Django trusts X-Forwarded-Proto.
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The preload directive only matters once the domain is submitted to the
    # browsers' preload list; DJANGO_HSTS_PRELOAD=false leaves it out.
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    if env.bool("DJANGO_SECURE_PROXY_SSL", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        },
    }
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Outside production the static files are served straight from the source
# folders, so a fresh clone needs no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
