"""Usernames as people type them: any letter case, any Unicode form.

Registration refuses a name that differs from a taken one only in case, and
stores names in Unicode's compatibility form (NFKC), as Django's own forms
do. Signing in follows the same rules, and so do the failure counts of the
lockout: "ADA" is Ada's account, and failures under "ADA" count as hers.

The case comparison is the database's (``iexact``): SQLite folds the case
of ASCII letters only, so on the embedded default "ZOË" and "zoë" are two
names; PostgreSQL folds other letters as its locale does.
"""

import unicodedata

from axes.conf import settings as axes_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def canonical_username(username) -> str:
    return unicodedata.normalize("NFKC", str(username or "")).strip()


def _account_name(name: str) -> str | None:
    """The username of the one account ``name`` leads to, if it leads to one.

    The exact spelling wins; otherwise a single match in another case.
    """
    User = get_user_model()
    matches = list(
        User._default_manager.filter(username__iexact=name).values_list(
            "username", flat=True
        )[:2]
    )
    if name in matches:
        return name
    return matches[0] if len(matches) == 1 else None


def stored_username(username) -> str:
    """The account's own spelling of ``username``, if it names exactly one."""
    name = canonical_username(username)
    return _account_name(name) or name


class AnyCaseUsernameBackend(ModelBackend):
    """Django's password sign-in, with the username in any case or Unicode form."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None:
            username = stored_username(username)
        return super().authenticate(
            request, username=username, password=password, **kwargs
        )


def lockout_username(request, credentials=None) -> str:
    """The name the lockout counts failed sign-ins under (AXES_USERNAME_CALLABLE).

    The account's own name when the typed one leads to an account, so that
    every spelling that signs in to it counts against it and against no
    other; the name case-folded otherwise.
    """
    field = axes_settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        typed = credentials.get(field)
    else:
        typed = getattr(request, "data", request.POST).get(field)
    name = canonical_username(typed)
    return _account_name(name) or name.casefold()
