"""Background jobs in-process: simulations started over REST and in the admin,
their live progress socket, the periodic clean-ups, and their metrics.

With no broker configured (the embedded default) a job's task runs in this
process as soon as the row is committed; test_celery_worker.py runs the same
jobs on a real worker.
"""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from fortress_site.asgi import application
from fortress_site.celery import app
from game import tasks
from game.jobs import services as job_services
from game.models import GameSession, IdempotencyKey, Job
from game.tests.conftest import choose, client_for, error_of, start_game

ORIGIN = [(b"origin", b"http://testserver")]


def start_simulation(client, **fields):
    body = {"theme": "lornhaven", "policy": "random", "games": 3, "seed": 11}
    return client.post("/api/v1/simulations/", {**body, **fields}, format="json")


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """Run tasks here even when REDIS_URL configures a broker for this run."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def as_gemma(gemma):
    return client_for(gemma)


@pytest.mark.django_db(transaction=True)
def test_game_master_simulation_runs_and_reports_every_game(as_gemma, theme):
    response = start_simulation(as_gemma, games=4)

    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/v1/jobs/{job['id']}/"
    assert job["kind"] == "simulation"
    assert job["requested_by"] == "gemma"
    assert job["parameters"]["theme_version"] == theme.version

    job = as_gemma.get(response["Location"]).json()
    assert job["state"] == "succeeded", job["error"]
    assert job["progress"] == {"done": 4, "total": 4}
    report = job["result"]["report"]
    assert report["games"] == 4
    assert report["policy"] == "random"
    assert sum(ending["count"] for ending in report["endings"]) == 4
    assert job["result"]["balance"], "the balance checks are part of the result"


@pytest.mark.django_db(transaction=True)
def test_the_same_seeds_give_the_same_report(as_gemma, theme):
    first = as_gemma.get(start_simulation(as_gemma)["Location"]).json()
    second = as_gemma.get(start_simulation(as_gemma)["Location"]).json()

    assert first["id"] != second["id"]
    assert first["result"]["report"] == second["result"]["report"]


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_simulation_task_changes_nothing(as_gemma, theme):
    job_id = start_simulation(as_gemma)["Location"].split("/")[-2]
    before = Job.objects.get(pk=job_id)

    outcome = tasks.simulation_run.apply(args=[job_id]).get()

    assert outcome == {"job": job_id, "ran": False}
    after = Job.objects.get(pk=job_id)
    assert (after.state, after.finished, after.result) == (
        before.state,
        before.finished,
        before.result,
    )


@pytest.mark.django_db(transaction=True)
def test_a_task_for_an_unknown_or_malformed_job_is_a_no_op(db):
    assert tasks.simulation_run.apply(args=["not-a-job"]).get()["ran"] is False
    unknown = "00000000-0000-4000-8000-000000000000"
    assert tasks.simulation_run.apply(args=[unknown]).get()["ran"] is False


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"theme": "atlantis"}, "theme"),
        ({"policy": "lucky"}, "policy"),
        ({"games": 0}, "games"),
        ({"games": 20_001}, "games"),
        ({"seed": -1}, "seed"),
        ({"games": "many"}, "games"),
        ({"storyteller": "moody"}, "storyteller"),
        ({"speed": "fast"}, "speed"),
    ],
)
def test_a_bad_simulation_request_is_a_400_naming_the_field(
    as_gemma, theme, fields, field
):
    response = start_simulation(as_gemma, **fields)

    assert response.status_code == 400, response.content
    assert field in error_of(response)["details"]
    assert not Job.objects.exists()


def test_a_seed_range_past_64_bits_is_refused(as_gemma, theme):
    response = start_simulation(as_gemma, seed=2**63 - 2, games=5)

    assert response.status_code == 400
    assert "seed" in error_of(response)["details"]


def test_players_and_strangers_cannot_use_jobs(as_ada, anonymous, theme):
    assert start_simulation(as_ada).status_code == 403
    assert as_ada.get("/api/v1/jobs/").status_code == 403
    assert start_simulation(anonymous).status_code == 401
    assert anonymous.get("/api/v1/jobs/").status_code == 401
    assert not Job.objects.exists()


def test_an_unknown_job_is_a_404(as_gemma):
    response = as_gemma.get("/api/v1/jobs/00000000-0000-4000-8000-000000000000/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert as_gemma.get("/api/v1/jobs/not-a-uuid/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_job_list_filters_by_kind_and_leaves_results_out(as_gemma, theme):
    start_simulation(as_gemma)
    tasks.idempotency_keys_purge.apply()

    everything = as_gemma.get("/api/v1/jobs/").json()
    simulations = as_gemma.get("/api/v1/jobs/?kind=simulation").json()

    assert everything["count"] == 2
    assert [job["kind"] for job in simulations["results"]] == ["simulation"]
    assert "result" not in simulations["results"][0]


@pytest.mark.django_db(transaction=True)
def test_a_queue_that_cannot_be_reached_fails_the_job_with_a_reason(
    as_gemma, theme, monkeypatch
):
    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.simulation_run, "apply_async", unreachable)

    response = start_simulation(as_gemma)

    assert response.status_code == 202
    job = as_gemma.get(response["Location"]).json()
    assert job["state"] == "failed"
    assert "Could not reach the task queue" in job["error"]


# --- The progress socket -------------------------------------------------


def _ticket(client) -> str:
    return client.post("/api/v1/ws-tickets/").json()["ticket"]


def _job_socket(job_id, ticket):
    return WebsocketCommunicator(
        application, f"/ws/jobs/{job_id}/?ticket={ticket}", headers=ORIGIN
    )


def _queued_simulation(user, games=3) -> Job:
    """A job as simulation_start leaves it before its task has run."""
    return Job.objects.create(
        kind=Job.Kind.SIMULATION,
        parameters=job_services._check_simulation(
            theme_slug="lornhaven",
            policy="random",
            games=games,
            seed=5,
            storyteller=None,
        ),
        progress_total=games,
        requested_by=user,
    )


@pytest.mark.django_db(transaction=True)
def test_a_watcher_sees_progress_then_the_report(as_gemma, gemma, theme):
    job = _queued_simulation(gemma)
    ticket = _ticket(as_gemma)

    async def scenario():
        ws = _job_socket(job.pk, ticket)
        connected, _ = await ws.connect()
        assert connected
        hello = await ws.receive_json_from(timeout=5)
        assert (hello["type"], hello["job"], hello["state"]) == (
            "hello",
            str(job.pk),
            "queued",
        )

        ran = await sync_to_async(job_services.simulation_execute)(job_id=job.pk)
        assert ran

        progress = await ws.receive_json_from(timeout=10)
        while progress["type"] == "progress" and progress["done"] < 3:
            progress = await ws.receive_json_from(timeout=10)
        assert progress == {
            "type": "progress",
            "job": str(job.pk),
            "done": 3,
            "total": 3,
        }
        finished = await ws.receive_json_from(timeout=10)
        assert finished["type"] == "finished"
        assert finished["state"] == "succeeded"
        assert finished["result"]["report"]["games"] == 3
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_watcher_who_joins_late_gets_the_finished_job(as_gemma, theme):
    job_id = start_simulation(as_gemma)["Location"].split("/")[-2]
    ticket = _ticket(as_gemma)

    async def scenario():
        ws = _job_socket(job_id, ticket)
        assert (await ws.connect())[0]
        hello = await ws.receive_json_from(timeout=5)
        assert hello["state"] == "succeeded"
        assert hello["result"]["report"]["games"] == 3
        await ws.send_json_to({"type": "run", "games": 99})
        refusal = await ws.receive_json_from(timeout=5)
        assert refusal["code"] == "read_only"
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_only_staff_may_watch_a_job_and_only_a_real_one(as_ada, as_gemma, gemma, theme):
    job = _queued_simulation(gemma)
    player_ticket = _ticket(as_ada)
    staff_ticket = _ticket(as_gemma)

    async def scenario():
        ws = _job_socket(job.pk, player_ticket)
        connected, code = await ws.connect()
        assert (connected, code) == (False, 4403)

        ws = _job_socket("00000000-0000-4000-8000-000000000000", staff_ticket)
        connected, code = await ws.connect()
        assert (connected, code) == (False, 4404)

        ws = WebsocketCommunicator(application, f"/ws/jobs/{job.pk}/")
        connected, code = await ws.connect()
        assert (connected, code) == (False, 4401)

    async_to_sync(scenario)()


# --- The admin -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_game_master_starts_a_simulation_in_the_admin_and_reads_its_chart(
    client, gemma, theme
):
    client.force_login(gemma)

    form = client.get("/admin/game/job/simulate/")
    assert form.status_code == 200
    assert b"Lornhaven" in form.content

    response = client.post(
        "/admin/game/job/simulate/",
        {"theme": "lornhaven", "policy": "cautious", "games": 3, "seed": 2},
    )

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/game/job/{job.pk}/change/"
    page = client.get(response["Location"]).content.decode()
    assert job.state == Job.State.SUCCEEDED
    assert "<svg" in page
    assert "Ending shares by policy" in page
    listing = client.get("/admin/game/job/").content.decode()
    assert "lornhaven · cautious" in listing
    assert "Start a simulation" in listing


def test_the_admin_form_refuses_bad_input_and_starts_nothing(client, gemma, theme):
    client.force_login(gemma)

    response = client.post(
        "/admin/game/job/simulate/",
        {"theme": "lornhaven", "policy": "random", "games": 0, "seed": 1},
    )

    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not Job.objects.exists()


def test_staff_without_the_add_permission_cannot_start_simulations(
    client, make_user, theme
):
    viewer = make_user("vera", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client.force_login(viewer)

    assert client.get("/admin/game/job/").status_code == 200
    assert client.get("/admin/game/job/simulate/").status_code == 403
    assert b"Start a simulation" not in client.get("/admin/game/job/").content


def test_players_are_sent_to_the_admin_login(client, ada):
    client.force_login(ada)

    response = client.get("/admin/game/job/simulate/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- Clean-ups -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_idle_games_are_abandoned_once_and_refuse_turns(as_ada, theme, settings):
    idle = start_game(as_ada, theme, seed=1)
    fresh = start_game(as_ada, theme, seed=2)
    long_ago = timezone.now() - timedelta(days=settings.GAME_IDLE_DAYS + 1)
    GameSession.objects.filter(pk=idle["id"]).update(updated=long_ago)

    first = tasks.games_abandon_idle.apply().get()
    second = tasks.games_abandon_idle.apply().get()

    assert (first["state"], first["result"]) == ("succeeded", {"abandoned": 1})
    assert second["result"] == {"abandoned": 0}
    statuses = dict(GameSession.objects.values_list("id", "status"))
    assert statuses == {
        GameSession.objects.get(pk=idle["id"]).pk: "abandoned",
        GameSession.objects.get(pk=fresh["id"]).pk: "active",
    }
    refused = choose(as_ada, idle["id"], 0)
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "game_over"
    assert choose(as_ada, fresh["id"], 0).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_old_idempotency_keys_are_purged(as_ada, theme, settings):
    game = start_game(as_ada, theme)
    assert choose(as_ada, game["id"], 0, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    assert choose(as_ada, game["id"], 1, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201
    old = timezone.now() - timedelta(days=settings.IDEMPOTENCY_KEY_DAYS + 1)
    IdempotencyKey.objects.filter(key="k-1").update(created=old)

    outcome = tasks.idempotency_keys_purge.apply().get()

    assert outcome["result"] == {"deleted": 1}
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k-2"]


@pytest.mark.django_db(transaction=True)
def test_expired_refresh_tokens_are_flushed(ada, anonymous):
    credentials = {"username": "ada", "password": "siege-engine-47-tallow"}
    for _ in range(2):
        assert anonymous.post("/api/v1/auth/token/", credentials).status_code == 200
    expired = OutstandingToken.objects.order_by("pk").first()
    OutstandingToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    outcome = tasks.tokens_flush_expired.apply().get()

    assert outcome["result"] == {"deleted": 1}
    assert OutstandingToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_lost_and_old_jobs_are_pruned(gemma, theme, settings):
    now = timezone.now()
    lost = _queued_simulation(gemma)
    longest = max(
        settings.CELERY_SIMULATION_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT
    )
    Job.objects.filter(pk=lost.pk).update(
        state=Job.State.RUNNING,
        started=now - timedelta(seconds=longest) - timedelta(minutes=11),
    )
    recent = _queued_simulation(gemma)
    Job.objects.filter(pk=recent.pk).update(
        state=Job.State.RUNNING, started=now - timedelta(minutes=1)
    )
    old = _queued_simulation(gemma)
    Job.objects.filter(pk=old.pk).update(
        state=Job.State.SUCCEEDED,
        finished=now - timedelta(days=settings.JOB_KEEP_DAYS + 1),
    )

    outcome = tasks.jobs_prune.apply().get()

    assert outcome["result"] == {"failed_lost": 1, "deleted": 1}
    lost.refresh_from_db()
    assert lost.state == Job.State.FAILED
    assert "worker stopped" in lost.error
    assert Job.objects.get(pk=recent.pk).state == Job.State.RUNNING
    assert not Job.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_clean_up_is_recorded_as_failed(monkeypatch):
    def broken():
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(job_services._CLEANUPS, Job.Kind.FLUSH_TOKENS, broken)

    outcome = tasks.tokens_flush_expired.apply().get()

    assert outcome["state"] == "failed"
    assert Job.objects.get().error == "RuntimeError: disk on fire"


# --- Metrics -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_metrics_count_jobs_by_kind_and_state(as_gemma, client, theme):
    start_simulation(as_gemma)
    tasks.jobs_prune.apply()

    text = client.get("/metrics").content.decode()

    assert 'fortress_task_runs{state="succeeded",task="simulation"} 1.0' in text
    assert 'fortress_task_runs{state="succeeded",task="prune_jobs"} 1.0' in text
    assert 'fortress_task_runs{state="failed",task="simulation"} 0.0' in text


@pytest.mark.django_db(transaction=True)
def test_a_simulation_whose_worker_died_runs_again_from_its_own_message(gemma, theme):
    job = _queued_simulation(gemma)
    # Its worker took it and died: the row says running, under that message.
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, task_id="message-1", progress_done=1
    )

    other = tasks.simulation_run.apply(args=[str(job.pk)], task_id="message-2")
    assert other.get()["ran"] is False

    again = tasks.simulation_run.apply(args=[str(job.pk)], task_id="message-1")

    assert again.get()["ran"] is True
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert job.result["report"]["games"] == 3
