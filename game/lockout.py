"""Locking out a username at an address after repeated failed sign-ins.

django-axes counts the failures; this module adapts it to the site. The
backend only watches sign-ins that come with a request (the login page, the
admin's, the token endpoint); authentication without one, such as a test
client or a management command, is not a sign-in from an address and is not
counted. A locked-out browser sign-in gets the login page again with 429 and
Retry-After; the token endpoint answers in the API's error shape itself
(game.api.auth).
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def lockout_seconds() -> int:
    cool_off = settings.AXES_COOLOFF_TIME
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_response(request, original_response=None, credentials=None):
    seconds = lockout_seconds()
    # An unbound form: validating it would try to authenticate once more.
    form = AuthenticationForm(
        request, initial={"username": request.POST.get("username", "")}
    )
    minutes = max(1, round(seconds / 60))
    lockout = (
        "Too many failed sign-ins for this account from your address. "
        f"Try again in about {minutes} minute{'s' if minutes != 1 else ''}."
    )
    response = render(
        request,
        "registration/login.html",
        {"form": form, "lockout": lockout, "next": request.POST.get("next", "")},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
