"""Monitoring in deploy/: Prometheus accepts the config and rules, the alerts
fire when they should, and every metric the alerts and the Grafana dashboard
ask for is served by a real server that has played games.

promtool comes from Debian's prometheus package. Without it these tests skip
on a developer's machine and fail in CI, which installs it.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from websockets.sync.client import connect as ws_connect

from game.live_site import LiveSite

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "fortress.json"

# Series Prometheus makes itself for every target, not read from /metrics.
PROMETHEUS_OWN = {"up"}
# Filled only when the Celery broker is Redis; elsewhere the family is
# declared with no samples.
REDIS_BROKER_ONLY = {"fortress_task_queue_length"}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs Debian's prometheus")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return path


def run_promtool(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [promtool(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- PromQL ------------------------------------------------------------------

_KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "inf",
    "nan",
}


def promql_metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: what is left once strings,
    label matchers, ranges, grouping lists, numbers, durations, keywords and
    function or aggregation names are taken out."""
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', " ", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )
    text = re.sub(r"\boffset\s+-?\w+", " ", text)
    text = re.sub(r"(?<![\w:])\d[\w.]*", " ", text)

    names = set()
    for match in re.finditer(r"[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() not in _KEYWORDS:
            names.add(match.group())
    return names


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expression) for every query of the dashboard, with
    Grafana's interval variable given the value it has at a 15s scrape."""
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"].replace("$__rate_interval", "1m"))
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def test_promql_names_are_read_from_expressions():
    assert promql_metric_names(
        "histogram_quantile(0.95, sum by (le, agent) "
        '(rate(a_seconds_bucket{x="y(z)"}[5m])))'
    ) == {"a_seconds_bucket"}
    assert promql_metric_names(
        'sum(rate(b_total{status=~"5.."}[1m])) / sum(rate(b_total[1m])) > 0.05 '
        "and on (job) c offset 1h unless d"
    ) == {"b_total", "c", "d"}
    assert promql_metric_names(
        "topk(5, max by (q) (e:rate1m)) * 1e3 + sum(f) without (g)"
    ) == {"e:rate1m", "f"}


# --- Prometheus configuration and rules --------------------------------------


def test_prometheus_accepts_the_scrape_config_and_rules(tmp_path):
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    # promtool insists that the token file exists; in compose it is the
    # secret mounted at /run/secrets, here a stand-in.
    token = tmp_path / "metrics_token"
    token.write_text(secrets.token_hex(16))
    for job in config["scrape_configs"]:
        if "authorization" in job:
            assert job["authorization"]["credentials_file"].startswith("/run/secrets/")
            job["authorization"]["credentials_file"] = str(token)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path / "alerts.yml")

    checked = run_promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    rules = run_promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_each_alert_fires_in_its_unit_tests():
    result = run_promtool("test", "rules", str(PROMETHEUS / "alerts.test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(
        re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts.test.yml").read_text())
    )
    assert tested == {rule["alert"] for rule in alert_rules()}


def test_every_alert_explains_itself():
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]
        assert rule["alert"] in (ROOT / "docs" / "operations.md").read_text()


def test_dashboard_queries_are_valid_promql(tmp_path):
    # promtool parses an expression wherever a rule holds one.
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr}
        for i, (_, expr) in enumerate(dashboard_queries())
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


# --- A live server -----------------------------------------------------------


def _compose_web_environment() -> dict[str, str]:
    """The web service's environment from deploy/docker-compose.yml, filled
    from env.example with real-looking secrets."""
    from game.tests.test_deploy import compose, env_example, interpolate

    variables = env_example()
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "METRICS_TOKEN"):
        variables[name] = secrets.token_hex(32)
    web = compose()["services"]["web"]
    return {
        name: interpolate(value, variables)
        for name, value in web["environment"].items()
    }


