"""Undo and branching in a real browser: the new game opens where it should."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

GAME_URL = re.compile(r"/games/([0-9a-f-]+)/$")


def start_game(page, seed):
    page.get_by_label("Seed").fill(seed)
    page.get_by_role("button", name="Take command").click()
    page.wait_for_url(GAME_URL)
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")


def play(page, turns):
    for played in range(1, turns + 1):
        page.locator(".option").nth(played % 3).click()
        expect(page.locator(".turn-counter .turn-number")).to_have_text(str(played))


def game_id(page) -> str:
    return GAME_URL.search(page.url).group(1)


def test_undo_after_three_turns_opens_a_new_game_at_turn_two(signed_up):
    page = signed_up
    start_game(page, "31")
    play(page, 3)
    original = game_id(page)
    chronicle = [
        page.locator(f'.log-entry[data-turn="{n}"] h3').inner_text() for n in (1, 2)
    ]

    page.get_by_text("Undo last turn").click()
    expect(page.get_by_text("This game stays as it is.")).to_be_visible()
    page.get_by_role("button", name="Yes, undo turn 3").click()

    page.wait_for_url(GAME_URL)
    assert game_id(page) != original
    expect(page.locator(".messages")).to_contain_text("Turn 3 was taken back")
    expect(page.locator(".turn-counter .turn-number")).to_have_text("2")
    expect(page.locator(".log-entry")).to_have_count(2)
    assert [
        page.locator(f'.log-entry[data-turn="{n}"] h3').inner_text() for n in (1, 2)
    ] == chronicle

    # The original game still stands at turn 3.
    page.goto(f"/games/{original}/")
    expect(page.locator(".turn-counter .turn-number")).to_have_text("3")


def test_branch_from_turn_one_in_the_chronicle(signed_up):
    page = signed_up
    start_game(page, "32")
    play(page, 3)
    original = game_id(page)

    page.locator('.log-entry[data-turn="1"]').get_by_role(
        "button", name="Branch from here"
    ).click()

    page.wait_for_url(GAME_URL)
    assert game_id(page) != original
    expect(page.locator(".messages")).to_contain_text("after turn 1")
    expect(page.locator(".turn-counter .turn-number")).to_have_text("1")
    expect(page.locator(".log-entry")).to_have_count(1)
    expect(page.locator(".breadcrumbs")).to_contain_text("branched at turn 1")

    # The branch plays on, and the lobby shows where it came from.
    page.locator(".option").first.click()
    expect(page.locator(".turn-counter .turn-number")).to_have_text("2")
    page.get_by_role("link", name="My games").first.click()
    expect(page.locator(".game-row")).to_have_count(2)
    expect(page.locator(".fork-origin")).to_contain_text("branched at turn 1")
