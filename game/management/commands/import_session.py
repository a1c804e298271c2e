"""Checks, replays and stores a game from a JSON export document."""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from game.errors import GameError
from game.portability import MAX_DOCUMENT_BYTES, document_parse, session_import


class Command(BaseCommand):
    help = (
        "Import a game exported by export_session (or the API) as a new game of "
        "--owner. Every turn is replayed and its hashes checked first; on any "
        "mismatch nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help='Export document to read ("-" for stdin).')
        parser.add_argument(
            "--owner", required=True, help="Username of the new game's owner."
        )

    def handle(self, *args, file, owner, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: owner})
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {owner}.") from exc

        try:
            # One byte past the limit is enough for document_parse to refuse
            # an oversized file without holding all of it in memory.
            if file == "-":
                raw = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
            else:
                with Path(file).open("rb") as handle:
                    raw = handle.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc

        try:
            session = session_import(
                owner=user,
                document=document_parse(raw, max_bytes=MAX_DOCUMENT_BYTES),
            )
        except GameError as exc:
            raise CommandError(f"Import refused: {exc.message}") from exc

        self.stdout.write(
            self.style.SUCCESS(
                f"Imported game {session.id} for {owner}: {session.theme.slug} "
                f"{session.theme.version}, turn {session.turn_number}, "
                f"{session.status}; every turn replayed to its hashes."
            )
        )
