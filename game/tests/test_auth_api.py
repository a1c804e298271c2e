"""Registration and JWT tokens, through the REST API."""

import pytest
from django.urls import reverse

from game.tests.conftest import PASSWORD, error_of

pytestmark = pytest.mark.django_db


def test_register_then_obtain_token_and_use_it(anonymous):
    response = anonymous.post(
        "/api/v1/auth/register/",
        {"username": "cora", "password": PASSWORD, "email": "cora@example.org"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["username"] == "cora"
    assert "password" not in response.json()

    tokens = anonymous.post(
        "/api/v1/auth/token/", {"username": "cora", "password": PASSWORD}
    ).json()
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anonymous.get("/api/v1/sessions/").status_code == 200


def test_duplicate_username_is_a_clear_400(ada, anonymous):
    response = anonymous.post(
        "/api/v1/auth/register/",
        {"username": "ada", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert "username" in error["details"]
    assert "taken" in error["message"]


def test_weak_password_is_refused_naming_the_field(anonymous):
    response = anonymous.post(
        "/api/v1/auth/register/",
        {"username": "dara", "password": "123"},
        format="json",
    )
    assert response.status_code == 400
    assert "password" in error_of(response)["details"]


def test_unknown_registration_field_is_refused(anonymous):
    response = anonymous.post(
        "/api/v1/auth/register/",
        {"username": "dara", "password": PASSWORD, "is_staff": True},
        format="json",
    )
    assert response.status_code == 400
    assert "is_staff" in error_of(response)["details"]


def test_refresh_rotates_and_the_old_refresh_token_is_refused(ada, anonymous):
    tokens = anonymous.post(
        "/api/v1/auth/token/", {"username": "ada", "password": PASSWORD}
    ).json()

    first = anonymous.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
    )
    assert first.status_code == 200
    assert first.json()["refresh"] != tokens["refresh"]

    again = anonymous.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
    )
    assert again.status_code == 401
    assert error_of(again)["code"] == "token_not_valid"
    assert error_of(again)["message"] == "Token is blacklisted"


def test_verify_accepts_a_fresh_access_token(ada, anonymous):
    tokens = anonymous.post(
        "/api/v1/auth/token/", {"username": "ada", "password": PASSWORD}
    ).json()
    ok = anonymous.post("/api/v1/auth/token/verify/", {"token": tokens["access"]})
    assert ok.status_code == 200
    bad = anonymous.post("/api/v1/auth/token/verify/", {"token": "not-a-token"})
    assert bad.status_code == 401
    error_of(bad)


def test_wrong_password_is_401_in_the_error_shape(ada, anonymous):
    response = anonymous.post(
        "/api/v1/auth/token/", {"username": "ada", "password": "wrong"}
    )
    assert response.status_code == 401
    error_of(response)


def test_no_credentials_is_401(anonymous):
    response = anonymous.get("/api/v1/sessions/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_deeply_nested_json_is_400_not_a_server_error(anonymous):
    body = '{"username": ' + "[" * 5000 + "]" * 5000 + ', "password": "x"}'
    response = anonymous.post(
        "/api/v1/auth/token/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_request"


def test_oversized_body_is_413_in_the_error_shape(anonymous, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"username": "' + "a" * 5000 + '", "password": "x"}'
    response = anonymous.post(
        "/api/v1/auth/token/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_me_names_the_signed_in_account(as_ada, anonymous):
    response = as_ada.get("/api/v1/auth/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "ada"
    assert anonymous.get("/api/v1/auth/me/").status_code == 401


def test_a_username_signs_in_whatever_its_case(ada, anonymous):
    response = anonymous.post(
        "/api/v1/auth/token/", {"username": "ADA", "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert anonymous.get("/api/v1/auth/me/").json()["username"] == "ada"


def test_one_name_typed_in_two_unicode_forms_is_one_name(anonymous):
    decomposed = "zoe\u0308"  # "e" and a combining diaeresis
    registered = anonymous.post(
        "/api/v1/auth/register/",
        {"username": decomposed, "password": PASSWORD},
        format="json",
    )
    again = anonymous.post(
        "/api/v1/auth/register/",
        {"username": "Zo\u00eb", "password": PASSWORD},
        format="json",
    )
    signed_in = anonymous.post(
        "/api/v1/auth/token/", {"username": decomposed, "password": PASSWORD}
    )

    assert registered.status_code == 201, registered.content
    assert registered.json()["username"] == "zo\u00eb"
    assert again.status_code == 400
    assert "taken" in error_of(again)["message"]
    assert signed_in.status_code == 200


def test_the_browser_sign_in_takes_the_name_in_any_case(client, ada):
    response = client.post(reverse("login"), {"username": "Ada", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/auth/me/").json()["username"] == "ada"
