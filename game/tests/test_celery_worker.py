"""Background jobs on a real Celery worker, through Redis, behind a real daphne.

The site and the worker are separate processes sharing one database and one
Redis, as in production: a simulation asked for over REST is queued in Redis,
run by the worker, and its progress reaches a WebSocket watcher on the site
through the Redis channel layer. Each run uses its own queue and key prefix
on a Redis database of its own, so nothing is left for another run to find.
"""

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from websockets.sync.client import connect as ws_connect

from agents.llm.fake_server import FakeModelServer
from fortress_site.celery import app
from game.live_site import (
    PROJECT_ROOT,
    LiveSite,
    Worker,
    fake_voices,
    free_port,
    redis_environment,
    redis_url,
    require_redis,
)
from game.models import Job
from game.tests.test_deploy_monitoring import _call

WORKER_REDIS_DB = 14
JOB_SECONDS = 120


@pytest.fixture(scope="module")
def model_server():
    with FakeModelServer() as server:
        yield server


@pytest.fixture(scope="module")
def worker_site(tmp_path_factory, model_server):
    url = redis_url(WORKER_REDIS_DB)
    require_redis(url)
    site = LiveSite(tmp_path_factory.mktemp("worker-site"))
    # Only the worker counts into files and serves its own metrics.
    worker = Worker(
        site,
        FORTRESS_WORKER_METRICS_PORT=str(free_port()),
        FORTRESS_WORKER_METRICS_ADDR="127.0.0.1",
        PROMETHEUS_MULTIPROC_DIR=str(site.workdir / "worker-metrics"),
    )
    voices = fake_voices(model_server.url)
    try:
        site.prepare()
        site.env.update(
            {
                **redis_environment(WORKER_REDIS_DB),
                "DJANGO_SUPERUSER_PASSWORD": "keep-ledger-77-mortar",
                "FORTRESS_VOICES": json.dumps(voices),
            }
        )
        site.manage(
            "createsuperuser", "--noinput", "--username", "gm", "--email", "gm@x.test"
        )
        site.start()
        worker.start()
        yield site, worker
    finally:
        worker.stop()
        site.cleanup()


def _token(site) -> str:
    credentials = {"username": "gm", "password": "keep-ledger-77-mortar"}
    status, body = _call(site, "POST", "/api/v1/auth/token/", credentials)
    assert status == 200, body
    return json.loads(body)["access"]


def _wait_for_job(site, worker, token, job_id) -> dict:
    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        status, body = _call(site, "GET", f"/api/v1/jobs/{job_id}/", token=token)
        assert status == 200, body
        job = json.loads(body)
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(
        f"job {job_id} did not finish in {JOB_SECONDS}s; worker log:\n"
        + worker.log_tail()
    )


def test_a_simulation_runs_on_the_worker_and_streams_its_progress(worker_site):
    site, worker = worker_site
    token = _token(site)

    status, body = _call(
        site,
        "POST",
        "/api/v1/simulations/",
        {"theme": "lornhaven", "policy": "random", "games": 300, "seed": 3},
        token=token,
    )
    assert status == 202, body
    job = json.loads(body)
    assert job["state"] != "failed", job["error"]

    status, body = _call(site, "POST", "/api/v1/ws-tickets/", None, token)
    ticket = json.loads(body)["ticket"]
    url = f"ws://127.0.0.1:{site.port}/ws/jobs/{job['id']}/?ticket={ticket}"
    seen = []
    with ws_connect(url, open_timeout=10) as socket:
        deadline = time.monotonic() + JOB_SECONDS
        while time.monotonic() < deadline:
            message = json.loads(socket.recv(timeout=JOB_SECONDS))
            seen.append(message)
            if message.get("state") in ("succeeded", "failed"):
                break

    final = seen[-1]
    assert final["state"] == "succeeded", (final, worker.log_tail())
    assert final["result"]["report"]["games"] == 300
    assert final["progress"] == {"done": 300, "total": 300}
    stored = _wait_for_job(site, worker, token, job["id"])
    assert stored["result"] == final["result"]
    assert "succeeded" in worker.log_tail()


def test_a_voiced_turn_is_played_by_the_worker_and_streamed_live(
    worker_site, model_server
):
    site, worker = worker_site
    token = _token(site)
    status, body = _call(
        site,
        "POST",
        "/api/v1/sessions/",
        {"theme": "plague", "seed": 9, "voice": "fake"},
        token=token,
    )
    assert status == 201, body
    game = json.loads(body)
    status, body = _call(site, "POST", "/api/v1/ws-tickets/", None, token)
    ticket = json.loads(body)["ticket"]
    url = f"ws://127.0.0.1:{site.port}/ws/sessions/{game['id']}/?ticket={ticket}"
    model_server.set_mode("slow", delay=0.3)

    with ws_connect(url, open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        turn_url = f"/api/v1/sessions/{game['id']}/turns/"
        choice = {"expected_turn": 0, "action": {"type": "choose", "option": 1}}
        status, body = _call(site, "POST", turn_url, choice, token)
        assert status == 202, body
        assert _call(site, "POST", turn_url, choice, token)[0] == 409
        seen = []
        while not seen or seen[-1]["type"] not in ("turn", "turn_failed"):
            seen.append(json.loads(socket.recv(timeout=JOB_SECONDS)))
    model_server.set_mode("ok")

    assert seen[-1]["type"] == "turn", (seen[-1], worker.log_tail())
    assert seen[-1]["turn"] == 1
    assert [m["pending"]["agent"] for m in seen if m["type"] == "progress"][-2:] == [
        "events",
        "narrator",
    ]
    exchanges = seen[-1]["record"]["recordings"]
    assert exchanges and all(e["outcome"] == "ok" for e in exchanges), exchanges
    status, body = _call(
        site, "GET", f"/api/v1/sessions/{game['id']}/verify/", None, token
    )
    assert json.loads(body)["ok"] is True

    # The worker that asked the model serves the counts of it.
    port = worker.env["FORTRESS_WORKER_METRICS_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        scraped = r.read().decode()
    for agent in ("characters", "events", "narrator"):
        sample = (
            "fortress_voice_requests_total"
            f'{{agent="{agent}",backend="openai",outcome="ok"}}'
        )
        assert sample in scraped, scraped[:2000]
    assert 'fortress_pending_turns_total{outcome="played"} 1.0' in scraped
    assert "fortress_voice_latency_seconds_bucket" in scraped


def test_the_periodic_clean_ups_run_on_the_worker_by_name(worker_site):
    site, worker = worker_site
    token = _token(site)

    for name in sorted(entry["task"] for entry in app.conf.beat_schedule.values()):
        result = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "fortress_site", "call", name],
            cwd=PROJECT_ROOT,
            env=site.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr

    # Every scheduled task is a clean-up that leaves a job of its own kind.
    expected = {kind: "succeeded" for kind in Job.Kind.values if kind != "simulation"}
    deadline = time.monotonic() + JOB_SECONDS
    kinds = {}
    while time.monotonic() < deadline and len(kinds) < len(expected):
        status, body = _call(site, "GET", "/api/v1/jobs/?limit=50", token=token)
        assert status == 200, body
        kinds = {
            job["kind"]: job["state"]
            for job in json.loads(body)["results"]
            if job["kind"] != "simulation"
        }
        time.sleep(0.3)

    assert len(app.conf.beat_schedule) == len(expected)
    assert kinds == expected, worker.log_tail()


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    registered = set(app.tasks)
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}

    assert scheduled
    assert scheduled <= registered, scheduled - registered
