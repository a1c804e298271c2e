"""Takes the screenshots the README shows, from a throwaway site in Chromium.

Runs a real site on a scratch database (see game.live_site), plays a game
to its end as a new player, opens the game-master console, and saves PNGs
of the main pages to docs/screenshots/ (or --out). Needs the development
requirements (Playwright) and Chromium at /usr/bin/chromium.
"""

import re
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "screens-of-the-keep-58"
MAX_TURNS = 60


class Command(BaseCommand):
    help = "Save screenshots of the main pages (player and game master) as PNGs."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="docs/screenshots")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise CommandError(
                "Playwright is missing: install requirements-dev.txt first."
            ) from exc
        if not Path(CHROMIUM).exists():
            raise CommandError(f"Chromium is needed at {CHROMIUM}.")

        from game.live_site import LiveSite

        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            site = LiveSite(Path(scratch) / "site")
            try:
                site.prepare()
                # One process does everything, simulations included, so the
                # pictures never wait on a worker that is not there.
                site.env.pop("REDIS_URL", None)
                site.env["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
                site.manage(
                    "createsuperuser",
                    "--noinput",
                    "--username",
                    "gm",
                    "--email",
                    "gm@example.org",
                )
                site.start()
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
                    )
                    try:
                        self._player(browser, site.base_url, out, options["seed"])
                        self._game_master(browser, site.base_url, out)
                    finally:
                        browser.close()
            finally:
                site.cleanup()
        for path in sorted(out.glob("*.png")):
            self.stdout.write(str(path))

    def _shot(self, page, out: Path, name: str, **kwargs):
        page.screenshot(path=str(out / f"{name}.png"), **kwargs)

    def _player(self, browser, base_url, out, seed):
        context = browser.new_context(
            base_url=base_url, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.goto("/")
        self._shot(page, out, "landing")
        page.get_by_role("link", name="Sign up").first.click()
        page.get_by_label("Username").fill("commander")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password confirmation").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url("**/lobby/")
        page.get_by_label("Seed").fill(str(seed))
        page.get_by_role("button", name="Take command").click()
        page.wait_for_url(re.compile(r"/games/[0-9a-f-]+/$"))
        for _ in range(3):
            page.locator(".option").first.click()
            page.wait_for_load_state()
        self._shot(page, out, "game")

        phone = browser.new_context(
            base_url=base_url,
            viewport={"width": 390, "height": 844},
            storage_state=context.storage_state(),
        )
        phone_page = phone.new_page()
        phone_page.goto(page.url)
        self._shot(phone_page, out, "game-phone")
        phone.close()

        for _ in range(MAX_TURNS):
            if page.locator(".ending").count():
                break
            page.locator(".option").first.click()
            page.wait_for_load_state()
        self._shot(page, out, "ending")
        page.goto(page.url + "replay/?turn=2")
        self._shot(page, out, "replay")
        page.goto("/lobby/")
        self._shot(page, out, "lobby")
        context.close()

    def _game_master(self, browser, base_url, out):
        context = browser.new_context(
            base_url=base_url, viewport={"width": 1400, "height": 900}
        )
        page = context.new_page()
        page.goto("/admin/login/")
        page.get_by_label("Username").fill("gm")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        self._shot(page, out, "admin-index", full_page=True)
        page.goto("/admin/game/gamesession/")
        page.locator(
            "#result_list tbody tr th a, #result_list tbody tr td a"
        ).first.click()
        page.get_by_role("link", name="Inspect turn by turn").click()
        self._shot(page, out, "admin-inspect")
        page.goto("/admin/game/job/simulate/")
        page.get_by_label("Games").fill("200")
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(re.compile(r"/admin/game/job/[0-9a-f-]+/change/$"))
        page.locator(".sim-report svg").first.wait_for()
        self._shot(page, out, "admin-simulation")
        context.close()
