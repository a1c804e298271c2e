"""A game master starts a simulation in the admin and watches it run.

The site runs on Redis with a real Celery worker, so the job page can be
seen following the job's progress over its socket and then showing the
report when the worker is done.
"""

import re

import pytest
from playwright.sync_api import expect

from game.live_site import (
    LiveSite,
    Worker,
    redis_environment,
    redis_url,
    require_redis,
)

pytestmark = pytest.mark.browser

JOBS_REDIS_DB = 12
GM_PASSWORD = "rampart-ledger-93-tallow"


@pytest.fixture(scope="module")
def jobs_site(tmp_path_factory, live_site):
    require_redis(redis_url(JOBS_REDIS_DB))
    site = LiveSite(tmp_path_factory.mktemp("jobs-site"))
    worker = Worker(site)
    try:
        site.prepare()
        site.env.update(
            {
                **redis_environment(JOBS_REDIS_DB),
                "DJANGO_SUPERUSER_PASSWORD": GM_PASSWORD,
            }
        )
        site.manage(
            "createsuperuser", "--noinput", "--username", "gm", "--email", "gm@x.test"
        )
        worker.start()
        site.start()
        yield site
    finally:
        worker.stop()
        site.cleanup()


def test_the_job_page_follows_a_simulation_to_its_report(chromium, jobs_site):
    context = chromium.new_context(base_url=jobs_site.base_url)
    context.set_default_timeout(60_000)
    try:
        page = context.new_page()
        page.goto("/admin/login/")
        page.get_by_label("Username").fill("gm")
        page.get_by_label("Password").fill(GM_PASSWORD)
        page.get_by_role("button", name="Log in").click()

        page.goto("/admin/game/job/")
        page.get_by_role("link", name="Start a simulation").click()
        page.get_by_label("Theme").select_option("orbital")
        page.get_by_label("Policy").select_option("greedy")
        page.get_by_label("Games").fill("120")
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(re.compile(r"/admin/game/job/[0-9a-f-]+/change/$"))

        # Some games done, not all: the bar moved without a reload.
        progress = page.locator(".job-progress-text")
        expect(progress).to_have_text(re.compile(r"^([1-9]\d?|1[01]\d) of 120"))
        expect(page.locator(".sim-report svg").first).to_be_visible()
        expect(page.locator(".job-progress-text")).to_contain_text(
            "120 of 120 · Succeeded"
        )
    finally:
        context.close()
