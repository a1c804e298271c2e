"""Restores the whole database from a backup file, and checks every game after."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from game.backups import (
    BackupError,
    config_from_url,
    describe,
    restore_database,
    sessions_verify_all,
)


class Command(BaseCommand):
    help = (
        "Replace the database's contents with a backup made by the backup "
        "command (pg_restore --clean --if-exists --no-owner on PostgreSQL, the "
        "online backup API on SQLite). With --verify, every game's hash chain "
        "is replayed afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", nargs="?", help="Backup file written by the backup command."
        )
        parser.add_argument(
            "--database-url",
            help="Restore into this database instead of the configured one "
            "(e.g. postgres://user@host:5432/fresh or sqlite:////path/new.sqlite3).",
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="After restoring, replay every game and check its hash chain.",
        )
        parser.add_argument(
            "--verify-only",
            action="store_true",
            help="Restore nothing; only check every game of the database.",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation before replacing the data.",
        )

    def handle(self, *args, file, database_url, verify, verify_only, **options):
        if database_url:
            config = config_from_url_or_fail(database_url)
        else:
            config = connections[DEFAULT_DB_ALIAS].settings_dict
        try:
            where = describe(config)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc

        if verify_only:
            self._verify(database_url)
            return
        if not file:
            raise CommandError("Name the backup file to restore (or --verify-only).")
        source = Path(file)
        if not source.is_file():
            raise CommandError(f"No backup file {source}.")

        if options["interactive"]:
            answer = input(
                f"This replaces everything in {where} with the contents of "
                f"{source}.\nType 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")

        if not database_url:
            # Django's own connections must not hold the database while it
            # is replaced under them.
            connections.close_all()
        try:
            restore_database(config, source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {where} from {source}."))

        if verify:
            self._verify(database_url)

    def _verify(self, database_url):
        if database_url:
            # The selectors read the configured database, so another one is
            # checked by this same command in a process configured for it.
            self._verify_elsewhere(database_url)
            return
        checked, failed = 0, 0
        for session, report in sessions_verify_all():
            checked += 1
            if not report["ok"]:
                failed += 1
                self.stdout.write(
                    f"MISMATCH {session.id} at turn {report['first_bad_turn']}: "
                    f"{report['reason']}"
                )
        if failed:
            raise CommandError(
                f"{failed} of {checked} game(s) do not replay to their hashes."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Verified {checked} game(s): every hash chain holds.")
        )

    def _verify_elsewhere(self, database_url):
        manage = Path(settings.BASE_DIR) / "manage.py"
        result = subprocess.run(
            [sys.executable, str(manage), "restore", "--verify-only", "--no-color"],
            env={**os.environ, "DATABASE_URL": database_url},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        self.stdout.write(result.stdout, ending="")
        if result.returncode != 0:
            lines = [line for line in result.stderr.strip().splitlines() if line]
            raise CommandError(
                lines[-1] if lines else f"Verification exited {result.returncode}."
            )


def config_from_url_or_fail(url: str) -> dict:
    try:
        return config_from_url(url)
    except BackupError as exc:
        raise CommandError(str(exc)) from exc
