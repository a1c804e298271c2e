"""Whole-database backup and restore: the backup and restore commands.

The round trip restores into a fresh database of the kind the suite runs on
(a new SQLite file, or a new PostgreSQL database created for the test) and
replays every game there. pg_dump and pg_restore failures are staged with
stand-in scripts, so they are tested on any machine.
"""

import io
import sqlite3
import uuid
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from game.backups import (
    BackupError,
    backup_database,
    backup_name,
    prune_backups,
    restore_database,
)
from game.models import GameSession
from game.tests.conftest import choose, play_to_end, start_game

PG_CONFIG = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "fortress",
    "USER": "keeper",
    "PASSWORD": "s3cret-Pass",
    "HOST": "db.internal",
    "PORT": 6543,
    "OPTIONS": {"sslmode": "require"},
}


def run(*args, **options):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


class FreshDatabase:
    """An empty database of the suite's kind, reachable by URL and by SQL."""

    def __init__(self, url, connect):
        self.url = url
        self._connect = connect

    def query(self, sql):
        connection = self._connect()
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def execute(self, sql):
        connection = self._connect()
        try:
            connection.execute(sql)
            connection.commit()
        finally:
            connection.close()


@contextmanager
def fresh_database(tmp_path):
    if connections["default"].vendor == "sqlite":
        path = tmp_path / "fresh.sqlite3"
        yield FreshDatabase(f"sqlite:///{path}", lambda: sqlite3.connect(path))
        return

    import psycopg
    from psycopg import sql

    config = connections["default"].settings_dict
    server = {
        "host": config["HOST"] or "localhost",
        "port": config["PORT"] or 5432,
        "user": config["USER"],
        "password": config["PASSWORD"] or None,
    }
    name = f"fortress_restore_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(dbname="postgres", autocommit=True, **server)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    credentials = quote(server["user"], safe="")
    if server["password"]:
        credentials += ":" + quote(server["password"], safe="")
    url = f"postgres://{credentials}@{server['host']}:{server['port']}/{name}"
    try:
        yield FreshDatabase(url, lambda: psycopg.connect(dbname=name, **server))
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        admin.close()


def games_in(rows):
    """{session id: (head chain hash, turn number)} from raw rows."""
    return {str(uuid.UUID(str(id_))): (head, turn) for id_, head, turn in rows}


GAMES_SQL = "SELECT id, head_chain_hash, turn_number FROM game_gamesession"


@pytest.fixture
def three_games(as_ada, as_bram, theme):
    """ada's game at turn 3, a fork of it at turn 1, and bram's ended game."""
    game = start_game(as_ada, theme, seed=7)
    for number in range(3):
        assert choose(as_ada, game["id"], number).status_code == 201
    fork = as_ada.post(
        f"/api/v1/sessions/{game['id']}/fork/", {"turn": 1}, format="json"
    )
    assert fork.status_code == 201
    ended = start_game(as_bram, theme, seed=12)
    play_to_end(as_bram, ended["id"])
    games = games_in(
        GameSession.objects.values_list("id", "head_chain_hash", "turn_number")
    )
    return games, game["id"]


# -- the round trip ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_fresh_database_where_every_game_verifies(
    three_games, tmp_path
):
    games, ada_game = three_games
    folder = tmp_path / "backups"
    output = run("backup", "-o", f"{folder}/")
    (backup,) = folder.iterdir()
    assert str(backup) in output
    assert backup.stat().st_mode & 0o077 == 0

    if connections["default"].vendor == "sqlite":
        # The copy is a database of its own, readable while the original runs.
        copy = sqlite3.connect(backup.resolve().as_uri() + "?mode=ro", uri=True)
        assert games_in(copy.execute(GAMES_SQL).fetchall()) == games
        copy.close()

    with fresh_database(tmp_path) as fresh:
        output = run(
            "restore",
            str(backup),
            database_url=fresh.url,
            verify=True,
            interactive=False,
        )

        assert "Verified 3 game(s): every hash chain holds." in output
        assert games_in(fresh.query(GAMES_SQL)) == games

        # The check is real: a turn changed in the restored copy is caught.
        fresh.execute(
            "UPDATE game_turn SET state_hash = '"
            + "0" * 64
            + f"' WHERE number = 2 AND session_id = '{uuid.UUID(ada_game).hex}'"
        )
        out = io.StringIO()
        with pytest.raises(CommandError, match="1 of 3 game"):
            call_command(
                "restore", verify_only=True, database_url=fresh.url, stdout=out
            )
        assert f"MISMATCH {ada_game} at turn 2" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_restore_over_a_database_replaces_what_was_there(three_games, tmp_path):
    games, _ = three_games
    folder = tmp_path / "backups"
    run("backup", "-o", f"{folder}/")
    (backup,) = folder.iterdir()

    with fresh_database(tmp_path) as fresh:
        run("restore", str(backup), database_url=fresh.url, interactive=False)
        fresh.execute("DELETE FROM game_turn")
        fresh.execute("DELETE FROM game_gamesession")
        assert fresh.query(GAMES_SQL) == []

        run("restore", str(backup), database_url=fresh.url, interactive=False)

        assert games_in(fresh.query(GAMES_SQL)) == games


