"""Whole-database backup and restore for the backup and restore commands.

PostgreSQL goes through pg_dump and pg_restore, given their connection
details in PG* environment variables so no password shows up in a process
list. SQLite goes through the sqlite3 online backup API, which copies a
consistent snapshot while the server keeps running.
"""

import logging
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import environ

from game.models import GameSession
from game.selectors import session_verify

logger = logging.getLogger(__name__)

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

# How each kind of backup file starts: pg_dump's custom format, and every
# SQLite database file.
_MAGIC = {POSTGRESQL: b"PGDMP", SQLITE: b"SQLite format 3\x00"}
EXTENSIONS = {POSTGRESQL: ".dump", SQLITE: ".sqlite3"}

# Connection OPTIONS that libpq also reads from the environment.
_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}

# Tables a Fortress Director database has; a file without them is refused
# rather than restored over the games.
_REQUIRED_TABLES = ("django_migrations", "game_gamesession", "game_turn")


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


def config_from_url(url: str) -> dict:
    """A Django database config from a DATABASE_URL-style address."""
    try:
        return environ.Env.db_url_config(url)
    except Exception as exc:  # environ raises a bare Exception for a bad scheme
        raise BackupError(f"Cannot read the database URL: {exc}") from exc


def database_kind(config: dict) -> str:
    """POSTGRESQL or SQLITE for a Django database config; BackupError otherwise."""
    engine = str(config.get("ENGINE", ""))
    # Instrumented backends (django_prometheus) keep the vendor's module name.
    if engine.endswith(".postgresql") or engine.endswith(".postgresql_psycopg2"):
        return POSTGRESQL
    if engine.endswith(".sqlite3"):
        return SQLITE
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {engine}.")


def describe(config: dict) -> str:
    """Where a database is, for messages (never with its password)."""
    if database_kind(config) == SQLITE:
        return f"SQLite {config['NAME']}"
    host = config.get("HOST") or "localhost"
    port = config.get("PORT") or 5432
    return f"PostgreSQL {config['NAME']} on {host}:{port}"


