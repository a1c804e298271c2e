"""Backs up the whole database to one file, safely while the server runs."""

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from game.backups import (
    BackupError,
    backup_database,
    backup_name,
    database_kind,
    describe,
    prune_backups,
)


class Command(BaseCommand):
    help = (
        "Back up the configured database to a file: a pg_dump custom-format "
        "archive on PostgreSQL, a copy made with the online backup API on "
        "SQLite. Safe while the server runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-o",
            "--output",
            help="File to write, or a folder to write a time-stamped file into "
            "(default: var/backups/).",
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="After a good backup, keep only this many time-stamped backups "
            "in the folder (others are deleted).",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Django database alias to back up (default: default).",
        )

    def handle(self, *args, output, keep, database, **options):
        if keep is not None and keep < 1:
            raise CommandError("--keep must be at least 1.")
        if database not in connections:
            raise CommandError(f"No database alias {database}.")
        # The live settings: under tests this is the test database.
        config = connections[database].settings_dict
        try:
            kind = database_kind(config)
            target, named_here = self._target(output, kind)
            if keep is not None and not named_here:
                raise CommandError("--keep works with a folder, not a file name.")
            size = backup_database(config, target)
            removed = prune_backups(target.parent, keep, kind) if keep else []
        except BackupError as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {describe(config)} to {target} ({size} bytes)."
            )
        )
        for path in removed:
            self.stdout.write(f"Removed old backup {path}")

    def _target(self, output, kind) -> tuple[Path, bool]:
        """Where to write, and whether the file name is a time-stamped one."""
        name = backup_name(kind, datetime.now(UTC))
        if not output:
            folder = Path(settings.BASE_DIR) / "var" / "backups"
            folder.mkdir(parents=True, exist_ok=True)
            return folder / name, True
        path = Path(output)
        if path.is_dir() or output.endswith(("/", "\\")):
            path.mkdir(parents=True, exist_ok=True)
            return path / name, True
        return path, False
