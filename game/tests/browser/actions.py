"""Steps a player takes in the browser, shared by the browser tests."""

import uuid

PASSWORD = "siege-engine-47"


def sign_up(page):
    """Create a fresh player through the sign-up form; the page ends in the lobby."""
    username = f"cmdr_{uuid.uuid4().hex[:10]}"
    page.goto("/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/lobby/")
    return username