def file_kind(path: Path) -> str:
    """Which kind of backup a file is, by its first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror}") from exc
    for kind, magic in _MAGIC.items():
        if head.startswith(magic):
            return kind
    raise BackupError(
        f"{path} is neither a pg_dump custom-format archive nor a SQLite database."
    )


# -- PostgreSQL --------------------------------------------------------------


def pg_environment(config: dict) -> dict:
    """The process environment for a libpq tool aimed at this database."""
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        value = config.get(key)
        if value not in (None, ""):
            env[var] = str(value)
    for option, var in _PG_OPTION_ENV.items():
        value = (config.get("OPTIONS") or {}).get(option)
        if value not in (None, ""):
            env[var] = str(value)
    return env


def run_pg_tool(tool: str, args: list[str], config: dict) -> None:
    """Run pg_dump or pg_restore against a database; BackupError if it fails."""
    program = shutil.which(tool)
    if program is None:
        raise BackupError(
            f"{tool} was not found on PATH. Install the PostgreSQL client tools "
            "of the server's major version (Debian and Ubuntu: apt install "
            "postgresql-client) where this command runs."
        )
    # --no-password: fail at once rather than wait for a prompt nobody sees
    # when the password is missing (as under cron).
    command = [program, "--no-password", *args]
    logger.debug("running %s for %s", tool, describe(config))
    try:
        result = subprocess.run(
            command,
            env=pg_environment(config),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise BackupError(f"{tool} could not be started: {exc.strerror}") from exc
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line]
        detail = "\n".join(lines[-10:]) or "(no message)"
        raise BackupError(
            f"{tool} failed with exit code {result.returncode}:\n{detail}"
        )


def _backup_postgresql(config: dict, target: Path) -> None:
    run_pg_tool("pg_dump", ["--format=custom", f"--file={target}"], config)


def _restore_postgresql(config: dict, source: Path) -> None:
    # One transaction: a restore that fails halfway leaves the database as
    # it was. --no-owner and --no-privileges let another role restore it.
    run_pg_tool(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={config['NAME']}",
            str(source),
        ],
        config,
    )


# -- SQLite ------------------------------------------------------------------


def _sqlite_path(config: dict) -> Path:
    name = str(config.get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        raise BackupError("An in-memory SQLite database has no file to back up.")
    return Path(name)


def _check_sqlite_file(connection: sqlite3.Connection, path: Path) -> None:
    (verdict,) = connection.execute("PRAGMA quick_check").fetchone()
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")
    tables = {
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    missing = [table for table in _REQUIRED_TABLES if table not in tables]
    if missing:
        raise BackupError(
            f"{path} is not a Fortress Director database (no {', '.join(missing)})."
        )


def _backup_sqlite(config: dict, target: Path) -> None:
    source_path = _sqlite_path(config)
    if not source_path.exists():
        raise BackupError(f"The database file {source_path} does not exist.")
    source = sqlite3.connect(source_path, timeout=20)
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1) copies one consistent snapshot; writers carry
        # on meanwhile under WAL.
        source.backup(copy)
        # The copy stands alone as one file, whatever journal the live
        # database uses.
        copy.execute("PRAGMA journal_mode=DELETE")
        _check_sqlite_file(copy, target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        copy.close()
        source.close()


def _restore_sqlite(config: dict, source_path: Path) -> None:
    target_path = _sqlite_path(config)
    if not target_path.parent.is_dir():
        raise BackupError(f"The folder {target_path.parent} does not exist.")
    # Read-only, so that checking and copying a backup never changes it.
    source = sqlite3.connect(source_path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        _check_sqlite_file(source, source_path)
        target = sqlite3.connect(target_path, timeout=20)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite restore failed: {exc}") from exc
    finally:
        source.close()


# -- the two operations --------------------------------------------------------


def backup_database(config: dict, target: Path) -> int:
    """Write a backup of the database to target; returns its size in bytes.

    The backup is written beside target under a temporary name and moved
    into place only once complete, so a failed run never leaves a file that
    looks like a good backup. It holds password hashes: only its owner may
    read it.
    """
    kind = database_kind(config)
    target = Path(target)
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == POSTGRESQL:
            _backup_postgresql(config, partial)
        else:
            _backup_sqlite(config, partial)
        partial.chmod(0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    size = target.stat().st_size
    logger.debug("backed up %s to %s (%s bytes)", describe(config), target, size)
    return size


def restore_database(config: dict, source: Path) -> None:
    """Replace the database's contents with a backup of the same kind."""
    kind = database_kind(config)
    source = Path(source)
    found = file_kind(source)
    if found != kind:
        raise BackupError(
            f"{source} is a {found} backup; the target database is {kind}."
        )
    if kind == POSTGRESQL:
        _restore_postgresql(config, source)
    else:
        _restore_sqlite(config, source)
    logger.debug("restored %s from %s", describe(config), source)


def backup_name(kind: str, when) -> str:
    """The file name backup gives a backup taken at a (UTC) time."""
    return f"fortress-{when:%Y%m%dT%H%M%SZ}{EXTENSIONS[kind]}"


_NAMED = re.compile(r"^fortress-\d{8}T\d{6}Z(\.dump|\.sqlite3)$")


def prune_backups(folder: Path, keep: int, kind: str) -> list[Path]:
    """Delete all but the newest ``keep`` backups of a kind named by backup_name.

    Files named any other way are never touched.
    """
    found = sorted(
        path
        for path in folder.iterdir()
        if _NAMED.match(path.name) and path.suffix == EXTENSIONS[kind]
    )
    removed = found[: max(len(found) - keep, 0)]
    for path in removed:
        path.unlink()
    return removed


def sessions_verify_all():
    """Replay every stored game; yields (session, report) in creation order."""
    sessions = GameSession.objects.select_related("theme", "owner").order_by(
        "created", "id"
    )
    for session in sessions.iterator(chunk_size=100):
        yield session, session_verify(session)
