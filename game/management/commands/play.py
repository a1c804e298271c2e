"""Plays a game in the terminal, stored like any other game.

Interactive by default; ``--auto first`` or ``--auto random`` picks options by
itself so the command can run unattended.
"""

import logging
import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from game import selectors, services
from game.errors import GameError

MAX_TURNS = 500


class Command(BaseCommand):
    help = "Play Fortress Director in the terminal."

    def add_arguments(self, parser):
        parser.add_argument("--theme", help="Theme slug (default: the first one).")
        parser.add_argument("--seed", type=int, help="Seed (default: random).")
        parser.add_argument(
            "--auto",
            choices=["first", "random"],
            help="Choose options automatically with this policy.",
        )
        parser.add_argument(
            "--user",
            default="terminal",
            help="Local user who owns the game (created without a password).",
        )

    def handle(self, *args, theme, seed, auto, user, **options):
        # The per-turn server log line would interleave with the story.
        logging.getLogger("game").setLevel(logging.WARNING)
        owner = self._user(user)
        slug = theme or self._default_theme()
        try:
            session = services.session_create(owner=owner, theme_slug=slug, seed=seed)
        except GameError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Game {session.id} - {slug}, seed {session.seed}\n")
        policy = random.Random(session.seed)

        for _ in range(MAX_TURNS):
            view = selectors.session_view(session)["view"]
            if session.status != "active" or not view.get("scene"):
                self._show_ending(view)
                self.stdout.write(f"\nVerify with: manage.py verify {session.id}")
                return
            self._show_scene(session.turn_number, view)
            choice = self._choose(view["scene"]["options"], auto, policy)
            if choice is None:
                self.stdout.write(f"Left the game at turn {session.turn_number}.")
                return
            try:
                result = services.turn_submit(
                    session_id=session.id,
                    user=owner,
                    action={"type": "choose", "option": choice},
                    expected_turn=session.turn_number,
                )
            except GameError as exc:
                self.stderr.write(f"Refused: {exc.message}")
                continue
            self._show_turn(result.payload["record"])
            session = result.session
        raise CommandError(f"Stopped after {MAX_TURNS} turns without an ending.")

    def _user(self, username):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def _default_theme(self):
        theme = selectors.theme_list().first()
        if theme is None:
            raise CommandError("No themes are loaded; run manage.py load_themes.")
        return theme.slug

    def _show_scene(self, turn, view):
        scene = view["scene"]
        metrics = ", ".join(
            f"{m['name']} {m['value']}" for m in view.get("metrics", [])
        )
        stock = ", ".join(
            f"{s['name']} {s['value']}" for s in view.get("stockpiles", [])
        )
        self.stdout.write(f"\n=== Turn {turn + 1}: {scene['title']} ===")
        self.stdout.write(f"{metrics}\n{stock}\n")
        self.stdout.write(scene.get("text", ""))
        for option in scene["options"]:
            costs = ", ".join(
                f"{c['amount']} {c['name']}" for c in option.get("costs", [])
            )
            self.stdout.write(
                f"  [{option['index'] + 1}] {option['label']}"
                f"  (cost: {costs or 'none'}; risk: {option.get('risk', '?')})"
            )
            if option.get("hint"):
                self.stdout.write(f"      {option['hint']}")

    def _choose(self, options, auto, policy):
        if auto == "first":
            return options[0]["index"]
        if auto == "random":
            return policy.choice(options)["index"]
        valid = {str(o["index"] + 1): o["index"] for o in options}
        while True:
            try:
                answer = input(f"Choose {'/'.join(valid)} (q to quit): ").strip()
            except EOFError:
                return None
            if answer.lower() in ("q", "quit"):
                return None
            if answer in valid:
                return valid[answer]
            self.stdout.write("Not one of the options.")

    def _show_turn(self, record):
        for paragraph in record.get("narrative", []):
            self.stdout.write(f"\n{paragraph}")
        for line in record.get("dialogue", []):
            # Lines arrive already quoted by the narrator.
            self.stdout.write(f"  {line.get('name', line.get('npc'))}: {line['line']}")

    def _show_ending(self, view):
        ending = view.get("ending") or {}
        self.stdout.write(
            f"\n*** {ending.get('title', 'The end')} ({ending.get('kind', '?')}) ***"
        )
        if ending.get("text"):
            self.stdout.write(ending["text"])
        for fate in ending.get("epilogue", []):
            self.stdout.write(f"  {fate.get('name')}: {fate.get('line', '')}")
