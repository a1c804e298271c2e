"""Starts the real site (migrate, load_themes, daphne) and headless Chromium.

The server runs as a subprocess on a throwaway database, exactly as a player
would meet it: HTTP and WebSocket through daphne, nothing mocked.
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

import pytest

from .actions import sign_up

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT_ROOT = Path(__file__).resolve().parents[3]
SERVER_START_SECONDS = 60


def _require_chromium():
    if Path(CHROMIUM).exists():
        return
    reason = f"browser tests need {CHROMIUM}, which is not installed"
    # In CI a missing browser is a broken environment, not an optional extra.
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
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
        self.name = f"fortress_browser_{uuid.uuid4().hex[:12]}"
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


def _run_manage(env, log, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        timeout=300,
    )
    if result.returncode != 0:
        log.flush()
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed:\n{Path(log.name).read_text()[-4000:]}"
        )


def _wait_until_healthy(base_url, process, log_path):
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                "daphne exited before it was healthy:\n"
                + Path(log_path).read_text()[-4000:]
            )
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"daphne was not healthy within {SERVER_START_SECONDS}s:\n"
        + Path(log_path).read_text()[-4000:]
    )


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    """Base URL of a real daphne server on a fresh, migrated database."""
    _require_chromium()
    workdir = tmp_path_factory.mktemp("browser-site")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fortress_site.settings"}
    env.pop("FORTRESS_PRODUCTION", None)

    scratch = None
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url and _is_postgres(database_url):
        scratch = _PostgresScratch(database_url)
        scratch.create()
        env["DATABASE_URL"] = scratch.url
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env["SQLITE_PATH"] = str(workdir / "site.sqlite3")

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    process = None
    try:
        with open(log_path, "w") as log:
            _run_manage(env, log, "migrate", "--noinput")
            _run_manage(env, log, "load_themes")
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "fortress_site.asgi:application",
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            _wait_until_healthy(base_url, process, log_path)
            yield base_url
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if scratch is not None:
            scratch.drop()
        shutil.rmtree(workdir, ignore_errors=True)


# Playwright's sync API keeps an event loop running in this thread, which
# Django takes for an async context; module scope ends it before the
# database-backed tests in other modules run.
@pytest.fixture(scope="module")
def chromium(live_site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(chromium, live_site):
    context = chromium.new_context(base_url=live_site)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def signed_up(page):
    """A page whose player has just signed up; it shows the lobby."""
    sign_up(page)
    return page
