"""A game in the browser whose agents speak through a (fake) language model.

The fake model server runs in this process on loopback and answers a little
slowly, so the page can be seen telling the player which agent is at work
before the turn arrives. The site is a real daphne on its own database with
the fake server as its default voice; when the run has Redis, the site uses
it too and a real Celery worker plays the turns.
"""

import json
import os
import re

import pytest
from playwright.sync_api import expect

from agents.llm.fake_server import FakeModelServer
from game.live_site import (
    LiveSite,
    Worker,
    redis_environment,
    redis_url,
    require_redis,
)

from .actions import sign_up

pytestmark = pytest.mark.browser

AGENTS = {"planner": {}, "characters": {}, "events": {}, "narrator": {}}
VOICED_REDIS_DB = 13


@pytest.fixture(scope="module")
def model_server():
    with FakeModelServer() as server:
        yield server


@pytest.fixture(scope="module")
def voiced_site(tmp_path_factory, model_server, live_site):
    site = LiveSite(tmp_path_factory.mktemp("voiced-site"))
    site.env["FORTRESS_VOICES"] = json.dumps(
        {
            "profiles": {
                "fake": {
                    "defaults": {
                        "backend": "ollama",
                        "base_url": model_server.url,
                        "model": "fake-voice",
                        "timeout": 10,
                    },
                    "agents": AGENTS,
                }
            },
            "default": "fake",
        }
    )
    worker = None
    try:
        site.prepare()
        if os.environ.get("REDIS_URL"):
            # The production shape: turns go through Redis to a real worker.
            require_redis(redis_url(VOICED_REDIS_DB))
            site.env.update(redis_environment(VOICED_REDIS_DB))
            worker = Worker(site)
            worker.start()
        site.start()
        yield site
    finally:
        if worker is not None:
            worker.stop()
        site.cleanup()


# The banner may live only while a form post is on its way, when Playwright's
# queries wait for the navigation; so every page reports each text the banner
# shows through the console.
WATCH_BANNER = """
new MutationObserver(() => {
  const banner = document.getElementById("pending-turn");
  if (banner) console.log("banner: " + banner.textContent.trim());
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture
def voiced_page(chromium, voiced_site):
    context = chromium.new_context(base_url=voiced_site.base_url)
    context.set_default_timeout(20_000)
    context.add_init_script(WATCH_BANNER)
    try:
        page = context.new_page()
        sign_up(page)
        yield page
    finally:
        context.close()


def test_a_voiced_game_shows_the_agents_at_work_then_the_turn(
    voiced_page, model_server
):
    page = voiced_page
    model_server.reset()
    banners = []
    page.on(
        "console",
        lambda message: (
            message.text.startswith("banner: ")
            and banners.append(message.text.removeprefix("banner: "))
        ),
    )
    page.get_by_label("Seed").fill("12")
    page.get_by_role("button", name="Take command").click()
    page.wait_for_url(re.compile(r"/games/[0-9a-f-]+/$"))

    for played in range(1, 4):
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
        model_server.set_mode("slow", delay=0.4)
        page.locator(".option").first.click()
        expect(page.locator(".turn-counter .turn-number")).to_have_text(str(played))
        expect(page.locator(".log-entry")).to_have_count(played)
        expect(page.locator("#pending-turn")).to_have_count(0)

        shown = [text for text in banners if text.startswith(f"Turn {played} ")]
        assert f"Turn {played} is being played: the chronicle is being written…" in (
            shown
        ), banners
    model_server.set_mode("ok")

    assert model_server.count("/api/chat") >= 6
    assert page.locator(".log-entry").first.inner_text().strip()


def test_orders_in_the_players_own_words_are_read_by_the_model(
    voiced_page, model_server
):
    page = voiced_page
    model_server.reset()
    page.get_by_label("Seed").fill("4")
    page.get_by_role("button", name="Take command").click()
    page.wait_for_url(re.compile(r"/games/[0-9a-f-]+/$"))

    page.locator("details.orders summary").click()
    page.get_by_label("In your own words").fill("repair the walls and rest the men")
    page.get_by_role("button", name="Give these orders").click()

    expect(page.locator(".turn-counter .turn-number")).to_have_text("1")
    planner = [
        request
        for request in model_server.requests
        if "repair the walls and rest the men" in json.dumps(request["body"])
    ]
    assert planner, "the planner's model was asked to read the orders"
