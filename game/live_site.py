"""A real site in a subprocess: migrate, load the themes, serve with daphne.

Tests that must meet the product as a player or operator would (browser
journeys, a server restart mid-game) run against this rather than a test
client, and so does the ``screenshots`` command. It uses a throwaway
database: a SQLite file by default, or a scratch PostgreSQL database beside
the one DATABASE_URL names.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_postgres(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


class _PostgresScratch:
    """A database created for one test run beside the one DATABASE_URL names."""

    def __init__(self, url: str):
        import psycopg

        self._psycopg = psycopg
        self.name = f"fortress_live_{uuid.uuid4().hex[:12]}"
        parts = urllib.parse.urlsplit(url)
        # The database DATABASE_URL names need not exist (the test runner
        # creates its own), so CREATE and DROP go through the maintenance one.
        self.admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))

    def _execute(self, sql: str):
        # CREATE and DROP DATABASE refuse to run inside a transaction.
        with self._psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def create(self):
        self._execute(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class LiveSite:
    """One site on one database; the server can be stopped and started again."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fortress_site.settings"}
        self.env.pop("FORTRESS_PRODUCTION", None)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "server.log"
        self._scratch = None
        self._process = None

    def prepare(self):
        """Create the database, migrate it and load the built-in themes."""
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url and _is_postgres(database_url):
            self._scratch = _PostgresScratch(database_url)
            self._scratch.create()
            self.env["DATABASE_URL"] = self._scratch.url
        else:
            self.env.pop("DATABASE_URL", None)
            self.env.pop("REDIS_URL", None)
            self.env["SQLITE_PATH"] = str(self.workdir / "site.sqlite3")
        self.manage("migrate", "--noinput")
        self.manage("load_themes")

    def manage(self, *args, check=True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def start(self):
        log = open(self.log_path, "a")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "fortress_site.asgi:application",
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_until_healthy()

    def stop(self):
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def cleanup(self):
        self.stop()
        if self._scratch is not None:
            self._scratch.drop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text()[-4000:]
        except FileNotFoundError:
            return ""

    def _wait_until_healthy(self):
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    "daphne exited before it was healthy:\n" + self.log_tail()
                )
            try:
                url = f"{self.base_url}/healthz"
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"daphne was not healthy within {SERVER_START_SECONDS}s:\n"
            + self.log_tail()
        )


class Worker:
    """One Celery worker process with the site's environment."""

    def __init__(self, site: LiveSite, **env: str):
        self.site = site
        self.env = env
        self.log_path = site.workdir / "worker.log"
        self.process = None

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "fortress_site",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=PROJECT_ROOT,
            env={**self.site.env, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def stop(self):
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text()[-4000:]
        except FileNotFoundError:
            return ""


def redis_url(database: int) -> str:
    """Redis on the host REDIS_URL names (or the local one), on the given database.

    Live sites get a database of their own: the test run's own cache is
    cleared between tests, which would also clear their queues and groups.
    """
    configured = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parts = urllib.parse.urlsplit(configured)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))


def require_redis(url: str) -> None:
    """Skip without a Redis at url; in CI, where it must be there, fail."""
    import pytest
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"this test needs Redis at {url}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def redis_environment(database: int) -> dict[str, str]:
    """Settings that put a live site on Redis, with a queue and keys of its own."""
    run = uuid.uuid4().hex[:12]
    return {
        "REDIS_URL": redis_url(database),
        "CELERY_TASK_DEFAULT_QUEUE": f"fortress-test-{run}",
        "CACHE_KEY_PREFIX": f"fortress-test-{run}",
    }


def fake_voices(model_url: str, timeout: int = 10) -> dict:
    """A FORTRESS_VOICES setting with one profile, "fake", on a fake model server.

    Its characters, events and narrator agents ask the server at model_url
    (agents.llm.fake_server), which a test can make slow or faulty.
    """
    return {
        "profiles": {
            "fake": {
                "defaults": {
                    "backend": "openai",
                    "base_url": model_url,
                    "model": "fake-voice",
                    "timeout": timeout,
                },
                "agents": {"characters": {}, "events": {}, "narrator": {}},
            }
        }
    }
