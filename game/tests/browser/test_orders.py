"""Direct orders in the browser: a refused one is explained beside its form."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_refused_order_is_explained_inline_and_a_good_one_is_played(signed_up):
    page = signed_up
    page.get_by_label("Seed").fill("41")
    page.get_by_role("button", name="Take command").click()
    page.wait_for_url(re.compile(r"/games/[0-9a-f-]+/$"))
    page.locator("details.orders summary").click()

    # The first order with a number to give, sent with far too much of it:
    # the browser's own range check is lifted to reach the server's.
    order = page.locator(".order").filter(has=page.locator('input[type="number"]'))
    order = order.first
    function = order.get_attribute("data-order")
    amount = order.locator('input[type="number"]').first
    amount.evaluate("input => { input.removeAttribute('max'); }")
    amount.fill("99999")
    order.get_by_role("button", name="Give the order").click()

    error = page.locator(f"#order-error-{function}")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Not given")
    expect(
        page.locator(f'.order[data-order="{function}"] input[aria-invalid="true"]')
    ).to_have_value("99999")
    expect(page.locator(".turn-counter .turn-number")).to_have_text("0")

    # Within its range the same order is played as the turn.
    good = page.locator(f'.order[data-order="{function}"]')
    good.locator('input[type="number"]').first.fill(
        good.locator('input[type="number"]').first.get_attribute("min")
    )
    good.get_by_role("button", name="Give the order").click()
    expect(page.locator(".turn-counter .turn-number")).to_have_text("1")
    expect(page.locator(".log-entry").first.locator(".log-choice")).to_contain_text(
        "You ordered"
    )
