"""What every response and log line must not give away, and the headers and
cookies Django's deployment checklist asks for."""

import logging

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from fortress_site.asgi import application
from game.tests.conftest import start_game

SECRET_PASSWORD = "portcullis-vinegar-88"


@pytest.mark.django_db(transaction=True)
def test_no_password_token_or_ticket_reaches_the_logs(caplog, theme):
    caplog.set_level(logging.DEBUG)
    client = APIClient()
    account = {"username": "odile", "password": SECRET_PASSWORD, "email": ""}
    assert (
        client.post("/api/v1/auth/register/", account, format="json").status_code == 201
    )
    wrong = {"username": "odile", "password": SECRET_PASSWORD + "x"}
    assert client.post("/api/v1/auth/token/", wrong, format="json").status_code == 401
    pair = client.post("/api/v1/auth/token/", account, format="json").json()
    fresh = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    ).json()
    # A spent token, refused, must not be echoed into the logs either.
    spent = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    )
    assert spent.status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    game = start_game(client, theme)
    ticket = client.post("/api/v1/ws-tickets/").json()["ticket"]

    async def watch():
        ws = WebsocketCommunicator(
            application, f"/ws/sessions/{game['id']}/?ticket={ticket}"
        )
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        # A spent ticket is refused, and not logged.
        again = WebsocketCommunicator(
            application, f"/ws/sessions/{game['id']}/?ticket={ticket}"
        )
        assert not (await again.connect())[0]

    async_to_sync(watch)()
    assert (
        client.post(
            "/api/v1/auth/logout/", {"refresh": fresh["refresh"]}, format="json"
        ).status_code
        == 204
    )

    logged = "\n".join(
        record.getMessage() + (record.exc_text or "") for record in caplog.records
    )
    assert logged, "the flow logged nothing at all, so this test proves nothing"
    for secret in (
        SECRET_PASSWORD,
        pair["access"],
        pair["refresh"],
        fresh["access"],
        fresh["refresh"],
        ticket,
    ):
        assert secret not in logged


@pytest.mark.django_db
def test_pages_and_api_carry_the_security_headers(client, as_ada):
    for response in (client.get("/"), client.get("/login/"), as_ada.get("/api/v1/")):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_not_for_scripts_or_other_sites(client, ada):
    from game.tests.conftest import PASSWORD

    page = client.get("/login/")
    csrf = page.cookies["csrftoken"]
    assert csrf["samesite"] == "Lax"
    response = client.post(
        "/login/",
        {"username": "ada", "password": PASSWORD, "csrfmiddlewaretoken": csrf.value},
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"


@pytest.mark.django_db
def test_a_browser_page_that_fails_shows_no_internals(client, ada, monkeypatch):
    from game import selectors

    def broken(**kwargs):
        raise RuntimeError("internal detail /srv/fortress/secret")

    monkeypatch.setattr(selectors, "session_list_for_user", broken)
    client.raise_request_exception = False
    client.force_login(ada)
    response = client.get("/lobby/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "internal detail" not in text and "Traceback" not in text
