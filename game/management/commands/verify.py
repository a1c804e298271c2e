"""Replays a stored game and checks its hash chain turn by turn."""

from django.core.management.base import BaseCommand, CommandError

from game.errors import NotFound
from game.selectors import session_by_id, session_verify


class Command(BaseCommand):
    help = "Recompute a stored game through the engine and compare its hashes."

    def add_arguments(self, parser):
        parser.add_argument("session_id", help="UUID of the game to verify.")

    def handle(self, *args, session_id, **options):
        try:
            session = session_by_id(session_id)
        except NotFound as exc:
            raise CommandError(f"No game with id {session_id}.") from exc

        report = session_verify(session)
        if not report["ok"]:
            raise CommandError(
                f"MISMATCH at turn {report['first_bad_turn']} of {session.id}: "
                f"{report['reason']}"
            )
        self.stdout.write(
            self.style.SUCCESS(f"OK {session.id}: {report['turns']} turn(s) verified.")
        )