def _call(site, method, path, body=None, token=None, headers=None):
    request = urllib.request.Request(
        site.base_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class PlayedSite:
    """A server that has played a game to its end and streamed it to a socket."""

    def __init__(self, site: LiveSite, metrics_token: str, redis_broker: bool):
        self.site = site
        self.metrics_token = metrics_token
        self.redis_broker = redis_broker
        self.metrics = ""

    def play(self):
        site = self.site
        credentials = {"username": "deploy_watcher", "password": "beacon-tower-ledger"}
        assert _call(site, "POST", "/api/v1/auth/register/", credentials)[0] == 201
        status, body = _call(site, "POST", "/api/v1/auth/token/", credentials)
        assert status == 200, body
        token = json.loads(body)["access"]
        status, body = _call(
            site, "POST", "/api/v1/sessions/", {"theme": "lornhaven", "seed": 5}, token
        )
        assert status == 201, body
        game = json.loads(body)

        status, body = _call(site, "POST", "/api/v1/ws-tickets/", None, token)
        assert status == 201, body
        ticket = json.loads(body)["ticket"]
        url = f"ws://127.0.0.1:{site.port}/ws/sessions/{game['id']}/?ticket={ticket}"
        with ws_connect(url, open_timeout=10) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "hello"
            socket.send(json.dumps({"type": "ping"}))
            assert json.loads(socket.recv(timeout=10)) == {"type": "pong"}

            turns_url = f"/api/v1/sessions/{game['id']}/turns/"
            turn = 0
            while True:
                choice = {
                    "expected_turn": turn,
                    "action": {"type": "choose", "option": 0},
                }
                status, body = _call(site, "POST", turns_url, choice, token)
                assert status == 201, body
                turn += 1
                assert json.loads(socket.recv(timeout=10))["turn"] == turn
                if turn == 1:
                    # A stale turn number is refused, and counted as such.
                    assert _call(site, "POST", turns_url, choice, token)[0] == 409
                if json.loads(body)["record"]["ending"] is not None:
                    break
                assert turn < 100, "the game never ended"

        assert _call(site, "GET", "/readyz")[0] == 200

        status, body = _call(
            site,
            "GET",
            "/metrics",
            headers={"Authorization": f"Bearer {self.metrics_token}"},
        )
        assert status == 200, body
        self.metrics = body.decode()

    def sampled_names(self) -> set[str]:
        return {
            re.match(r"[A-Za-z_:][\w:]*", line).group()
            for line in self.metrics.splitlines()
            if line and not line.startswith("#")
        }

    def declared_names(self) -> set[str]:
        return set(re.findall(r"^# TYPE (\S+)", self.metrics, re.MULTILINE))


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """Production settings as compose sets them when Redis is configured (as
    production requires); otherwise the embedded default with a token."""
    site = LiveSite(tmp_path_factory.mktemp("deploy-site"))
    redis_broker = bool(os.environ.get("REDIS_URL"))
    if redis_broker:
        environment = _compose_web_environment()
        # The site runs where the test is: DATABASE_URL and REDIS_URL stay the
        # test's, and 127.0.0.1 stands in for "web", the name Prometheus uses.
        for name in ("DATABASE_URL", "REDIS_URL"):
            environment.pop(name)
        environment["DJANGO_ALLOWED_HOSTS"] += ",127.0.0.1"
        environment["STATIC_ROOT"] = str(site.workdir / "static")
        site.env.update(environment)
        token = environment["METRICS_TOKEN"]
    else:
        token = secrets.token_hex(32)
        site.env["METRICS_TOKEN"] = token
    try:
        site.prepare()
        if redis_broker:
            site.manage("collectstatic", "--noinput")
        site.start()
        played = PlayedSite(site, token, redis_broker)
        played.play()
        yield played
    finally:
        site.cleanup()


def _probe(site: LiveSite, path: str, allowed_hosts: str | None):
    environment = dict(site.env)
    if allowed_hosts is not None:
        environment["DJANGO_ALLOWED_HOSTS"] = allowed_hosts
    return subprocess.run(
        [sys.executable, str(DEPLOY / "probe.py"), path, str(site.port)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_health_probe_script_passes_and_fails_for_the_right_reasons(played):
    site = played.site
    for path in ("/healthz", "/readyz"):
        result = _probe(site, path, None)
        assert result.returncode == 0, result.stderr
    refused = _probe(site, "/healthz", "elsewhere.example")
    assert refused.returncode == 1
    assert "HTTP 400" in refused.stderr


def test_metrics_need_the_bearer_token(played):
    site = played.site
    assert _call(site, "GET", "/metrics")[0] == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert _call(site, "GET", "/metrics", headers=wrong)[0] == 401


def test_scraped_metrics_pass_promtool(played):
    result = run_promtool("check", "metrics", stdin=played.metrics)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_metric_the_alerts_and_dashboard_use_is_served(played):
    used = {}
    for rule in alert_rules():
        for name in promql_metric_names(rule["expr"]):
            used.setdefault(name, f"alert {rule['alert']}")
    for title, expr in dashboard_queries():
        for name in promql_metric_names(expr):
            used.setdefault(name, f"panel {title!r}")
    assert len(used) >= 20

    sampled, declared = played.sampled_names(), played.declared_names()
    missing = []
    for name, where in sorted(used.items()):
        if name in PROMETHEUS_OWN or name in sampled:
            continue
        if name in REDIS_BROKER_ONLY and not played.redis_broker and name in declared:
            continue
        missing.append(f"{name} ({where})")
    assert not missing, "not in the scrape: " + ", ".join(missing)
