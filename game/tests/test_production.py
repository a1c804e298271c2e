"""Production configuration: refusal without secrets, Django's deployment
checklist, the site's own checks for unsafe combinations, and who may read
/metrics."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from prometheus_client import REGISTRY

from game.tests.conftest import choose, start_game

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides):
    """A complete production environment; values of None are removed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "FORTRESS_", "JWT_", "METRICS_"))
        and key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
    }
    env.update(
        FORTRESS_PRODUCTION="true",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50),
        METRICS_TOKEN=secrets.token_urlsafe(24),
        DJANGO_ALLOWED_HOSTS="fortress.example.org",
        DATABASE_URL="postgres://fortress@db.invalid:5432/fortress",
        REDIS_URL="redis://cache.invalid:6379/0",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checklist_at_warning_level():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "METRICS_TOKEN"]
)
def test_production_refuses_to_start_without_each_secret(missing):
    result = manage("check", env=production_env(**{missing: None}))
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("JWT_SIGNING_KEY", ""), ("METRICS_TOKEN", "   "), ("DJANGO_SECRET_KEY", "x")],
)
def test_production_refuses_empty_or_short_secrets(name, value):
    result = manage("check", env=production_env(**{name: value}))
    assert result.returncode != 0
    assert f"{name} must be a random value of at least 16 characters" in (result.stderr)


def test_production_refuses_one_key_for_both_signatures():
    key = secrets.token_urlsafe(50)
    result = manage(
        "check", env=production_env(DJANGO_SECRET_KEY=key, JWT_SIGNING_KEY=key)
    )
    assert result.returncode != 0
    assert "JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY" in result.stderr


def test_production_with_the_embedded_backends_is_refused_by_name():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(DATABASE_URL=None, REDIS_URL=None, DJANGO_ALLOWED_HOSTS="*"),
    )
    assert result.returncode != 0
    for check_id in (
        "fortress.E001",
        "fortress.E002",
        "fortress.W001",
        "fortress.W002",
        "fortress.W003",
    ):
        assert check_id in result.stderr, result.stderr


def ids(**kwargs):
    return {message.id for message in run_checks(**kwargs)}


def test_embedded_default_raises_none_of_the_site_checks():
    assert not {i for i in ids() if i.startswith("fortress.")}


def test_in_memory_layer_and_wildcard_host_are_errors_only_in_production(settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    assert not {"fortress.E001", "fortress.E002"} & ids()
    settings.PRODUCTION = True
    assert {"fortress.E001", "fortress.E002"} <= ids()


def test_rotation_without_blacklist_is_an_error(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "BLACKLIST_AFTER_ROTATION": False}
    assert "fortress.E003" in ids()


def test_rotation_without_the_blacklist_app_is_an_error(settings):
    settings.INSTALLED_APPS = [
        app
        for app in settings.INSTALLED_APPS
        if app != "rest_framework_simplejwt.token_blacklist"
    ]
    assert "fortress.E003" in ids()


def test_persistent_connections_under_asgi_are_an_error(monkeypatch):
    from django.conf import settings

    monkeypatch.setitem(settings.DATABASES["default"], "CONN_MAX_AGE", 60)
    assert "fortress.E004" in ids()


# ---- /metrics -------------------------------------------------------------


def test_metrics_without_a_token_answer_only_local_clients(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    refused = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_metrics_with_a_token_need_it_from_everyone(client, settings):
    settings.METRICS_TOKEN = "scrape-me-7Qx"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert wrong.status_code == 401
    basic = client.get("/metrics", HTTP_AUTHORIZATION="Basic scrape-me-7Qx")
    assert basic.status_code == 401
    good = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-7Qx", REMOTE_ADDR="203.0.113.9"
    )
    assert good.status_code == 200
    assert b"fortress_turns_total" in good.content


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_readiness_probe_publishes_each_check_as_a_gauge(client, settings):
    assert client.get("/readyz").status_code == 200
    assert sample("fortress_readiness_check", check="database") == 1.0
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    assert client.get("/readyz").status_code == 503
    assert sample("fortress_readiness_check", check="cache") == 0.0
    assert sample("fortress_readiness_check", check="database") == 1.0


@pytest.mark.django_db(transaction=True)
def test_committed_turns_count_the_judges_verdicts_by_function(as_ada, theme):
    game = start_game(as_ada, theme)
    response = choose(as_ada, game["id"], 0)
    assert response.status_code == 201
    proposals = response.json()["record"]["proposals"]
    assert proposals
    first = proposals[0]
    labels = {"function": first["function"], "verdict": first["verdict"]}
    before = sample("fortress_verdicts_total", **labels)
    game = start_game(as_ada, theme, seed=game["seed"])
    again = choose(as_ada, game["id"], 0).json()["record"]["proposals"]
    expected = sum(
        1
        for p in again
        if p["function"] == first["function"] and p["verdict"] == first["verdict"]
    )
    assert sample("fortress_verdicts_total", **labels) == before + expected


@pytest.mark.django_db
def test_api_throttle_counts_live_in_the_shared_cache(client, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "3/min"}
    )
    codes = [client.get("/api/v1/functions/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert int(client.get("/api/v1/functions/")["Retry-After"]) > 0
    assert len(cache.get("throttle_anon_127.0.0.1")) == 3


def test_collectstatic_builds_compressed_hashed_files_for_production(tmp_path):
    env = production_env(STATIC_ROOT=str(tmp_path))
    result = manage("collectstatic", "--noinput", env=env)
    assert result.returncode == 0, result.stderr
    manifest = tmp_path / "staticfiles.json"
    assert manifest.exists()
    hashed = manage(
        "shell",
        "-c",
        "from django.templatetags.static import static; print(static('js/game.js'))",
        env=env,
    )
    assert hashed.returncode == 0, hashed.stderr
    url = hashed.stdout.strip().splitlines()[-1]
    assert url.startswith("/static/js/game.") and url != "/static/js/game.js"
    served = tmp_path / url.removeprefix("/static/")
    assert served.exists()
    assert served.with_name(served.name + ".gz").exists()
