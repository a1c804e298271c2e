"""Starts the real site (migrate, load_themes, daphne) and headless Chromium.

The server runs as a subprocess on a throwaway database, exactly as a player
would meet it: HTTP and WebSocket through daphne, nothing mocked.
"""

import os
from pathlib import Path

import pytest

from game.live_site import LiveSite

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


def _require_chromium():
    if Path(CHROMIUM).exists():
        return
    reason = f"browser tests need {CHROMIUM}, which is not installed"
    # In CI a missing browser is a broken environment, not an optional extra.
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    """Base URL of a real daphne server on a fresh, migrated database."""
    _require_chromium()
    site = LiveSite(tmp_path_factory.mktemp("browser-site"))
    try:
        site.prepare()
        site.start()
        yield site.base_url
    finally:
        site.cleanup()


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
