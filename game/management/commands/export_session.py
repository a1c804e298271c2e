"""Writes one stored game as a JSON export document (to a file or stdout)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from game.errors import NotFound
from game.portability import session_export_for_operator


class Command(BaseCommand):
    help = "Export a game, with every turn and its hashes, as a JSON document."

    def add_arguments(self, parser):
        parser.add_argument("session_id", help="UUID of the game to export.")
        parser.add_argument(
            "-o",
            "--output",
            help="File to write (default: standard output).",
        )

    def handle(self, *args, session_id, output, **options):
        try:
            document = session_export_for_operator(session_id=session_id)
        except NotFound as exc:
            raise CommandError(f"No game with id {session_id}.") from exc

        text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
        if not output:
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc
        # The summary goes to stderr so that stdout stays clean for pipes.
        self.stderr.write(
            f"Exported game {session_id} ({document['turn']} turn(s)) to {path}."
        )
