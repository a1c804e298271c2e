"""Looking back: the chronicle's filter, and the replay viewer by keyboard."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def play(page, seed, turns):
    page.get_by_label("Seed").fill(seed)
    page.get_by_role("button", name="Take command").click()
    page.wait_for_url(re.compile(r"/games/[0-9a-f-]+/$"))
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    for played in range(1, turns + 1):
        page.keyboard.press(str(played % 3 + 1))
        expect(page.locator(".turn-counter .turn-number")).to_have_text(str(played))


def test_the_chronicle_filters_by_kind_and_by_words(signed_up):
    page = signed_up
    play(page, "31", 3)
    entries = page.locator(".log-entry")
    expect(entries).to_have_count(3)

    page.get_by_label("Show").select_option("gm")
    expect(page.locator(".log-entry:visible")).to_have_count(0)
    expect(page.locator(".log-filter-count")).to_have_text("0 of 3 turns shown")
    page.get_by_label("Show").select_option("choice")
    expect(page.locator(".log-entry:visible")).to_have_count(3)

    page.get_by_label("Show").select_option("")
    title = page.locator(".log-entry").last.locator("h3").inner_text()
    words = title.split(":", 1)[1].strip()
    page.get_by_label("Find in the chronicle").fill(words)
    expect(page.locator(".log-entry:visible")).to_have_count(1)
    expect(page.locator(".log-entry:visible h3")).to_have_text(title)


def test_the_replay_steps_with_the_arrow_keys(signed_up):
    page = signed_up
    play(page, "32", 3)
    page.get_by_role("link", name="Replay turn by turn").click()
    expect(page.locator(".replay-turn")).to_have_text("0")

    page.keyboard.press("ArrowRight")
    expect(page.locator(".replay-turn")).to_have_text("1")
    page.keyboard.press("ArrowRight")
    expect(page.locator(".replay-turn")).to_have_text("2")
    expect(page.locator("#scene-title")).to_contain_text("Turn 2")
    page.keyboard.press("ArrowLeft")
    expect(page.locator(".replay-turn")).to_have_text("1")
    page.get_by_role("link", name="Last").click()
    expect(page.locator(".replay-turn")).to_have_text("3")
    expect(page.locator("#replay-next")).to_have_count(0)
    expect(page.locator(".map-structure").first).to_be_visible()
