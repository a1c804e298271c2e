"""Forms for the browser pages: sign-up, a new game and a turn's choice."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

SEED_MAX = 2**63 - 1
RULE_BASED = "rule-based"


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
    storyteller = forms.ChoiceField(
        label="Storyteller",
        required=False,
        choices=[
            ("", "The theme's own"),
            ("steady", "Steady: pressure builds evenly, with time to recover"),
            ("relentless", "Relentless: quick to peak, little respite"),
            ("chaotic", "Chaotic: the rhythm of attacks is unpredictable"),
        ],
        help_text="How the Director paces the siege's tension and threats.",
    )

    # Shown only when the site has language-model voice profiles.
    voice = forms.ChoiceField(
        label="Voice",
        required=False,
        help_text="Who words the story: a language model the site offers, or "
        "the built-in storytellers.",
    )

    def __init__(self, *args, themes=(), voices=(), default_voice=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [
            (theme.slug, theme.title or theme.slug) for theme in themes
        ]
        if voices:
            self.fields["voice"].choices = [(RULE_BASED, "Built-in storytellers")] + [
                (name, f"Language model: {name}") for name in voices
            ]
            self.fields["voice"].initial = default_voice or RULE_BASED
        else:
            del self.fields["voice"]

    def chosen_voice(self):
        """The voice profile chosen (None for the built-in agents)."""
        value = self.cleaned_data.get("voice") or RULE_BASED
        return None if value == RULE_BASED else value


class TurnForm(forms.Form):
    """The turn the page was showing when the player acted."""

    expected_turn = forms.IntegerField(min_value=0)


class ForkForm(forms.Form):
    """The turn a new branch of a game starts from."""

    turn = forms.IntegerField(min_value=0)


class ChoiceForm(TurnForm):
    """One of the three offered options."""

    option = forms.IntegerField(min_value=0, max_value=2)


def order_action(data, orders) -> dict:
    """The engine action for a direct-order form post.

    ``orders`` is the view's list of orders the theme allows; it supplies the
    argument names and which of them are numbers. Whether the values make
    sense in the current state is for the engine to judge. Raises ValueError
    with a message for the player when the post cannot be read.
    """
    function = data.get("function", "")
    spec = next((order for order in orders if order["function"] == function), None)
    if spec is None:
        raise ValueError("That order cannot be given in this siege.")

    expected = {f"arg_{name}" for name in spec.get("args", {})}
    stray = sorted(
        key for key in data if key.startswith("arg_") and key not in expected
    )
    if stray:
        raise ValueError(f"This order takes no {stray[0].removeprefix('arg_')}.")

    args = {}
    for name, arg in spec.get("args", {}).items():
        label = name.replace("_", " ")
        raw = (data.get(f"arg_{name}") or "").strip()
        if not raw:
            raise ValueError(f"Fill in the {label} for this order.")
        if arg.get("type") == "int":
            try:
                args[name] = int(raw)
            except ValueError:
                raise ValueError(f"The {label} must be a whole number.") from None
        else:
            args[name] = raw
    return {"type": "order", "function": function, "args": args}
