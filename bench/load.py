"""Load and soak harness: a real server stack on loopback, driven by many clients.

Run from the project root: `.venv/bin/python bench/load.py [--short]`.

It creates its own PostgreSQL database (`fortress_load`, dropped and created
afresh) and uses Redis database 5 (flushed), migrates, loads the themes and
starts daphne on a free loopback port with the throttles opened wide. Then,
each phase bounded in time or count:

1. HTTP throughput at 32 concurrent clients: a no-op authenticated endpoint
   (GET /api/v1/auth/me/) against turn submission; their ratio is the bar.
   The two take turns in rounds, so that the machine's slow spells weigh on
   both alike, and the games are started before the timing begins.
2. WebSocket fan-out: one public game, many spectators; the latency from a
   turn's POST to each spectator's receipt, and that each got each turn once.
3. Soak: players playing whole games over REST while watching them over
   WebSocket; per game, the turns answered 201, listed by GET turns/, received
   on the socket and checked by GET verify/ must agree; the server's memory
   is sampled throughout.

Prints plain lines with the figures and a PASS/FAIL line per bar. Exits 1 on
any error (an unexpected status or an exception), a lost or duplicated turn,
or a failed bar; with --short the timing and memory bars are printed but do
not decide the exit status. The server is stopped at the end, also on error
or Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import fcntl
import json
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# The harness owns exactly these: one database and one Redis database.
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
DB_NAME = "fortress_load"
DATABASE_URL = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/5"
OPEN_RATE = "1000000/min"
# Two runs on one machine would share that database: the second waits.
LOCK_PATH = Path("/tmp/fortress_load.lock")

API = "/api/v1"
PASSWORD = "siege engines at dawn 7"

# DESIGN §5.
RATIO_BAR = 0.50
MEMORY_BAR_PCT = 10.0
MEMORY_BAR_TURNS = 10_000
FANOUT_BAR_SPECTATORS = 500
# Like the browser, a watcher pings now and then: the server may close a
# socket that sends nothing for long.
PING_SECONDS = 30.0
# A phase's clients give up after this many errors rather than spin on them.
MAX_ERRORS = 500

# Defaults per form; a command-line option overrides either.
FULL = {
    "accounts": 32,
    "http_clients": 32,
    "http_seconds": 20.0,
    "http_rounds": 4,
    "http_games": 8,
    "http_warmup": 3.0,
    "spectators": 500,
    "fanout_turns": 16,
    "players": 32,
    # Enough turns to judge the memory bar: the warm-up, then 10,000 more.
    "soak_minutes": 10.0,
    "soak_turns": 11_000,
    "warmup_turns": 1000,
    "rss_every": 5.0,
}
SHORT = {
    "accounts": 8,
    "http_clients": 32,
    "http_seconds": 5.0,
    "http_rounds": 1,
    "http_games": 3,
    "http_warmup": 1.0,
    "spectators": 100,
    "fanout_turns": 8,
    "players": 32,
    "soak_minutes": 0.5,
    "soak_turns": 0,
    "warmup_turns": 200,
    "rss_every": 2.0,
}


def now() -> float:
    return time.perf_counter()


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


def latency_summary(values: list[float]) -> dict[str, Any]:
    """Count, p50, p99 and max of latencies given in seconds, as milliseconds."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "count": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


class Errors:
    """Everything that went wrong on the client side, by kind, with samples."""

    SAMPLES = 10

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.samples: list[str] = []

    def add(self, kind: str, detail: str = "") -> None:
        self.kinds[kind] += 1
        if len(self.samples) < self.SAMPLES:
            self.samples.append(f"{kind}: {detail}"[:400])

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "kinds": dict(self.kinds), "samples": self.samples}

    def print(self, indent: str = "  ") -> None:
        for kind, count in self.kinds.most_common():
            print(f"{indent}error {kind}: {count}")
        for sample in self.samples:
            print(f"{indent}  e.g. {sample}")