# -- SQLite without the server stopping -----------------------------------------


def fortress_like_sqlite(path, journal="wal"):
    """A small SQLite file with the tables a Fortress Director database has."""
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA journal_mode={journal}")
    connection.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY)")
    connection.execute("CREATE TABLE game_gamesession (id TEXT PRIMARY KEY)")
    connection.execute("CREATE TABLE game_turn (id INTEGER PRIMARY KEY, n INT)")
    connection.execute("INSERT INTO game_gamesession VALUES ('committed')")
    connection.commit()
    return connection


def test_sqlite_backup_does_not_wait_for_a_writer_and_skips_its_uncommitted_rows(
    tmp_path,
):
    live = tmp_path / "live.sqlite3"
    fortress_like_sqlite(live).close()
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO game_gamesession VALUES ('in flight')")
    config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(live)}
    target = tmp_path / "copy.sqlite3"

    try:
        backup_database(config, target)
    finally:
        writer.execute("COMMIT")
        writer.close()

    copy = sqlite3.connect(target)
    assert copy.execute("SELECT id FROM game_gamesession").fetchall() == [
        ("committed",)
    ]
    # A stand-alone file: no write-ahead log beside it is needed.
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    copy.close()


def test_sqlite_restore_copies_a_backup_into_a_new_file(tmp_path):
    source = tmp_path / "backup.sqlite3"
    fortress_like_sqlite(source, journal="delete").close()
    target = tmp_path / "restored.sqlite3"

    restore_database({"ENGINE": "django.db.backends.sqlite3", "NAME": target}, source)

    restored = sqlite3.connect(target)
    assert restored.execute("SELECT id FROM game_gamesession").fetchall() == [
        ("committed",)
    ]
    restored.close()


# -- refusals ------------------------------------------------------------------


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    path = tmp_path / "game.json"
    path.write_text('{"format": "fortress-director/session"}')
    target = tmp_path / "target.sqlite3"

    with pytest.raises(CommandError, match="neither a pg_dump"):
        run("restore", str(path), database_url=f"sqlite:///{target}", interactive=False)
    assert not target.exists()


def test_restore_refuses_a_backup_of_the_other_kind(tmp_path):
    dump = tmp_path / "backup.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    target = tmp_path / "target.sqlite3"

    with pytest.raises(CommandError, match="postgresql backup; the target .* sqlite"):
        run("restore", str(dump), database_url=f"sqlite:///{target}", interactive=False)
    assert not target.exists()


def test_restore_refuses_a_sqlite_file_that_is_not_a_fortress_database(tmp_path):
    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE recipes (name TEXT)")
    connection.commit()
    connection.close()
    target = tmp_path / "target.sqlite3"

    with pytest.raises(CommandError, match="not a Fortress Director database"):
        run(
            "restore", str(other), database_url=f"sqlite:///{target}", interactive=False
        )
    assert not target.exists()


def test_restore_asks_first_and_stops_unless_told_yes(tmp_path, monkeypatch):
    source = tmp_path / "backup.sqlite3"
    fortress_like_sqlite(source, journal="delete").close()
    target = tmp_path / "target.sqlite3"
    prompts = []
    monkeypatch.setattr(
        "builtins.input", lambda prompt="": prompts.append(prompt) or "no"
    )

    with pytest.raises(CommandError, match="cancelled"):
        run("restore", str(source), database_url=f"sqlite:///{target}")
    assert "replaces everything" in prompts[0]
    assert not target.exists()


def test_restore_needs_a_file_unless_only_verifying():
    with pytest.raises(CommandError, match="Name the backup file"):
        run("restore", database_url="sqlite:////nonexistent/x.sqlite3")


def test_backup_keep_needs_a_folder(tmp_path):
    with pytest.raises(CommandError, match="--keep works with a folder"):
        run("backup", "-o", str(tmp_path / "one.dump"), "--keep", "2")


# -- pg_dump and pg_restore ----------------------------------------------------


