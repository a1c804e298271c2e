"""Tokens, sign-in lockout, throttles and ownership under hostile use.

Races run real threads against the real database (a SQLite file here, and
PostgreSQL when DATABASE_URL says so), each thread with its own connection.
"""

import base64
import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from game.tests.conftest import PASSWORD, choose, client_for, error_of, start_game


def race(count, work):
    """Run work(i) in count threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def bearer(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def token_pair(username: str) -> dict:
    """An access and a refresh token from signing in, as a client gets them."""
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_tokens(user) -> dict[str, str]:
    """Tokens that must never authenticate, each built from a real one."""
    good = str(AccessToken.for_user(user))
    header, payload, _signature = good.split(".")
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=timedelta(seconds=-60))
    none_header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = str(user.pk)
    return {
        "forged signature": f"{header}.{payload}.{b64(b'x' * 32)}",
        "alg none": f"{none_header}.{payload}.",
        "alg none, other claims": f"{none_header}.{b64(json.dumps(claims).encode())}.",
        "expired": str(expired),
        "refresh used as access": str(RefreshToken.for_user(user)),
        "garbage": "not-a-token",
    }


# -- tokens ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind",
    [
        "forged signature",
        "alg none",
        "alg none, other claims",
        "expired",
        "refresh used as access",
        "garbage",
    ],
)
def test_bad_tokens_are_refused_on_every_kind_of_endpoint(ada, theme, kind):
    client = bearer(forged_tokens(ada)[kind])
    for method, path in [
        ("get", "/api/v1/auth/me/"),
        ("get", "/api/v1/sessions/"),
        ("post", "/api/v1/ws-tickets/"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 401, (kind, path, response.content)
        assert error_of(response)["code"] in {
            "authentication_failed",
            "not_authenticated",
            "token_not_valid",
        }


@pytest.mark.django_db
def test_a_real_token_passes_where_the_forged_ones_fail(ada):
    assert bearer(AccessToken.for_user(ada)).get("/api/v1/auth/me/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_yield_exactly_one_new_pair(ada):
    refresh = str(RefreshToken.for_user(ada))

    def refresh_once(_):
        return APIClient().post(
            "/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"
        )

    responses = race(8, refresh_once)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [401] * 7, [r.content for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    assert set(winner) == {"access", "refresh"}
    # The new pair works; the old token stays spent.
    assert bearer(winner["access"]).get("/api/v1/auth/me/").status_code == 200
    again = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"
    )
    assert again.status_code == 401


@pytest.mark.django_db
def test_refresh_of_a_deleted_account_is_401_not_a_crash(make_user):
    ghost = make_user("ghost")
    refresh = str(RefreshToken.for_user(ghost))
    ghost.delete()
    response = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"
    )
    assert response.status_code == 401


@pytest.mark.django_db
def test_a_disabled_accounts_tokens_stop_working(ada):
    refresh = RefreshToken.for_user(ada)
    client = bearer(refresh.access_token)
    assert client.get("/api/v1/auth/me/").status_code == 200
    ada.is_active = False
    ada.save()
    assert client.get("/api/v1/auth/me/").status_code == 401
    response = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": str(refresh)}, format="json"
    )
    assert response.status_code == 401


@pytest.mark.django_db
def test_sign_out_spends_the_refresh_token(ada, bram):
    pair = token_pair("ada")
    client = bearer(pair["access"])
    # Another account's refresh token is not ada's to spend.
    foreign = str(RefreshToken.for_user(bram))
    response = client.post("/api/v1/auth/logout/", {"refresh": foreign}, format="json")
    assert response.status_code == 401
    assert (
        client.post(
            "/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json"
        ).status_code
        == 204
    )
    # Twice is still signed out.
    assert (
        client.post(
            "/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json"
        ).status_code
        == 204
    )
    response = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    )
    assert response.status_code == 401
    response = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": foreign}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_sign_out_needs_a_valid_refresh_token(as_ada):
    response = as_ada.post("/api/v1/auth/logout/", {"refresh": "nope"}, format="json")
    assert response.status_code == 401
    response = as_ada.post("/api/v1/auth/logout/", {}, format="json")
    assert response.status_code == 400
    assert "refresh" in error_of(response)["details"]


# -- sign-in lockout ---------------------------------------------------------


def sign_in(password, username="ada", address="10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
    )


@pytest.mark.django_db
def test_repeated_failed_sign_ins_lock_the_account_out_from_that_address(ada, bram):
    for _ in range(4):
        assert sign_in("wrong").status_code == 401
    # The fifth failure locks the account out, and the right password no
    # longer helps.
    assert sign_in("wrong").status_code == 429
    locked = sign_in(PASSWORD)
    assert locked.status_code == 429
    assert error_of(locked)["code"] == "locked_out"
    assert int(locked["Retry-After"]) == 900
    # The same account from elsewhere, and another account from here, are
    # not locked out.
    assert sign_in(PASSWORD, address="10.0.0.2").status_code == 200
    assert sign_in(PASSWORD, username="bram").status_code == 200


@pytest.mark.django_db
def test_failures_under_another_case_of_the_name_count_for_the_same_account(ada):
    for username in ("ADA", "Ada", "aDa", "adA"):
        assert sign_in("wrong", username=username).status_code == 401
    assert sign_in("wrong", username="ada").status_code == 429
    assert sign_in(PASSWORD, username="ADA").status_code == 429


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_failure_count(ada):
    for _ in range(4):
        assert sign_in("wrong").status_code == 401
    assert sign_in(PASSWORD).status_code == 200
    for _ in range(4):
        assert sign_in("wrong").status_code == 401
    assert sign_in(PASSWORD).status_code == 200


@pytest.mark.django_db
def test_the_browser_login_page_locks_out_too(client, ada):
    for _ in range(4):
        response = client.post(
            "/login/", {"username": "ada", "password": "wrong"}, REMOTE_ADDR="10.0.0.3"
        )
        assert response.status_code == 200
    response = client.post(
        "/login/", {"username": "ada", "password": "wrong"}, REMOTE_ADDR="10.0.0.3"
    )
    assert response.status_code == 429
    response = client.post(
        "/login/", {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.0.0.3"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


# -- throttles ---------------------------------------------------------------


@pytest.fixture
def tight_rates(monkeypatch):
    rates = {"anon": "100/min", "user": "100/min", "auth": "3/min", "turns": "2/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.mark.django_db
def test_sign_in_is_throttled_tighter_than_the_rest(ada, tight_rates):
    codes = [sign_in(PASSWORD).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = sign_in(PASSWORD)
    assert error_of(response)["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    # Other endpoints still answer the same address.
    assert APIClient(REMOTE_ADDR="10.0.0.1").get("/readyz").status_code in (200, 503)


@pytest.mark.django_db
def test_turn_submission_is_throttled_per_player(ada, bram, theme, tight_rates):
    as_ada, as_bram = client_for(ada), client_for(bram)
    game = start_game(as_ada, theme)
    assert choose(as_ada, game["id"], 0).status_code == 201
    assert choose(as_ada, game["id"], 1).status_code == 201
    third = choose(as_ada, game["id"], 2)
    assert third.status_code == 429
    assert int(third["Retry-After"]) > 0
    # Reading is not submitting, and another player has a count of their own.
    assert as_ada.get(f"/api/v1/sessions/{game['id']}/turns/").status_code == 200
    other = start_game(as_bram, theme)
    assert choose(as_bram, other["id"], 0).status_code == 201
    assert as_ada.get(f"/api/v1/sessions/{game['id']}/").json()["turn"] == 2


# -- ownership ---------------------------------------------------------------

SESSION_ENDPOINTS = [
    ("get", "/api/v1/sessions/{id}/", None),
    ("patch", "/api/v1/sessions/{id}/", {"visibility": "public"}),
    ("get", "/api/v1/sessions/{id}/turns/", None),
    ("post", "/api/v1/sessions/{id}/turns/", "turn"),
    ("get", "/api/v1/sessions/{id}/turns/1/", None),
    (
        "get",
        "/api/v1/sessions/{id}/pending/00000000-0000-0000-0000-000000000000/",
        None,
    ),
    ("post", "/api/v1/sessions/{id}/fork/", {"turn": 1}),
    ("post", "/api/v1/sessions/{id}/undo/", {}),
    ("get", "/api/v1/sessions/{id}/verify/", None),
    ("get", "/api/v1/sessions/{id}/export/", None),
]


def call(client, method, path, body, turn=1):
    if body == "turn":
        body = {"expected_turn": turn, "action": {"type": "choose", "option": 0}}
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize("method,path,body", SESSION_ENDPOINTS)
def test_another_player_gets_404_on_every_endpoint_of_a_private_game(
    as_ada, as_bram, theme, method, path, body
):
    game = start_game(as_ada, theme)
    assert choose(as_ada, game["id"], 0).status_code == 201
    response = call(as_bram, method, path.format(id=game["id"]), body)
    assert response.status_code == 404, response.content
    assert error_of(response)["code"] == "not_found"
    after = as_ada.get(f"/api/v1/sessions/{game['id']}/").json()
    assert (after["turn"], after["visibility"]) == (1, "private")


@pytest.mark.django_db
@pytest.mark.parametrize("method,path,body", SESSION_ENDPOINTS)
def test_a_spectator_of_a_public_game_may_read_but_change_nothing(
    as_ada, as_bram, theme, method, path, body
):
    game = start_game(as_ada, theme)
    assert choose(as_ada, game["id"], 0).status_code == 201
    patch = as_ada.patch(
        f"/api/v1/sessions/{game['id']}/", {"visibility": "public"}, format="json"
    )
    assert patch.status_code == 200
    response = call(as_bram, method, path.format(id=game["id"]), body)
    if path.endswith(("/fork/", "/undo/")):
        # Both start a new game of the spectator's own from this one.
        assert response.status_code == 201, response.content
        assert response.json()["owner"] == "bram"
    elif path.endswith("/export/"):
        # An export is the whole game, seed included: the owner's or staff's.
        assert response.status_code == 403
    elif method == "get":
        assert response.status_code == (404 if "pending" in path else 200)
    else:
        assert response.status_code in (403, 404), response.content
    after = as_ada.get(f"/api/v1/sessions/{game['id']}/").json()
    assert (after["turn"], after["visibility"]) == (1, "public")


@pytest.mark.django_db
def test_the_admin_is_for_staff_only(client, ada):
    client.force_login(ada)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_failures_count_against_the_account_the_name_signs_in_to(make_user):
    # Two accounts whose names differ in the case of a non-ASCII letter, as
    # SQLite's case folding (ASCII only) lets them be registered.
    make_user("zo\u00eb")
    make_user("ZO\u00cb")
    for _ in range(5):
        sign_in("wrong", username="zo\u00eb")

    assert sign_in(PASSWORD, username="zo\u00eb").status_code == 429
    assert sign_in(PASSWORD, username="ZO\u00cb").status_code == 200
    assert sign_in("wrong", username="nobody-here").status_code == 401