# -- the server stack ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: the kernel sends SIGTERM if the harness dies first."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def server_env(extra: list[str]) -> dict[str, str]:
    """The environment the server and its set-up commands run in.

    Anything that would change the stack under test (another database, a
    production flag, voices, Celery settings) is dropped from the caller's
    environment, so a run means the same wherever it is started.
    """
    dropped = (
        "DATABASE_",
        "REDIS_",
        "CELERY_",
        "FORTRESS_",
        "DJANGO_",
        "THROTTLE_",
        "JWT_",
        "CACHE_",
        "WS_TICKET",
        "PROMETHEUS_",
        "SQLITE_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": "fortress-load",
            "THROTTLE_ANON": OPEN_RATE,
            "THROTTLE_USER": OPEN_RATE,
            "THROTTLE_AUTH": OPEN_RATE,
            "THROTTLE_TURNS": OPEN_RATE,
            "FORTRESS_LOGIN_LOCKOUT_FAILURES": "1000000",
            # A full run outlasts the default 15-minute access token.
            "JWT_ACCESS_MINUTES": "600",
            "DJANGO_DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for item in extra:
        name, _, value = item.partition("=")
        env[name] = value
    return env


class Server:
    """Fresh database and Redis db, migrations, themes, and one daphne process."""

    def __init__(self, log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self.env = env
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_end = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        import psycopg
        import redis

        try:
            with psycopg.connect(
                host=PG_HOST,
                port=PG_PORT,
                user=PG_USER,
                dbname="postgres",
                autocommit=True,
                connect_timeout=10,
            ) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {DB_NAME}")
        except psycopg.Error as exc:
            raise SetupError(
                f"PostgreSQL at {PG_HOST}:{PG_PORT} (user {PG_USER}): {exc}"
            ) from exc
        try:
            client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
            client.flushdb()
            client.close()
        except redis.RedisError as exc:
            raise SetupError(f"Redis at {REDIS_URL}: {exc}") from exc
        for command in (["migrate", "--noinput"], ["load_themes"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SetupError(
                    f"manage.py {' '.join(command)} exited {done.returncode}:\n"
                    f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
                )

    def start(self, timeout: float = 60.0) -> None:
        self.port = free_port()
        daphne = BIN / "daphne"
        command = [str(daphne)] if daphne.exists() else [sys.executable, "-m", "daphne"]
        command += [
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            "fortress_site.asgi:application",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # the child keeps its own copy
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl+C reaches the harness, which stops it.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = now() + timeout
        while now() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(
                    f"daphne exited {self.proc.returncode} at start:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise SetupError(f"daphne not answering /healthz in {timeout:.0f} s")

    def rss_kb(self) -> int | None:
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.log_end = self.log_path.stat().st_size
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_problems(self) -> dict[str, Any]:
        """What the server logged before it was stopped that means trouble.

        Errors are tracebacks (a chain of them counts once) and "Internal
        Server Error" lines without one; each is summarised by the message
        logged with it and its last exception line. The channel layer's "over
        capacity" notices are counted apart: each is a live message dropped.
        Warnings (a failed clean-up, a consumer killed at shutdown) are
        listed but decide nothing.
        """
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return {"errors": 0, "dropped": 0, "kinds": {}, "warnings": {}}
        if self.log_end:
            data = data[: self.log_end]
        lines = data.decode(errors="replace").splitlines()
        chained = (
            "During handling of the above exception",
            "The above exception was the direct cause",
        )
        kinds: Counter[str] = Counter()
        warnings: Counter[str] = Counter()
        dropped = 0
        previous = ""  # the last non-blank line before this one
        index = 0
        while index < len(lines):
            line = lines[index]
            if line.startswith("Traceback (most recent call last)"):
                context = "" if previous.startswith(chained) else previous
                last = ""
                index += 1
                # The chain runs on while lines are indented, blank, or join
                # one traceback to the next; its last exception line is kept.
                while index < len(lines):
                    item = lines[index]
                    if item.startswith((" ", "Traceback")) or not item.strip():
                        pass
                    elif item.startswith(chained):
                        pass
                    elif last and not _looks_like_exception(item):
                        break
                    else:
                        last = item
                    index += 1
                kinds[_shape(f"{context} -> {last}" if context else last)] += 1
                previous = last
                continue
            if "over capacity in group" in line:
                dropped += 1
            elif "Internal Server Error" in line and not _next_is_traceback(
                lines, index
            ):
                kinds[_shape(line)] += 1
            elif _is_warning(line) and not _next_is_traceback(lines, index):
                warnings[_shape(line)] += 1
            if line.strip():
                previous = line
            index += 1
        return {
            "errors": sum(kinds.values()),
            "dropped": dropped,
            "kinds": dict(kinds.most_common()),
            "warnings": dict(warnings.most_common()),
        }


def _is_warning(line: str) -> bool:
    """A clean-up that failed, a consumer killed at shutdown, a warning."""
    text = line.rstrip()
    return text.endswith((" failed", " not sent")) or any(
        word in text for word in ("took too long", "Killed ", "WARNING")
    )


def _looks_like_exception(line: str) -> bool:
    head = line.split(":", 1)[0]
    return bool(re.fullmatch(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)", head))


def _next_is_traceback(lines: list[str], index: int) -> bool:
    return index + 1 < len(lines) and lines[index + 1].startswith("Traceback")


def _shape(line: str) -> str:
    """A log line with its ids blanked, to count lines alike."""
    for pattern, blank in _BLANKS:
        line = re.sub(pattern, blank, line)
    return line[:300]


_BLANKS = (
    (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>"),
    (r"\b[0-9a-f]{32}\b", "<id>"),
    (r"\b(\d{1,3}\.){3}\d{1,3}(:\d+)?", "<address>"),
    (r"\b(Task|user)([-.])\d+", r"\1\2<n>"),
)


class SetupError(Exception):
    """The stack could not be brought up: a failure, never a skip."""


class RssSampler:
    """Samples the server's resident memory every few seconds."""

    def __init__(self, server: Server, every: float) -> None:
        self.server = server
        self.every = every
        self.samples: list[dict[str, Any]] = []
        self.phase = "start"
        self.turns = 0  # soak turns so far, set by the soak
        self.started = now()

    def take(self) -> dict[str, Any] | None:
        rss = self.server.rss_kb()
        if rss is None:
            return None
        sample = {
            "t": round(now() - self.started, 1),
            "phase": self.phase,
            "soak_turns": self.turns,
            "rss_kb": rss,
        }
        self.samples.append(sample)
        return sample

    async def run(self) -> None:
        while True:
            self.take()
            await asyncio.sleep(self.every)


# -- clients ------------------------------------------------------------------


def client_for(
    base: str, token: str | None = None, conns: int = 1
) -> httpx.AsyncClient:
    """An HTTP/1.1 keep-alive client: one connection unless told otherwise."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        base_url=base,
        headers=headers,
        timeout=httpx.Timeout(60.0),
        limits=httpx.Limits(max_connections=conns, max_keepalive_connections=conns),
    )


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    errors: Errors,
    what: str,
    *,
    body: Any = None,
    expect: tuple[int, ...] = (200,),
    timings: list[float] | None = None,
) -> tuple[int, Any]:
    """One request; an unexpected status or an exception is counted as an error.

    Returns (status, decoded JSON body or None); status 0 for an exception.
    """
    start = now()
    try:
        response = await client.request(method, path, json=body)
    except (httpx.HTTPError, OSError) as exc:
        errors.add(f"{what}: {type(exc).__name__}", str(exc))
        return 0, None
    if timings is not None:
        timings.append(now() - start)
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code not in expect:
        errors.add(f"{what}: HTTP {response.status_code}", response.text[:300])
    return response.status_code, data


class Account:
    def __init__(self, username: str) -> None:
        self.username = username
        self.token = ""


async def make_accounts(base: str, count: int, errors: Errors) -> list[Account]:
    """Registers `count` accounts and signs each in; a few at a time, since the
    server hashes every password."""
    tag = f"{int(time.time()) % 100000:05d}"
    accounts = [Account(f"load{tag}u{i:03d}") for i in range(count)]
    limit = asyncio.Semaphore(8)
    async with client_for(base, conns=8) as client:

        async def one(account: Account) -> None:
            async with limit:
                creds = {"username": account.username, "password": PASSWORD}
                await call(
                    client,
                    "POST",
                    f"{API}/auth/register/",
                    errors,
                    "register",
                    body={**creds, "email": ""},
                    expect=(201,),
                )
                status, data = await call(
                    client, "POST", f"{API}/auth/token/", errors, "token", body=creds
                )
                if status == 200 and isinstance(data, dict):
                    account.token = data.get("access", "")

        await asyncio.gather(*(one(account) for account in accounts))
    signed_in = [account for account in accounts if account.token]
    if not signed_in:
        raise SetupError("no account could be registered and signed in")
    return signed_in


def options_of(body: Any) -> int:
    """How many options the view's scene offers (0 once the game has ended)."""
    try:
        scene = body["view"]["scene"]
        return len(scene["options"]) if scene else 0
    except (KeyError, TypeError):
        return 0


class Game:
    """A game one client plays: its id, turn number and what it can choose."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.id = str(body["id"])
        self.turn = int(body["turn"])
        self.options = options_of(body)
        self.ended = body.get("status") != "active" or self.options == 0
        self.answered: list[int] = []  # turn numbers answered 201


async def new_game(
    client: httpx.AsyncClient,
    theme: str,
    seed: int,
    errors: Errors,
    timings: list[float] | None = None,
) -> Game | None:
    status, data = await call(
        client,
        "POST",
        f"{API}/sessions/",
        errors,
        "create game",
        body={"theme": theme, "seed": seed},
        expect=(201,),
        timings=timings,
    )
    if status != 201 or not isinstance(data, dict):
        return None
    return Game(data)


async def play_turn(
    client: httpx.AsyncClient,
    game: Game,
    rng: random.Random,
    errors: Errors,
    timings: list[float],
) -> bool:
    """Submits the game's next turn; True if it was answered 201 as expected."""
    body = {
        "expected_turn": game.turn,
        "action": {"type": "choose", "option": rng.randrange(max(1, game.options))},
    }
    status, data = await call(
        client,
        "POST",
        f"{API}/sessions/{game.id}/turns/",
        errors,
        "submit turn",
        body=body,
        expect=(201,),
        timings=timings,
    )
    if status != 201 or not isinstance(data, dict):
        if status == 409 and isinstance(data, dict):
            details = (data.get("error") or {}).get("details") or {}
            if isinstance(details.get("current_turn"), int):
                game.turn = details["current_turn"]
                return False
        game.ended = True  # give this game up; the error is counted
        return False
    number = data.get("turn")
    if number != game.turn + 1:
        errors.add(
            "submit turn: wrong number", f"expected {game.turn + 1}, got {number}"
        )
    game.turn = int(number) if isinstance(number, int) else game.turn + 1
    game.answered.append(game.turn)
    game.options = options_of(data)
    game.ended = data.get("status") != "active" or game.options == 0
    return True


class Watcher:
    """One WebSocket on a game: records each turn message and when it came."""

    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.hello_turn: int | None = None
        self.turns: list[int] = []
        self.first_seen: dict[int, float] = {}
        self.others: Counter[str] = Counter()
        self.max_turn = 0
        self.last_message = now()
        self.closed_by_server: str | None = None
        self.on_turn: Callable[[int, float], None] | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._closing = False

    async def open(
        self,
        ws_base: str,
        game_id: str,
        client: httpx.AsyncClient,
        errors: Errors,
        timeout: float = 30.0,
    ) -> bool:
        status, data = await call(
            client, "POST", f"{API}/ws-tickets/", errors, "ws ticket", expect=(201,)
        )
        if status != 201 or not isinstance(data, dict):
            return False
        url = f"{ws_base}/ws/sessions/{game_id}/?ticket={data['ticket']}"
        try:
            self.ws = await ws_connect(
                url,
                open_timeout=timeout,
                ping_interval=None,
                close_timeout=5,
                compression=None,
                max_size=None,
                max_queue=None,
            )
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except Exception as exc:  # refused handshake, timeout, reset: all count
            errors.add(f"ws connect: {type(exc).__name__}", str(exc))
            await self.close()
            return False
        message = json.loads(raw)
        if message.get("type") != "hello":
            errors.add("ws connect: first message not hello", str(raw)[:200])
        else:
            self.hello_turn = message.get("turn")
        self._task = asyncio.create_task(self._read())
        self._pinger = asyncio.create_task(self._ping())
        return True

    async def _ping(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(PING_SECONDS)
                await self.ws.send('{"type": "ping"}')

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                seen = now()
                self.last_message = seen
                try:
                    message = json.loads(raw)
                except ValueError:
                    message = {"type": "not JSON"}
                kind = message.get("type") if isinstance(message, dict) else None
                if kind != "turn":
                    self.others[str(kind)] += 1
                    continue
                number = message.get("turn")
                self.turns.append(number)
                self.first_seen.setdefault(number, seen)
                if isinstance(number, int) and number > self.max_turn:
                    self.max_turn = number
                if self.on_turn is not None:
                    self.on_turn(number, seen)
                self._changed.set()
        except ConnectionClosed:
            pass  # the close code is read below
        finally:
            if not self._closing:
                code = self.ws.close_code
                self.closed_by_server = "no close frame" if code is None else str(code)
            self._changed.set()

    async def wait_turn(self, number: int, timeout: float) -> bool:
        deadline = now() + timeout
        while self.max_turn < number:
            if self._task is None or self._task.done():
                return False
            self._changed.clear()
            remaining = deadline - now()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    async def close(self) -> None:
        self._closing = True
        if self._pinger is not None:
            self._pinger.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 10)


# -- phase 1: HTTP throughput -------------------------------------------------


Worker = Callable[[int, float], Awaitable[None]]


async def timed_run(clients: int, seconds: float, worker: Worker) -> float:
    """Runs `clients` workers until `seconds` have passed; the elapsed time."""
    start = now()
    deadline = start + seconds
    await asyncio.gather(*(worker(index, deadline) for index in range(clients)))
    return now() - start


async def phase_http(
    server: Server, accounts: list[Account], themes: list[str], opts: Any
) -> dict[str, Any]:
    window = opts.http_seconds / opts.http_rounds
    print(
        f"== phase 1: HTTP throughput, {opts.http_clients} clients, "
        f"{opts.http_rounds} round(s) of {window:g} s no-op then {window:g} s "
        f"turns, after {opts.http_warmup:g} s warm-up of each"
    )
    clients = [
        client_for(server.base, accounts[i % len(accounts)].token)
        for i in range(opts.http_clients)
    ]
    result: dict[str, Any] = {"clients": opts.http_clients, "rounds": []}
    noop_errors, noop_times, noop_seconds = Errors(), [], 0.0
    turn_errors, turn_times, turn_seconds = Errors(), [], 0.0
    rngs = [random.Random(opts.seed * 1000 + i) for i in range(opts.http_clients)]
    # Each client's games, started before any window is timed: the windows
    # time turn submissions only. A client that plays all of its games
    # starts another inside a window; that request is not counted as a
    # turn, and how many there were is reported.
    stock: list[list[Game]] = [[] for _ in range(opts.http_clients)]
    late_games = Counter()

    async def start_game(index: int, errors: Errors) -> Game | None:
        theme = themes[index % len(themes)]
        seed = rngs[index].randrange(2**31)
        return await new_game(clients[index], theme, seed, errors)

    def noop(errors: Errors, timings: list[float]) -> Worker:
        async def work(index: int, deadline: float) -> None:
            while now() < deadline:
                await call(
                    clients[index],
                    "GET",
                    f"{API}/auth/me/",
                    errors,
                    "no-op",
                    timings=timings,
                )

        return work

    def player(errors: Errors, timings: list[float], late: Counter) -> Worker:
        async def work(index: int, deadline: float) -> None:
            games = stock[index]
            while now() < deadline and errors.total < MAX_ERRORS:
                while games and games[0].ended:
                    games.pop(0)
                if not games:
                    game = await start_game(index, errors)
                    late["games"] += 1
                    if game is not None:
                        games.append(game)
                    continue
                await play_turn(clients[index], games[0], rngs[index], errors, timings)

        return work

    async def stock_up(index: int, errors: Errors) -> None:
        for _ in range(opts.http_games):
            game = await start_game(index, errors)
            if game is not None:
                stock[index].append(game)

    try:
        setup_errors = Errors()
        await asyncio.gather(
            *(stock_up(i, setup_errors) for i in range(opts.http_clients))
        )
        setup_errors.print()
        await timed_run(opts.http_clients, opts.http_warmup, noop(Errors(), []))
        await timed_run(
            opts.http_clients, opts.http_warmup, player(Errors(), [], Counter())
        )
        # No-op and turn windows take turns, so that a slow spell of the
        # shared machine weighs on both sides of the ratio alike.
        for number in range(1, opts.http_rounds + 1):
            before_noop, before_turns = len(noop_times), len(turn_times)
            elapsed_noop = await timed_run(
                opts.http_clients, window, noop(noop_errors, noop_times)
            )
            elapsed_turns = await timed_run(
                opts.http_clients,
                window,
                player(turn_errors, turn_times, late_games),
            )
            noop_seconds += elapsed_noop
            turn_seconds += elapsed_turns
            noop_rate = (len(noop_times) - before_noop) / elapsed_noop
            turn_rate = (len(turn_times) - before_turns) / elapsed_turns
            result["rounds"].append(
                {
                    "noop_per_second": round(noop_rate, 1),
                    "turns_per_second": round(turn_rate, 1),
                    "ratio": round(turn_rate / noop_rate, 3) if noop_rate else 0.0,
                }
            )
            if opts.http_rounds > 1:
                print(
                    f"  round {number}: no-op {noop_rate:.1f}/s, turns "
                    f"{turn_rate:.1f}/s, ratio {result['rounds'][-1]['ratio']:.2f}"
                )
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))

    result["noop"] = throughput_figures(noop_times, noop_seconds, noop_errors)
    print_throughput(f"no-op GET {API}/auth/me/", "requests", result["noop"])
    noop_errors.print()
    result["turns"] = throughput_figures(turn_times, turn_seconds, turn_errors)
    result["turns"]["games_started_before"] = opts.http_games * opts.http_clients
    result["turns"]["games_started_in_windows"] = late_games["games"]
    print_throughput(
        f"turn POST {API}/sessions/<id>/turns/",
        "turns",
        result["turns"],
        f" ({late_games['games']} games had to be started inside the windows, "
        "not counted as turns)",
    )
    turn_errors.print()
    noop_rps = len(noop_times) / noop_seconds if noop_seconds else 0.0
    turn_rps = len(turn_times) / turn_seconds if turn_seconds else 0.0
    ratio = turn_rps / noop_rps if noop_rps else 0.0
    result["ratio"] = round(ratio, 3)
    result["ratio_pass"] = ratio >= RATIO_BAR
    result["errors"] = noop_errors.total + turn_errors.total
    print(
        f"{'PASS' if result['ratio_pass'] else 'FAIL'} HTTP: turn throughput / "
        f"no-op throughput = {ratio:.2f} (bar >= {RATIO_BAR:.2f})"
        + (" [--short: reported, not judged]" if opts.short else "")
    )
    return result


def throughput_figures(
    timings: list[float], elapsed: float, errors: Errors
) -> dict[str, Any]:
    return {
        "requests": len(timings),
        "seconds": round(elapsed, 2),
        "per_second": round(len(timings) / elapsed, 1) if elapsed else 0.0,
        **latency_summary(timings),
        "errors": errors.as_dict(),
    }


def print_throughput(what: str, unit: str, f: dict[str, Any], tail: str = "") -> None:
    print(
        f"{what}: {f['requests']} {unit} in {f['seconds']:.1f} s = "
        f"{f['per_second']:.1f}/s, p50 {ms(f['p50_ms'])}, p99 {ms(f['p99_ms'])}, "
        f"errors {f['errors']['total']}{tail}"
    )


# -- phase 2: WebSocket fan-out -----------------------------------------------


async def phase_fanout(
    server: Server, accounts: list[Account], themes: list[str], opts: Any
) -> dict[str, Any]:
    spectators = opts.spectators
    print(
        f"== phase 2: WebSocket fan-out, {spectators} spectators, "
        f"up to {opts.fanout_turns} turns of one public game"
    )
    errors = Errors()
    owner = accounts[0]
    watching = accounts[1:] or accounts
    owner_client = client_for(server.base, owner.token)
    ticket_clients = [client_for(server.base, a.token, conns=4) for a in watching]
    watchers = [Watcher() for _ in range(spectators)]
    connected: list[Watcher] = []
    result: dict[str, Any] = {"spectators": spectators}
    try:
        game = await new_game(owner_client, themes[0], opts.seed, errors)
        if game is None:
            result["errors"] = errors.total
            errors.print()
            return result
        await call(
            owner_client,
            "PATCH",
            f"{API}/sessions/{game.id}/",
            errors,
            "make public",
            body={"visibility": "public"},
        )

        limit = asyncio.Semaphore(opts.connect_concurrency)

        async def join(index: int) -> None:
            async with limit:
                client = ticket_clients[index % len(ticket_clients)]
                if await watchers[index].open(server.ws_base, game.id, client, errors):
                    connected.append(watchers[index])

        start = now()
        await asyncio.gather(*(join(i) for i in range(spectators)))
        joined = now() - start
        # Every join tells the others the new count: wait for that to settle.
        settle_start = now()
        while now() - settle_start < 60:
            latest = max((w.last_message for w in connected), default=0.0)
            if now() - latest >= 1.0:
                break
            await asyncio.sleep(0.25)
        settled = now() - settle_start
        print(
            f"connected {len(connected)} of {spectators} spectators in {joined:.1f} s "
            f"(watcher counts settled {settled:.1f} s later)"
        )
        result.update(
            connected=len(connected),
            connect_seconds=round(joined, 2),
            settle_seconds=round(settled, 2),
        )

        received: Counter[int] = Counter()
        everyone = asyncio.Event()

        def on_turn(number: int, _seen: float) -> None:
            received[number] += 1
            if received[number] >= len(connected):
                everyone.set()

        for watcher in connected:
            watcher.on_turn = on_turn

        rng = random.Random(opts.seed)
        from_sent: list[float] = []
        from_answer: list[float] = []
        slowest: list[float] = []
        played: list[int] = []
        post_times: list[float] = []
        incomplete = 0
        while len(played) < opts.fanout_turns and not game.ended:
            everyone.clear()
            sent = now()
            ok = await play_turn(owner_client, game, rng, errors, post_times)
            answered = now()
            if not ok:
                break
            number = game.turn
            played.append(number)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone.wait(), opts.fanout_timeout)
            if received[number] < len(connected):
                incomplete += 1
            arrivals = [
                w.first_seen[number] for w in connected if number in w.first_seen
            ]
            from_sent.extend(t - sent for t in arrivals)
            from_answer.extend(t - answered for t in arrivals)
            if arrivals:
                slowest.append(max(arrivals) - sent)
        # Let any late duplicate arrive before counting.
        await asyncio.sleep(1.0)

        expected = played
        missing = duplicated = unexpected = bad_hello = closed = 0
        for watcher in connected:
            counts = Counter(watcher.turns)
            missing += sum(1 for n in expected if counts[n] == 0)
            duplicated += sum(c - 1 for c in counts.values() if c > 1)
            unexpected += sum(c for n, c in counts.items() if n not in expected)
            if watcher.hello_turn != 0:
                bad_hello += 1
            if watcher.closed_by_server is not None:
                closed += 1
        deliveries = len(from_sent)
        sent_summary = latency_summary(from_sent)
        answer_summary = latency_summary(from_answer)
        slow_summary = latency_summary(slowest)
        result.update(
            turns=len(played),
            deliveries=deliveries,
            expected_deliveries=len(played) * len(connected),
            from_post_sent=sent_summary,
            from_post_answered=answer_summary,
            last_spectator=slow_summary,
            post=latency_summary(post_times),
            missing=missing,
            duplicated=duplicated,
            unexpected=unexpected,
            bad_hello=bad_hello,
            closed_by_server=closed,
            turns_not_reaching_everyone=incomplete,
        )
        print(
            f"turns played: {len(played)}; deliveries {deliveries} of "
            f"{len(played) * len(connected)} expected"
        )
        print(
            f"delivery latency from the POST being sent: p50 "
            f"{ms(sent_summary['p50_ms'])}, p99 {ms(sent_summary['p99_ms'])}, "
            f"max {ms(sent_summary['max_ms'])}"
        )
        print(
            f"delivery latency after the POST was answered: p50 "
            f"{ms(answer_summary['p50_ms'])}, p99 {ms(answer_summary['p99_ms'])} "
            "(negative: the socket was faster than the answer)"
        )
        print(
            f"time for a turn to reach the last spectator: p50 "
            f"{ms(slow_summary['p50_ms'])}, p99 {ms(slow_summary['p99_ms'])}; "
            f"turn POST p50 {ms(result['post']['p50_ms'])}"
        )
        print(
            f"missing {missing}, duplicated {duplicated}, unexpected {unexpected}, "
            f"hello not at turn 0: {bad_hello}, closed by the server: {closed}"
        )
        complete = (
            len(connected) == spectators
            and missing == duplicated == unexpected == 0
            and closed == 0
            and played
        )
        result["complete"] = bool(complete)
        verdict = "PASS" if complete else "FAIL"
        note = (
            ""
            if spectators >= FANOUT_BAR_SPECTATORS
            else f" (the bar names {FANOUT_BAR_SPECTATORS} spectators; this run had "
            f"{spectators})"
        )
        print(
            f"{verdict} fan-out: every one of {spectators} spectators got every one "
            f"of {len(played)} turns exactly once{note}"
        )
        errors.print()
        result["errors"] = errors.total
        result["error_detail"] = errors.as_dict()
    finally:
        await close_all(connected)
        await owner_client.aclose()
        await asyncio.gather(*(client.aclose() for client in ticket_clients))
    return result


async def close_all(watchers: list[Watcher], batch: int = 100) -> None:
    for first in range(0, len(watchers), batch):
        await asyncio.gather(*(w.close() for w in watchers[first : first + batch]))


# -- phase 3: soak ------------------------------------------------------------


class SoakTally:
    """What the soak's games added up to, compared per game."""

    def __init__(self) -> None:
        self.games = 0
        self.turns = 0
        self.reserved = 0
        self.lost_in_list = 0
        self.lost_on_socket = 0
        self.dup_answers = 0
        self.dup_in_list = 0
        self.dup_on_socket = 0
        self.extra_in_list = 0
        self.extra_on_socket = 0
        self.verify_failed = 0
        self.verify_count_wrong = 0
        self.bad_hello = 0
        self.closed_by_server: Counter[str] = Counter()
        self.problems: list[str] = []

    @property
    def lost(self) -> int:
        return self.lost_in_list + self.lost_on_socket

    @property
    def duplicated(self) -> int:
        return self.dup_answers + self.dup_in_list + self.dup_on_socket

    @property
    def unexpected(self) -> int:
        return self.extra_in_list + self.extra_on_socket

    def note(self, text: str) -> None:
        if len(self.problems) < 10:
            self.problems.append(text)

    def compare(
        self,
        game: Game,
        listed: list[int],
        socket_turns: list[int],
        verify: dict[str, Any] | None,
        hello_turn: int | None,
    ) -> None:
        self.games += 1
        answered = Counter(game.answered)
        in_list = Counter(listed)
        on_socket = Counter(socket_turns)
        for name, counts in (("list", in_list), ("socket", on_socket)):
            lost = sum(1 for n in answered if counts[n] == 0)
            dup = sum(c - 1 for c in counts.values() if c > 1)
            extra = sum(c for n, c in counts.items() if n not in answered)
            if name == "list":
                self.lost_in_list += lost
                self.dup_in_list += dup
                self.extra_in_list += extra
            else:
                self.lost_on_socket += lost
                self.dup_on_socket += dup
                self.extra_on_socket += extra
            if lost or dup or extra:
                self.note(
                    f"game {game.id}: {name} has lost {lost}, duplicated {dup}, "
                    f"unexpected {extra} (201 for {sorted(answered)}, "
                    f"{name} {sorted(counts.elements())})"
                )
        self.dup_answers += sum(c - 1 for c in answered.values() if c > 1)
        if hello_turn != 0:
            self.bad_hello += 1
            self.note(f"game {game.id}: hello said turn {hello_turn}, not 0")
        if verify is None or not verify.get("ok"):
            self.verify_failed += 1
            self.note(f"game {game.id}: verify/ not ok: {json.dumps(verify)[:300]}")
        elif verify.get("turns") != len(game.answered):
            self.verify_count_wrong += 1
            self.note(
                f"game {game.id}: verify/ checked {verify.get('turns')} turns, "
                f"{len(game.answered)} were answered 201"
            )


async def phase_soak(
    server: Server,
    accounts: list[Account],
    themes: list[str],
    opts: Any,
    sampler: RssSampler,
) -> dict[str, Any]:
    budget = opts.soak_turns or None
    limit_text = f" or {budget} turns" if budget else ""
    print(
        f"== phase 3: soak, {opts.players} players for {opts.soak_minutes:g} "
        f"min{limit_text}, each watching its own game over WebSocket"
    )
    errors = Errors()
    tally = SoakTally()
    turn_times: list[float] = []
    create_times: list[float] = []
    check_times: list[float] = []
    socket_lag: list[float] = []  # a turn's 201 to its message on the socket
    clients = [
        client_for(server.base, accounts[i % len(accounts)].token)
        for i in range(opts.players)
    ]
    sampler.phase = "soak"
    sampler.turns = 0
    first = sampler.take()
    start = now()
    deadline = start + opts.soak_minutes * 60
    warm: dict[str, Any] | None = None
    last_turn_at = [start]

    def may_play() -> bool:
        if now() >= deadline:
            return False
        if budget is not None and tally.reserved >= budget:
            return False
        tally.reserved += 1
        return True

    async def player(index: int) -> None:
        nonlocal warm
        client = clients[index]
        rng = random.Random(opts.seed * 7919 + index)
        while (
            now() < deadline
            and (budget is None or tally.reserved < budget)
            and errors.total < MAX_ERRORS
        ):
            theme = themes[(index + tally.games) % len(themes)]
            game = await new_game(
                client, theme, rng.randrange(2**31), errors, create_times
            )
            if game is None:
                await asyncio.sleep(0.5)
                continue
            watcher = Watcher()
            if not await watcher.open(server.ws_base, game.id, client, errors):
                await asyncio.sleep(0.5)
                continue
            answered_at: dict[int, float] = {}
            try:
                while not game.ended and may_play():
                    if await play_turn(client, game, rng, errors, turn_times):
                        answered_at[game.turn] = now()
                        tally.turns += 1
                        sampler.turns = tally.turns
                        last_turn_at[0] = now()
                        if warm is None and tally.turns >= opts.warmup_turns:
                            warm = sampler.take()
                    elif not game.ended:
                        await asyncio.sleep(0.05)
                    if errors.total >= MAX_ERRORS:
                        break
                if game.answered and not await watcher.wait_turn(
                    game.answered[-1], opts.socket_timeout
                ):
                    tally.note(
                        f"game {game.id}: socket had turn {watcher.max_turn} "
                        f"{opts.socket_timeout:g} s after turn {game.answered[-1]} "
                        "was answered"
                    )
            finally:
                await watcher.close()
            if watcher.closed_by_server is not None:
                tally.closed_by_server[watcher.closed_by_server] += 1
                tally.note(
                    f"game {game.id}: the server closed its socket "
                    f"({watcher.closed_by_server}) after turn {watcher.max_turn}"
                )
            check_start = now()
            status, listed = await call(
                client,
                "GET",
                f"{API}/sessions/{game.id}/turns/?limit=1000",
                errors,
                "list turns",
            )
            numbers = (
                [t.get("number") for t in listed.get("results", [])]
                if status == 200 and isinstance(listed, dict)
                else []
            )
            status, verify = await call(
                client, "GET", f"{API}/sessions/{game.id}/verify/", errors, "verify"
            )
            check_times.append(now() - check_start)
            socket_lag.extend(
                watcher.first_seen[n] - at
                for n, at in answered_at.items()
                if n in watcher.first_seen
            )
            tally.compare(
                game,
                numbers,
                watcher.turns,
                verify if status == 200 else None,
                watcher.hello_turn,
            )

    try:
        await asyncio.gather(*(player(i) for i in range(opts.players)))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    elapsed = last_turn_at[0] - start
    total = now() - start
    last = sampler.take()
    sampler.phase = "after"
    rate = tally.turns / elapsed if elapsed > 0 else 0.0
    summary = latency_summary(turn_times)
    print(
        f"turns: {tally.turns} in {elapsed:.1f} s = {rate:.1f} turns/s over "
        f"{tally.games} games (phase took {total:.1f} s with the final checks)"
    )
    print(
        f"turn latency: p50 {ms(summary['p50_ms'])}, p99 {ms(summary['p99_ms'])}, "
        f"max {ms(summary['max_ms'])}; game creation p50 "
        f"{ms(latency_summary(create_times)['p50_ms'])}; list+verify p50 "
        f"{ms(latency_summary(check_times)['p50_ms'])}"
    )
    lag = latency_summary(socket_lag)
    print(
        f"socket delivery after the 201 (turns that arrived): p50 {ms(lag['p50_ms'])}, "
        f"p99 {ms(lag['p99_ms'])}, max {ms(lag['max_ms'])}"
    )
    print(
        f"errors {errors.total}; lost turns {tally.lost} (list {tally.lost_in_list}, "
        f"socket {tally.lost_on_socket}); duplicated {tally.duplicated} (201 "
        f"{tally.dup_answers}, list {tally.dup_in_list}, socket "
        f"{tally.dup_on_socket}); unexpected {tally.unexpected}; verify not ok "
        f"{tally.verify_failed}, verify count wrong {tally.verify_count_wrong}; "
        f"hello not at turn 0: {tally.bad_hello}; sockets closed by the server: "
        f"{sum(tally.closed_by_server.values())} {dict(tally.closed_by_server)}"
    )
    errors.print()
    for problem in tally.problems:
        print(f"  problem: {problem}")

    memory = memory_report(sampler, first, warm, last, tally.turns, opts)
    return {
        "players": opts.players,
        "turns": tally.turns,
        "games": tally.games,
        "seconds": round(elapsed, 2),
        "per_second": round(rate, 1),
        "turn_latency": summary,
        "create_latency": latency_summary(create_times),
        "check_latency": latency_summary(check_times),
        "socket_lag": lag,
        "errors": errors.total,
        "error_detail": errors.as_dict(),
        "lost": tally.lost,
        "lost_in_list": tally.lost_in_list,
        "lost_on_socket": tally.lost_on_socket,
        "duplicated": tally.duplicated,
        "unexpected": tally.unexpected,
        "verify_failed": tally.verify_failed,
        "verify_count_wrong": tally.verify_count_wrong,
        "bad_hello": tally.bad_hello,
        "closed_by_server": dict(tally.closed_by_server),
        "problems": tally.problems,
        "memory": memory,
    }


def memory_report(
    sampler: RssSampler,
    first: dict[str, Any] | None,
    warm: dict[str, Any] | None,
    last: dict[str, Any] | None,
    turns: int,
    opts: Any,
) -> dict[str, Any]:
    def mb(sample: dict[str, Any] | None) -> str:
        if sample is None:
            return "n/a"
        return (
            f"{sample['rss_kb'] / 1024:.1f} MB (t={sample['t']:.0f} s, "
            f"{sample['soak_turns']} turns)"
        )

    soak = [s for s in sampler.samples if s["phase"] == "soak"]
    peak = max(soak, key=lambda s: s["rss_kb"]) if soak else None
    print(
        f"server RSS: soak start {mb(first)}; after warm-up ({opts.warmup_turns} "
        f"turns) {mb(warm)}; last {mb(last)}; peak {mb(peak)}"
    )
    if soak:
        step = max(1, len(soak) // 10)
        points = soak[::step]
        if points[-1] is not soak[-1]:
            points.append(soak[-1])
        print(
            "server RSS over the soak: "
            + ", ".join(
                f"{s['soak_turns']}t {s['rss_kb'] / 1024:.1f} MB" for s in points
            )
        )
    report: dict[str, Any] = {
        "first": first,
        "after_warmup": warm,
        "last": last,
        "peak": peak,
        "samples": sampler.samples,
        "growth_pct": None,
        "judged": False,
        "pass": None,
    }
    if warm is None or last is None:
        print(
            f"memory bar: not judged, the soak played {turns} turns, fewer than its "
            f"warm-up of {opts.warmup_turns}"
        )
        return report
    growth = (last["rss_kb"] - warm["rss_kb"]) / warm["rss_kb"] * 100
    after = last["soak_turns"] - warm["soak_turns"]
    report["growth_pct"] = round(growth, 2)
    report["turns_after_warmup"] = after
    text = (
        f"server memory growth {growth:+.1f}% over {after} turns after warm-up "
        f"(bar <= {MEMORY_BAR_PCT:g}% across {MEMORY_BAR_TURNS} turns)"
    )
    if after >= MEMORY_BAR_TURNS:
        report["judged"] = True
        report["pass"] = growth <= MEMORY_BAR_PCT
        print(f"{'PASS' if report['pass'] else 'FAIL'} {text}")
    else:
        print(f"NOT JUDGED {text}: too short a run to judge")
    return report


# -- the run ------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load and soak the server stack on loopback (see bench/README.md)."
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="the CI form: every phase, smaller and shorter (well under 2 minutes); "
        "timing and memory bars are reported but do not set the exit status",
    )
    parser.add_argument(
        "--phases",
        default="http,fanout,soak",
        help="comma-separated subset of http,fanout,soak (default: all)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--seed", type=int, default=1, help="seeds games and choices")

    def option(name: str, kind: type, text: str) -> None:
        key = name.replace("-", "_")
        parser.add_argument(
            f"--{name}",
            type=kind,
            default=None,
            help=f"{text} (default {FULL[key]:g}; --short {SHORT[key]:g})",
        )

    option("accounts", int, "player accounts registered at the start")
    option("http-clients", int, "concurrent clients in phase 1")
    option("http-seconds", float, "measured seconds of each side of phase 1")
    option("http-rounds", int, "phase-1 rounds, each a no-op and a turn window")
    option("http-games", int, "games each phase-1 client starts before timing")
    option("http-warmup", float, "unmeasured seconds before each phase-1 run")
    option("spectators", int, "WebSocket spectators in phase 2")
    option("fanout-turns", int, "turns played in phase 2 (a game ends by turn 16)")
    option("players", int, "concurrent players in phase 3")
    option("soak-minutes", float, "phase-3 duration")
    option("soak-turns", int, "phase-3 stops after this many turns (0: no limit)")
    option("warmup-turns", int, "soak turns before the memory baseline is taken")
    option("rss-every", float, "seconds between server memory samples")
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=50,
        help="spectators connecting at once in phase 2 (default 50)",
    )
    parser.add_argument(
        "--fanout-timeout",
        type=float,
        default=20.0,
        help="seconds to wait for a turn to reach every spectator (default 20)",
    )
    parser.add_argument(
        "--socket-timeout",
        type=float,
        default=10.0,
        help="seconds a soak player waits for its last turn on the socket (default 10)",
    )
    parser.add_argument(
        "--server-log",
        type=Path,
        default=ROOT / "var" / "load" / "daphne.log",
        help="where daphne's output goes (default var/load/daphne.log)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra environment variable for the server (repeatable)",
    )
    opts = parser.parse_args(argv)
    defaults = SHORT if opts.short else FULL
    for key, value in defaults.items():
        if getattr(opts, key) is None:
            setattr(opts, key, value)
    opts.phases = {p.strip() for p in opts.phases.split(",") if p.strip()}
    unknown = opts.phases - {"http", "fanout", "soak"}
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return opts


async def run(server: Server, opts: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    sampler = RssSampler(server, opts.rss_every)
    sampling = asyncio.create_task(sampler.run())
    try:
        errors = Errors()
        start = now()
        accounts = await make_accounts(server.base, opts.accounts, errors)
        async with client_for(server.base, accounts[0].token) as client:
            status, data = await call(client, "GET", f"{API}/themes/", errors, "themes")
        themes = [t["slug"] for t in data] if status == 200 and data else []
        if not themes:
            raise SetupError("GET /api/v1/themes/ listed no theme")
        print(
            f"accounts: {len(accounts)} of {opts.accounts} signed in "
            f"({now() - start:.1f} s); themes: {', '.join(themes)}; errors "
            f"{errors.total}"
        )
        errors.print()
        figures["setup"] = {"accounts": len(accounts), "errors": errors.as_dict()}
        if "http" in opts.phases:
            sampler.phase = "http"
            figures["http"] = await phase_http(server, accounts, themes, opts)
        if "fanout" in opts.phases:
            sampler.phase = "fanout"
            figures["fanout"] = await phase_fanout(server, accounts, themes, opts)
        if "soak" in opts.phases:
            figures["soak"] = await phase_soak(server, accounts, themes, opts, sampler)
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
    figures["rss_samples"] = sampler.samples
    return figures


def verdict(figures: dict[str, Any], opts: argparse.Namespace) -> list[str]:
    """Why the run failed; empty if it did not."""
    reasons: list[str] = []
    if figures.get("setup", {}).get("errors", {}).get("total"):
        reasons.append("errors while creating accounts")
    http = figures.get("http")
    if http:
        if http.get("errors"):
            reasons.append(f"{http['errors']} error(s) in phase 1")
        if not opts.short and not http.get("ratio_pass"):
            reasons.append("the HTTP ratio bar failed")
    fanout = figures.get("fanout")
    if fanout:
        if fanout.get("errors"):
            reasons.append(f"{fanout['errors']} error(s) in phase 2")
        if not fanout.get("complete"):
            reasons.append("a spectator missed or repeated a turn")
    soak = figures.get("soak")
    if soak:
        if soak["errors"]:
            reasons.append(f"{soak['errors']} error(s) in the soak")
        bad = soak["lost"] + soak["duplicated"] + soak["unexpected"]
        bad += soak["verify_failed"] + soak["verify_count_wrong"] + soak["bad_hello"]
        if bad:
            reasons.append("lost, duplicated or unverified turns in the soak")
        memory = soak["memory"]
        if not opts.short and memory["judged"] and not memory["pass"]:
            reasons.append("the memory bar failed")
    server = figures.get("server", {})
    if server.get("log_errors"):
        reasons.append(f"{server['log_errors']} error(s) in the server log")
    if server.get("log_dropped"):
        reasons.append(f"{server['log_dropped']} live message(s) dropped by the server")
    return reasons


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    # Each line as it comes, also into a CI log or a pipe.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    os.chdir(ROOT)

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    server = Server(opts.server_log, server_env(opts.server_env))
    figures: dict[str, Any] = {"short": opts.short}
    load = os.getloadavg()
    print(
        f"load harness ({'short' if opts.short else 'full'} form): "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}"
    )
    code = 0
    began = now()
    lock = open(LOCK_PATH, "a")  # held until the process ends
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another load run holds {LOCK_PATH}; waiting for it to finish")
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        start = now()
        server.prepare()
        server.start()
        print(
            f"server: daphne pid {server.proc.pid if server.proc else '?'} on "
            f"{server.base}, database {DB_NAME}, Redis {REDIS_URL}; ready in "
            f"{now() - start:.1f} s; log {server.log_path}"
        )
        figures.update(asyncio.run(run(server, opts)))
    except SetupError as exc:
        print(f"FAIL set-up: {exc}")
        code = 1
    except KeyboardInterrupt:
        print("interrupted: stopping the server")
        code = 130
    except Exception:
        print("FAIL the harness itself broke:")
        traceback.print_exc(file=sys.stdout)
        code = 1
    finally:
        server.stop()
    logged = server.log_problems()
    figures["server"] = {
        "log_errors": logged["errors"],
        "log_dropped": logged["dropped"],
        "log_error_kinds": logged["kinds"],
        "log_warnings": logged["warnings"],
    }
    print(
        f"server log: {logged['errors']} error(s), {logged['dropped']} live "
        f"message(s) dropped by the channel layer (over capacity), "
        f"{sum(logged['warnings'].values())} warning(s) ({server.log_path})"
    )
    for kind, count in list(logged["kinds"].items())[:10]:
        print(f"  server error x{count}: {kind}")
    for kind, count in list(logged["warnings"].items())[:10]:
        print(f"  server warning x{count}: {kind[:200]}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures["client_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    print(
        f"harness CPU {figures['client_cpu_seconds']:.1f} s (it shares the cores with "
        "the server)"
    )
    if code == 0:
        reasons = verdict(figures, opts)
        if reasons:
            code = 1
            print("FAIL overall: " + "; ".join(reasons))
        else:
            note = (
                " (timing and memory bars not judged in --short)" if opts.short else ""
            )
            print(f"PASS overall: no errors, no lost or duplicated turns{note}")
    figures["exit_status"] = code
    figures["wall_seconds"] = round(now() - began, 1)
    print(f"wall time {figures['wall_seconds']:.0f} s")
    if opts.json:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        opts.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {opts.json}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
