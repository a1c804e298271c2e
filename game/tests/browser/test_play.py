"""A player's whole journey in a real browser: sign up, play, watch, finish."""

import re
import urllib.parse

import pytest
from playwright.sync_api import expect

from .actions import sign_up

pytestmark = pytest.mark.browser

MAX_TURNS = 60


def start_game(page, seed="11"):
    page.get_by_label("Seed").fill(seed)
    page.get_by_role("button", name="Take command").click()
    page.wait_for_url(re.compile(r"/games/[0-9a-f-]+/$"))
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")


def turn_number(page) -> int:
    return int(page.locator(".screen").get_attribute("data-turn"))


def log_entries(page):
    return page.locator(".log-entry")


def test_sign_up_start_a_game_and_play_turns_by_clicking(signed_up):
    page = signed_up
    expect(page.get_by_role("heading", name="My games")).to_be_visible()
    start_game(page)
    assert turn_number(page) == 0
    expect(log_entries(page)).to_have_count(0)

    for played in range(1, 4):
        option = page.locator(".option").nth(played % 3)
        label = option.locator(".option-label").inner_text()
        option.click()

        expect(page.locator(".turn-counter .turn-number")).to_have_text(str(played))
        expect(log_entries(page)).to_have_count(played)
        newest = log_entries(page).first
        expect(newest).to_have_attribute("data-turn", str(played))
        expect(newest.locator(".log-choice")).to_contain_text(label)

    page.get_by_role("link", name="My games").first.click()
    expect(page.locator(".game-row")).to_have_count(1)
    expect(page.locator(".game-row td").nth(3)).to_have_text("3")


def test_keyboard_shortcut_chooses_that_option(signed_up):
    page = signed_up
    start_game(page, seed="23")
    second_label = page.locator(".option").nth(1).locator(".option-label").inner_text()

    page.keyboard.press("2")

    expect(page.locator(".turn-counter .turn-number")).to_have_text("1")
    expect(log_entries(page).first.locator(".log-choice")).to_contain_text(second_label)


def test_second_page_of_the_game_updates_live_without_reload(signed_up, context):
    player = signed_up
    start_game(player, seed="5")
    watcher = context.new_page()
    watcher.goto(player.url)
    expect(watcher.locator("#live-indicator")).to_have_attribute("data-state", "live")
    # A full reload would wipe this marker; a live swap keeps it.
    watcher.evaluate("window.__stillTheSamePage = true")

    player.locator(".option").first.click()
    expect(player.locator(".turn-counter .turn-number")).to_have_text("1")

    expect(watcher.locator(".turn-counter .turn-number")).to_have_text("1")
    expect(watcher.locator(".log-entry")).to_have_count(1)
    assert watcher.evaluate("window.__stillTheSamePage") is True
    expect(watcher.locator("#live-indicator")).to_have_attribute("data-state", "live")


def test_playing_a_full_game_reaches_the_ending_and_its_epilogue(signed_up):
    page = signed_up
    start_game(page, seed="3")

    for _ in range(MAX_TURNS):
        if page.locator(".ending").count():
            break
        before = turn_number(page)
        page.locator(".option").first.click()
        # The predicate can run while the next page is still arriving.
        page.wait_for_function(
            "before => { const screen = document.querySelector('.screen');"
            " return screen !== null && Number(screen.dataset.turn) > before; }",
            arg=before,
        )
    else:
        pytest.fail(f"no ending after {MAX_TURNS} turns")

    expect(page.locator("#ending-title")).to_be_visible()
    expect(page.locator(".ending-kind")).to_contain_text(re.compile("Victory|Defeat"))
    # Charts of the game's numbers, each a line over every turn played.
    charts = page.locator(".chart-list .chart svg polyline")
    expect(charts.first).to_be_visible()
    points = charts.first.get_attribute("points").split()
    assert len(points) == turn_number(page) + 1
    expect(page.locator(".epilogue-entry").first).to_be_visible()
    expect(page.locator(".option")).to_have_count(0)
    final_turn = turn_number(page)
    expect(page.locator(".log-entry")).to_have_count(final_turn)

    page.get_by_role("link", name="Back to my games").click()
    expect(page.locator(".game-row .badge")).to_have_text("Ended")


def test_another_player_spectates_a_public_game_live(signed_up, chromium, live_site):
    owner = signed_up
    start_game(owner, seed="8")
    owner.get_by_role("button", name="Let others watch").click()
    expect(owner.locator(".visibility-form .badge")).to_have_text("Public")

    spectator_context = chromium.new_context(base_url=live_site)
    try:
        spectator = spectator_context.new_page()
        sign_up(spectator)
        game_path = urllib.parse.urlsplit(owner.url).path
        spectator.locator(f'.public-games a[href="{game_path}"]').click()
        expect(spectator.locator(".spectator-badge")).to_be_visible()
        expect(spectator.locator(".option")).to_have_count(0)
        expect(spectator.locator("#live-indicator")).to_have_attribute(
            "data-state", "live"
        )
        # Owner and spectator each see both of them watching.
        expect(spectator.locator("#watchers .watchers-count")).to_have_text("2")
        expect(owner.locator("#watchers .watchers-count")).to_have_text("2")

        owner.locator(".option").nth(2).click()

        expect(spectator.locator(".turn-counter .turn-number")).to_have_text("1")
        expect(spectator.locator(".log-entry")).to_have_count(1)
    finally:
        spectator_context.close()
