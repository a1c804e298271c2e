"""Probes, metrics and the OpenAPI schema."""

import pytest
from django.core.management import call_command

from game.tests.conftest import choose, start_game

pytestmark = pytest.mark.django_db


def test_healthz_says_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_cache_and_channel_layer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    checks = response.json()["checks"]
    for name in ("database", "cache", "channel_layer"):
        assert checks[name] == {"status": "ok"}


def test_readyz_is_503_naming_a_failed_check(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


@pytest.mark.django_db(transaction=True)
def test_metrics_count_committed_turns(as_ada, theme, client):
    def played():
        for line in client.get("/metrics").content.decode().splitlines():
            if line.startswith('fortress_turns_total{outcome="played"}'):
                return float(line.split()[-1])
        return 0.0

    before = played()
    game = start_game(as_ada, theme)
    assert choose(as_ada, game["id"], 0).status_code == 201

    text = client.get("/metrics").content.decode()
    assert played() == before + 1
    assert "fortress_turn_duration_seconds_count" in text


def test_openapi_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/sessions/{session_id}/turns/" in text
    assert "Idempotency-Key" in text


def test_swagger_ui_is_served_without_a_cdn(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn.jsdelivr" not in html
    assert "swagger-ui" in html