def stand_in(folder, name, body):
    """A shell script called name in folder, standing in for a PostgreSQL tool."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return script


# Notes its arguments and the PG* variables it was given in two files beside
# {log}, and writes a dump where --file points, with shell built-ins only.
RECORDER = """
out="{log}"
: > "$out.args"
for a in "$@"; do
  printf '%s\\n' "$a" >> "$out.args"
  case "$a" in --file=*) printf 'PGDMP stand-in' > "${{a#--file=}}";; esac
done
printf '%s\\n' "$PGHOST" "$PGPORT" "$PGUSER" "$PGPASSWORD" "$PGDATABASE" \
  "$PGSSLMODE" > "$out.env"
"""


def test_pg_dump_gets_the_connection_from_the_environment_not_the_command_line(
    tmp_path, monkeypatch
):
    bin_dir = tmp_path / "bin"
    log = tmp_path / "pg_dump"
    stand_in(bin_dir, "pg_dump", RECORDER.format(log=log))
    monkeypatch.setenv("PATH", str(bin_dir))
    target = tmp_path / "out.dump"

    backup_database(PG_CONFIG, target)

    args = (tmp_path / "pg_dump.args").read_text().splitlines()
    env = (tmp_path / "pg_dump.env").read_text().splitlines()
    assert "--format=custom" in args
    assert "--no-password" in args
    assert not any("s3cret" in arg for arg in args)
    assert env == [
        "db.internal",
        "6543",
        "keeper",
        "s3cret-Pass",
        "fortress",
        "require",
    ]
    assert target.read_bytes().startswith(b"PGDMP")
    assert not list(tmp_path.glob(".*.partial"))


def test_pg_restore_is_run_clean_if_exists_without_owner(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    log = tmp_path / "pg_restore"
    stand_in(bin_dir, "pg_restore", RECORDER.format(log=log))
    monkeypatch.setenv("PATH", str(bin_dir))
    dump = tmp_path / "in.dump"
    dump.write_bytes(b"PGDMP stand-in")

    restore_database(PG_CONFIG, dump)

    args = (tmp_path / "pg_restore.args").read_text().splitlines()
    assert {"--clean", "--if-exists", "--no-owner", "--single-transaction"} <= set(args)
    assert "--dbname=fortress" in args
    assert args[-1] == str(dump)
    assert not any("s3cret" in arg for arg in args)


def test_missing_pg_tools_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    target = tmp_path / "out.dump"
    dump = tmp_path / "in.dump"
    dump.write_bytes(b"PGDMP stand-in")

    with pytest.raises(BackupError, match="pg_dump was not found on PATH"):
        backup_database(PG_CONFIG, target)
    with pytest.raises(BackupError, match="pg_restore was not found on PATH"):
        restore_database(PG_CONFIG, dump)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.dump"]


def test_a_failing_pg_dump_is_reported_and_leaves_no_file(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    stand_in(
        bin_dir,
        "pg_dump",
        'for a in "$@"; do case "$a" in --file=*) printf half > "${a#--file=}";;'
        " esac; done\n"
        "echo 'pg_dump: error: connection to server failed: no route' >&2\nexit 1\n",
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    target = tmp_path / "out.dump"

    with pytest.raises(BackupError) as failure:
        backup_database(PG_CONFIG, target)

    assert "pg_dump failed with exit code 1" in str(failure.value)
    assert "no route" in str(failure.value)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin"]


def test_restore_command_reports_a_pg_restore_failure(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    stand_in(
        bin_dir,
        "pg_restore",
        "echo 'pg_restore: error: could not connect: permission denied' >&2\nexit 1\n",
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    dump = tmp_path / "in.dump"
    dump.write_bytes(b"PGDMP stand-in")

    with pytest.raises(CommandError, match="pg_restore failed.*\n.*permission denied"):
        run(
            "restore",
            str(dump),
            database_url="postgres://keeper:pw@db.internal:6543/fortress",
            interactive=False,
        )


# -- keeping a few -------------------------------------------------------------


def test_keep_removes_only_older_time_stamped_backups(tmp_path):
    from datetime import UTC, datetime

    names = [
        backup_name("postgresql", datetime(2025, 1, day, 3, 15, tzinfo=UTC))
        for day in (1, 2, 3, 4)
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"PGDMP")
    (tmp_path / "fortress-handmade.dump").write_bytes(b"PGDMP")
    (tmp_path / backup_name("sqlite", datetime(2024, 1, 1, tzinfo=UTC))).touch()

    removed = prune_backups(tmp_path, 2, "postgresql")

    assert [path.name for path in removed] == names[:2]
    left = sorted(path.name for path in tmp_path.iterdir())
    assert left == sorted(
        [*names[2:], "fortress-handmade.dump", "fortress-20240101T000000Z.sqlite3"]
    )
