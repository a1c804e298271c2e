"""Prometheus metrics of the game itself, served with django-prometheus's.

Labels are bounded sets (outcomes, ending kinds, agent names); never a user or
session id, which would grow without limit.
"""

from prometheus_client import Counter, Gauge, Histogram

from agents.functions import REGISTRY

TURNS = Counter(
    "fortress_turns_total",
    "Turn submissions by outcome.",
    ["outcome"],
)
TURN_DURATION = Histogram(
    "fortress_turn_duration_seconds",
    "Time the engine took to resolve a committed turn.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
AGENT_DURATION = Histogram(
    "fortress_agent_duration_seconds",
    "Time each engine agent took within a committed turn.",
    ["agent"],
    buckets=(0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.1),
)
ENDINGS = Counter(
    "fortress_endings_total",
    "Games that reached an ending, by kind of ending.",
    ["ending_kind"],
)
SESSIONS_CREATED = Counter(
    "fortress_sessions_created_total",
    "Games started.",
)
WS_CONNECTIONS = Gauge(
    "fortress_websocket_connections",
    "Open WebSocket connections in this process.",
)
WS_MESSAGES = Counter(
    "fortress_websocket_messages_total",
    "WebSocket messages, received from clients (in) and sent to them (out).",
    ["direction"],
)
VERDICTS = Counter(
    "fortress_verdicts_total",
    "The Judge's rulings on proposed safe-function calls in committed turns.",
    ["function", "verdict"],
)
READINESS = Gauge(
    "fortress_readiness_check",
    "1 if the backing service answered the last readiness probe, else 0.",
    ["check"],
)

# Agent names come from the engine; anything else is folded into "other" so
# that a misbehaving record cannot mint new series.
KNOWN_AGENTS = frozenset(
    {
        "planner",
        "characters",
        "world",
        "judge",
        "rules",
        "endings",
        "director",
        "events",
        "narrator",
    }
)


def record_turn_committed(
    *, outcome: str, duration_us: int, timings_us: dict, proposals=()
):
    TURNS.labels(outcome=outcome).inc()
    for proposal in proposals or ():
        if not isinstance(proposal, dict):
            continue
        function = proposal.get("function")
        verdict = proposal.get("verdict")
        VERDICTS.labels(
            function=function if function in REGISTRY else "unknown",
            verdict=verdict if verdict in ("accepted", "rejected") else "other",
        ).inc()
    TURN_DURATION.observe(duration_us / 1_000_000)
    for agent, micros in sorted((timings_us or {}).items()):
        if isinstance(micros, int):
            name = agent if agent in KNOWN_AGENTS else "other"
            AGENT_DURATION.labels(agent=name).observe(micros / 1_000_000)


def record_turn_refused(outcome: str):
    TURNS.labels(outcome=outcome).inc()


def record_ending(kind: str):
    ENDINGS.labels(ending_kind=kind if kind in ("victory", "defeat") else "other").inc()


VOICE_REQUESTS = Counter(
    "fortress_voice_requests_total",
    "Language-model exchanges by backend, agent and outcome (ok or fallback).",
    ["backend", "agent", "outcome"],
)
VOICE_FAILURES = Counter(
    "fortress_voice_failures_total",
    "Exchanges that fell back to the rule-based agent, by reason.",
    ["backend", "agent", "reason"],
)
VOICE_LATENCY = Histogram(
    "fortress_voice_latency_seconds",
    "Time a language-model exchange took, retries included.",
    ["backend", "agent"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
PENDING_TURNS = Counter(
    "fortress_pending_turns_total",
    "Turns resolved on a worker because models word them, by how they ended.",
    ["outcome"],
)


def record_exchange(exchange: dict) -> None:
    """Count one exchange a voice made; labels are checked against fixed sets."""
    from agents.llm import AGENTS, REASONS
    from agents.llm.config import BACKENDS

    if exchange.get("reason") == "disabled":
        # An agent the voice does not give a model to: no request, no failure.
        return
    backend = exchange.get("backend")
    backend = backend if backend in BACKENDS else "none"
    agent = exchange.get("agent")
    agent = agent if agent in AGENTS else "other"
    outcome = "ok" if exchange.get("outcome") == "ok" else "fallback"
    VOICE_REQUESTS.labels(backend=backend, agent=agent, outcome=outcome).inc()
    if outcome == "fallback":
        reason = exchange.get("reason")
        VOICE_FAILURES.labels(
            backend=backend,
            agent=agent,
            reason=reason if reason in REASONS else "other",
        ).inc()
    latency = exchange.get("latency_ms")
    if isinstance(latency, int) and latency >= 0 and exchange.get("request"):
        VOICE_LATENCY.labels(backend=backend, agent=agent).observe(latency / 1000)
