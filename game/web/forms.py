"""Forms for the browser pages: sign-up, a new game and a turn's choice."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

SEED_MAX = 2**63 - 1


class SignupForm(UserCreationForm):
    """Django's own checks for a new account; the view saves through a service."""


class NewGameForm(forms.Form):
    theme = forms.ChoiceField(label="Theme")
    seed = forms.IntegerField(
        label="Seed",
        required=False,
        min_value=0,
        max_value=SEED_MAX,
        help_text="The same theme and seed always begin the same siege. "
        "Leave empty for a random one.",
    )

    def __init__(self, *args, themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [
            (theme.slug, theme.title or theme.slug) for theme in themes
        ]


class ChoiceForm(forms.Form):
    """One of the three offered options, for the turn the page was showing."""

    expected_turn = forms.IntegerField(min_value=0)
    option = forms.IntegerField(min_value=0, max_value=2)
