"""An automated accessibility check (axe-core, WCAG 2 A and AA) of the main pages."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from .actions import sign_up

pytestmark = pytest.mark.browser

RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}


def violations(page) -> list[str]:
    results = Axe().run(page, options=RULES)
    return [
        f"{item['id']}: {item['help']} ({len(item['nodes'])}x, e.g. "
        f"{item['nodes'][0]['target']})"
        for item in results.response["violations"]
    ]


def test_the_main_pages_pass_an_automated_accessibility_check(page):
    found = {}
    page.goto("/")
    found["landing"] = violations(page)
    page.goto("/login/")
    found["login"] = violations(page)
    page.goto("/signup/")
    found["signup"] = violations(page)

    sign_up(page)
    found["lobby"] = violations(page)
    page.get_by_label("Seed").fill("3")
    page.get_by_role("button", name="Take command").click()
    page.wait_for_url(re.compile(r"/games/[0-9a-f-]+/$"))
    for _ in range(2):
        page.locator(".option").first.click()
        page.wait_for_load_state()
    page.locator("details.orders summary").click()
    found["game"] = violations(page)
    page.get_by_role("link", name="Replay turn by turn").click()
    found["replay"] = violations(page)

    assert not {name: items for name, items in found.items() if items}

    # The check itself works: a picture without a text alternative is caught.
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', "
        "'<img src=\"/static/images/tower.svg\">')"
    )
    assert any(item.startswith("image-alt") for item in violations(page))
