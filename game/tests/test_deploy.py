"""The production deployment in deploy/ holds together, without a Docker engine.

Every file there parses; the image, compose file and Kubernetes manifests
agree on ports, probe paths, images, commands and settings; the settings they
pass are ones fortress_site/settings.py reads, and production starts with
them; the manifests match the Kubernetes schemas. Prometheus and the live
metrics are in test_deploy_monitoring.py.
"""

import ast
import importlib.util
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from django.core.management import get_commands
from django.urls import resolve
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SETTINGS = ROOT / "fortress_site" / "settings.py"

IMAGE = "fortress-director"
APP_PORT = 8000
# Kinds kustomize reads itself; they are not objects of the Kubernetes API.
KUSTOMIZE_KINDS = {"Kustomization", "Component"}
# The oldest Kubernetes release the manifests are meant for, and the newest
# whose schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())


# --- Reading the files -------------------------------------------------------


def yaml_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s_objects() -> list[tuple[Path, dict]]:
    return [
        (path, doc)
        for path in sorted(K8S.rglob("*.yaml"))
        for doc in yaml_documents(path)
        if doc.get("kind") not in KUSTOMIZE_KINDS
    ]


def k8s_object(kind: str, name: str) -> dict:
    found = [
        doc
        for _, doc in k8s_objects()
        if doc["kind"] == kind and doc["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def workloads() -> list[dict]:
    return [doc for _, doc in k8s_objects() if doc["kind"] in ("Deployment", "Job")]


def pod_containers(workload: dict) -> list[dict]:
    return workload["spec"]["template"]["spec"]["containers"]


def web_container() -> dict:
    (container,) = pod_containers(k8s_object("Deployment", "fortress-web"))
    return container


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def compose_app_services() -> dict[str, dict]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image", "").split(":")[0] == IMAGE
    }


def env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    instructions, pending = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def dockerfile_args(keyword: str) -> list[str]:
    return [rest for kw, rest in dockerfile() if kw == keyword]


def exec_form(arguments: str) -> list[str]:
    """The argument list of a JSON-form CMD or HEALTHCHECK ... CMD."""
    return json.loads(arguments[arguments.index("[") :])


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([?-])([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} substitution."""

    def substitute(match):
        name, kind, extra = match.groups()
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise AssertionError(f"compose needs {name}: {extra}")
        return extra if kind == "-" else ""

    return _INTERPOLATION.sub(substitute, str(value))


def compose_variables() -> set[str]:
    text = (DEPLOY / "docker-compose.yml").read_text()
    return {match.group(1) for match in _INTERPOLATION.finditer(text)}


def settings_env_reads() -> dict[str, bool]:
    """Every NAME read by an env.<type>("NAME", ...) or _secret("NAME") call:
    True if it has a default."""
    reads: dict[str, bool] = {}
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        # _secret("NAME") is the settings' own required read of a secret.
        on_env = (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        ) or (isinstance(func, ast.Name) and func.id in ("env", "_secret"))
        if not on_env or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            has_default = len(node.args) > 1 or any(
                keyword.arg == "default" for keyword in node.keywords
            )
            reads[first.value] = reads.get(first.value, True) and has_default
    return reads


def production_requires() -> set[str]:
    """Names production cannot start without, plus the switches that make it
    production on shared services rather than the embedded defaults."""
    required = {
        name for name, has_default in settings_env_reads().items() if not has_default
    }
    return required | {"FORTRESS_PRODUCTION", "DATABASE_URL", "REDIS_URL"}


_K8S_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def kubelet_environment(container: dict, pod_ip: str = "10.0.0.7") -> dict[str, str]:
    """The environment the kubelet would give the container: envFrom first,
    then env in order, with $(NAME) expanded from what is defined so far."""
    configmaps = {
        doc["metadata"]["name"]: doc.get("data", {})
        for _, doc in k8s_objects()
        if doc["kind"] == "ConfigMap"
    }
    secrets_ = {
        doc["metadata"]["name"]: doc.get("stringData", {})
        for _, doc in k8s_objects()
        if doc["kind"] == "Secret"
    }
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            environment.update(configmaps[source["configMapRef"]["name"]])
        else:
            environment.update(secrets_[source["secretRef"]["name"]])
    for variable in container.get("env", []):
        if "value" in variable:
            value = _K8S_REFERENCE.sub(
                lambda m: environment.get(m.group(1), m.group(0)), variable["value"]
            )
        else:
            assert variable["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
            value = pod_ip
        environment[variable["name"]] = value
    return environment


def daphne_port(command: list[str]) -> int:
    assert command[0] == "daphne", command
    return int(command[command.index("-p") + 1])


def celery_app_path(command: list[str]) -> str:
    assert command[0] == "celery", command
    return command[command.index("-A") + 1]


# --- Every file parses -------------------------------------------------------


def test_every_yaml_and_json_file_in_deploy_parses():
    files = sorted(
        path
        for pattern in ("*.yml", "*.yaml", "*.json")
        for path in DEPLOY.rglob(pattern)
    )
    assert len(files) >= 15
    for path in files:
        if path.suffix == ".json":
            assert json.loads(path.read_text()), path
        else:
            assert yaml_documents(path), path


def test_dockerfile_builds_a_venv_then_a_slim_non_root_runtime():
    froms = dockerfile_args("FROM")
    assert len(froms) == 2
    assert froms[0].endswith("AS build")
    assert any("--from=build" in rest for rest in dockerfile_args("COPY"))
    assert all("slim" in rest or "PYTHON_IMAGE" in rest for rest in froms)

    (user,) = dockerfile_args("USER")
    assert user.split(":")[0] not in ("0", "root")
    (healthcheck,) = dockerfile_args("HEALTHCHECK")
    assert exec_form(healthcheck)[-1] == "/healthz"
    (cmd,) = dockerfile_args("CMD")
    command = exec_form(cmd)
    assert command[command.index("-b") + 1] == "0.0.0.0"


def _collectstatic_assignments() -> dict[str, str]:
    (run,) = [rest for rest in dockerfile_args("RUN") if "collectstatic" in rest]
    assignments = {}
    for word in shlex.split(run):
        if "=" not in word or not re.match(r"^[A-Z_]+=", word):
            break
        name, _, value = word.partition("=")
        assignments[name] = value
    return assignments


def test_build_time_secrets_exist_only_in_the_collectstatic_step():
    assignments = _collectstatic_assignments()
    assert assignments["FORTRESS_PRODUCTION"] == "true"
    assert production_requires() - {"DATABASE_URL", "REDIS_URL"} <= set(assignments)
    persistent = " ".join(dockerfile_args("ENV") + dockerfile_args("ARG"))
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "METRICS_TOKEN"):
        assert name not in persistent


def test_the_build_collectstatic_step_runs_with_its_throwaway_values(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL")
    }
    environment.update(_collectstatic_assignments())
    environment["STATIC_ROOT"] = str(tmp_path / "static")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # The manifest is what production's storage needs to serve the files.
    assert (tmp_path / "static" / "staticfiles.json").exists()


def _dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a match on a parent
    directory counts for everything inside it."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        if any(fnmatch(c, pattern) or fnmatch(c, "*/" + pattern) for c in candidates):
            ignored = not negated
    return ignored


def test_the_image_gets_the_code_and_the_probe_but_no_secrets_or_local_state():
    for shipped in (
        "requirements.txt",
        "manage.py",
        "deploy/probe.py",
        "fortress_site/settings.py",
        "game/services.py",
        "agents/engine.py" if (ROOT / "agents/engine.py").exists() else "agents",
        "static",
        "templates",
    ):
        assert not _dockerignored(shipped), shipped
    for kept_out in (".env", "deploy/.env", ".git/config", ".venv/bin/python", "var"):
        assert _dockerignored(kept_out), kept_out


# --- The pieces agree --------------------------------------------------------


def test_every_place_agrees_on_the_web_port():
    (cmd,) = dockerfile_args("CMD")
    assert daphne_port(exec_form(cmd)) == APP_PORT
    assert dockerfile_args("EXPOSE") == [str(APP_PORT)]

    web = compose()["services"]["web"]
    assert daphne_port(web["command"]) == APP_PORT
    assert [int(p.split(":")[-1]) for p in web["ports"]] == [APP_PORT]
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = [
        target
        for job in prometheus["scrape_configs"]
        if job["job_name"] == "fortress-web"
        for group in job["static_configs"]
        for target in group["targets"]
    ]
    assert targets == [f"web:{APP_PORT}"]

    container = web_container()
    assert daphne_port(container["command"]) == APP_PORT
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": APP_PORT}

    service = k8s_object("Service", "fortress-web")
    (service_port,) = service["spec"]["ports"]
    assert ports[service_port["targetPort"]] == APP_PORT
    for _, doc in k8s_objects():
        if doc["kind"] == "Ingress":
            for rule in doc["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    backend = path["backend"]["service"]
                    assert backend["name"] == "fortress-web"
                    assert backend["port"]["name"] == service_port["name"]
        if doc["kind"] == "NetworkPolicy" and _selects(
            doc["spec"]["podSelector"], web_pod_labels()
        ):
            for rule in doc["spec"].get("ingress", []):
                assert [p["port"] for p in rule["ports"]] == [APP_PORT]

    probe = _probe_module()
    assert probe.DEFAULT_PORT == APP_PORT


def web_pod_labels() -> dict:
    return k8s_object("Deployment", "fortress-web")["spec"]["template"]["metadata"][
        "labels"
    ]


def _probe_module():
    spec = importlib.util.spec_from_file_location("deploy_probe", DEPLOY / "probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_probe_paths_are_the_sites_health_and_readiness_views():
    container = web_container()
    for probe_name, view in (
        ("startupProbe", "healthz"),
        ("livenessProbe", "healthz"),
        ("readinessProbe", "readyz"),
    ):
        http_get = container[probe_name]["httpGet"]
        assert http_get["port"] == "http"
        assert resolve(http_get["path"]).url_name == view

    (healthcheck,) = dockerfile_args("HEALTHCHECK")
    image_check = exec_form(healthcheck)
    assert image_check[1] == "deploy/probe.py"
    assert resolve(image_check[2]).url_name == "healthz"
    compose_check = compose()["services"]["web"]["healthcheck"]["test"]
    assert compose_check[2] == "deploy/probe.py"
    assert resolve(compose_check[3]).url_name == "readyz"


def test_probe_picks_a_host_the_site_accepts():
    probe = _probe_module()
    assert probe.probe_host("fortress.example.com,web") == "fortress.example.com"
    assert probe.probe_host(" ,*, .example.org") == "example.org"
    assert probe.probe_host("") == "localhost"


def test_environment_names_are_ones_the_settings_read():
    read = set(settings_env_reads())
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read

    for name, service in compose_app_services().items():
        unknown = set(service["environment"]) - read
        assert not unknown, f"compose service {name} sets {unknown}"

    config = k8s_object("ConfigMap", "fortress-config")["data"]
    assert not set(config) - read, set(config) - read
    example = k8s_object("Secret", "fortress-secrets")["stringData"]
    assert not set(example) - read, set(example) - read
    for workload in workloads():
        for container in pod_containers(workload):
            env = container.get("env", [])
            referenced = {
                name
                for variable in env
                for name in _K8S_REFERENCE.findall(variable.get("value", ""))
            }
            for variable in env:
                # A helper like POD_IP is fine when it only feeds another one.
                assert variable["name"] in read | referenced, variable["name"]

    # env.example holds the application's settings and the few values that
    # compose itself interpolates (the database and Grafana passwords).
    variables = compose_variables()
    for name in env_example():
        assert name in read or name in variables, name
    assert variables <= set(env_example()), variables - set(env_example())


def test_production_gets_every_setting_it_requires():
    required = production_requires()
    assert {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"} <= required

    for name, service in compose_app_services().items():
        missing = required - set(service["environment"])
        assert not missing, f"compose service {name} lacks {missing}"
        assert service["environment"]["FORTRESS_PRODUCTION"] == "true"
    in_example = set(env_example()) | {
        "FORTRESS_PRODUCTION",
        "DATABASE_URL",
        "REDIS_URL",
    }
    assert required <= in_example, required - in_example

    for workload in workloads():
        for container in pod_containers(workload):
            environment = kubelet_environment(container)
            assert required <= set(environment), required - set(environment)
            assert environment["FORTRESS_PRODUCTION"] == "true"


def _deploy_check(environment: dict[str, str]) -> subprocess.CompletedProcess:
    """manage.py check --deploy under exactly this environment."""
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_deploy_check_passes(result: subprocess.CompletedProcess):
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    issues = set(re.findall(r"\(([\w.]+)\)", output))
    # TLS ends at the proxy, which does the redirect to HTTPS (W008's own
    # advice), so Django's redirect is off: the probes speak plain HTTP.
    assert issues <= {"security.W008"}, output[-3000:]


def _real_looking_secrets(environment: dict[str, str]) -> dict[str, str]:
    # The placeholders are short on purpose; Django rightly flags a short
    # SECRET_KEY, which is not what these checks are about.
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "METRICS_TOKEN"):
        environment[name] = secrets.token_hex(32)
    return environment


def test_production_starts_with_the_compose_environment():
    variables = _real_looking_secrets(env_example())
    web = compose()["services"]["web"]
    environment = {
        name: interpolate(value, variables)
        for name, value in web["environment"].items()
    }
    assert "web" in environment["DJANGO_ALLOWED_HOSTS"].split(",")
    _assert_deploy_check_passes(_deploy_check(environment))


def test_production_starts_with_the_kubernetes_environment():
    environment = _real_looking_secrets(kubelet_environment(web_container()))
    hosts = environment["DJANGO_ALLOWED_HOSTS"].split(",")
    assert "10.0.0.7" in hosts, "the pod's own IP, for probes and Prometheus"
    for _, doc in k8s_objects():
        if doc["kind"] == "Ingress":
            for rule in doc["spec"]["rules"]:
                assert rule["host"] in hosts
                origin = f"https://{rule['host']}"
                assert origin in environment["DJANGO_CSRF_TRUSTED_ORIGINS"].split(",")
    _assert_deploy_check_passes(_deploy_check(environment))


def test_images_are_the_same_everywhere():
    for service in compose_app_services().values():
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert len(compose_app_services()) == 4

    for workload in workloads():
        for container in pod_containers(workload):
            assert container["image"] == IMAGE, workload["metadata"]["name"]

    (component,) = yaml_documents(K8S / "image" / "kustomization.yaml")
    assert component["kind"] == "Component"
    (image,) = component["images"]
    assert image["name"] == IMAGE
    assert image["newName"].rsplit("/", 1)[-1] == IMAGE
    # The application and its migration take the version from that one place.
    for kustomization in (
        K8S / "kustomization.yaml",
        K8S / "migrate" / "kustomization.yaml",
    ):
        (doc,) = yaml_documents(kustomization)
        assert "images" not in doc
        components = [(kustomization.parent / c).resolve() for c in doc["components"]]
        assert components == [(K8S / "image").resolve()]


def test_kustomizations_list_existing_files_and_never_the_example_secret():
    listed = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        (doc,) = yaml_documents(kustomization)
        for resource in doc.get("resources", []):
            path = (kustomization.parent / resource).resolve()
            assert path.exists(), path
            listed.add(path)
    assert (K8S / "secret.example.yaml").resolve() not in listed
    for value in k8s_object("Secret", "fortress-secrets")["stringData"].values():
        assert "CHANGE-ME" in value


def _command_lines() -> list[list[str]]:
    commands = [service["command"] for service in compose_app_services().values()]
    for workload in workloads():
        commands += [container["command"] for container in pod_containers(workload)]
    return commands


def test_celery_commands_name_the_projects_celery_app():
    celery_commands = [c for c in _command_lines() if c[0] == "celery"]
    assert len(celery_commands) == 4  # worker and beat, in compose and Kubernetes
    for command in celery_commands:
        app = find_app(celery_app_path(command))
        assert isinstance(app, Celery)
        assert app.main == "fortress_site"
        if "beat" in command:
            # Everything but /tmp is read-only in both deployments.
            (schedule,) = [a for a in command if a.startswith("--schedule=")]
            assert schedule.startswith("--schedule=/tmp/")


def test_migration_commands_exist():
    known = get_commands()
    migrations = [c for c in _command_lines() if c[0] == "sh"]
    assert len(migrations) == 2  # the compose service and the Kubernetes Job
    for command in migrations:
        script = command[-1]
        for step in script.split("&&"):
            words = shlex.split(step)
            assert words[:2] == ["python", "manage.py"], step
            assert words[2] in known, words[2]
        assert "migrate" in script and "load_themes" in script


# --- Compose wiring ----------------------------------------------------------


def test_compose_runs_every_role_after_the_migration():
    services = compose()["services"]
    assert set(services) == {
        "migrate",
        "web",
        "worker",
        "beat",
        "postgres",
        "redis",
        "prometheus",
        "grafana",
    }
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
    for name in ("migrate", "worker", "beat"):
        # The image's health check asks for HTTP, which only web serves.
        assert services[name]["healthcheck"] == {"disable": True}
    for name, service in services.items():
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on {dependency}"


def test_compose_mounts_exist_and_prometheus_reads_its_token_from_the_secret():
    services = compose()["services"]
    mounts = {}
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source, target = volume.split(":")[:2]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), source
                mounts[target] = DEPLOY / source

    config = yaml.safe_load(mounts["/etc/prometheus/prometheus.yml"].read_text())
    assert (
        "--config.file=/etc/prometheus/prometheus.yml"
        in services["prometheus"]["command"]
    )
    for rule_file in config["rule_files"]:
        assert f"/etc/prometheus/{rule_file}" in mounts

    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "fortress-web"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    (secret,) = services["prometheus"]["secrets"]
    assert (
        job["authorization"]["credentials_file"] == f"/run/secrets/{secret['target']}"
    )
    assert compose()["secrets"][secret["source"]] == {"environment": "METRICS_TOKEN"}
    assert "METRICS_TOKEN" in services["web"]["environment"]

    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/fortress.yml").read_text()
    )["providers"][0]
    assert mounts[provider["options"]["path"]] == DEPLOY / "grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == DEPLOY / "grafana/provisioning"


def test_grafana_dashboard_uses_the_provisioned_datasource():
    (source,) = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"]
    assert source["url"] == "http://prometheus:9090"
    dashboard = json.loads((DEPLOY / "grafana/dashboards/fortress.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 20
    for panel in panels:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


# --- Kubernetes --------------------------------------------------------------


def test_kubernetes_manifests_match_the_kubernetes_schemas():
    checked = 0
    for path, doc in k8s_objects():
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # the Prometheus Operator's own kinds: see below
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except ValidationError as error:
                where = ".".join(str(part) for part in error.path)
                pytest.fail(
                    f"{path.name} {doc['kind']} ({version}): {where}: {error.message}"
                )
        checked += 1
    assert checked >= 15


def test_the_schema_check_catches_a_misspelt_field():
    deployment = json.loads(json.dumps(k8s_object("Deployment", "fortress-web")))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)
    with pytest.raises(SchemaNotFoundError):
        kubernetes_validate.validate(
            k8s_object("PodMonitor", "fortress-web"),
            KUBERNETES_VERSIONS[-1],
            strict=True,
        )


def test_every_container_has_resource_requests_and_limits():
    for workload in workloads():
        for container in pod_containers(workload):
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[kind]), (
                    workload["metadata"]["name"],
                    kind,
                )
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts


def test_beat_runs_alone_and_web_is_probed():
    beat = k8s_object("Deployment", "fortress-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}

    web = k8s_object("Deployment", "fortress-web")
    labels = web["spec"]["template"]["metadata"]["labels"]
    selector = web["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert "replicas" not in web["spec"], "the autoscaler owns the count"

    hpa = k8s_object("HorizontalPodAutoscaler", "fortress-web")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "fortress-web",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = k8s_object("PodDisruptionBudget", "fortress-web")
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    service = k8s_object("Service", "fortress-web")
    assert service["spec"]["selector"] == selector


def test_ingress_keeps_websockets_open_and_metrics_closed():
    (main,) = [
        doc
        for _, doc in k8s_objects()
        if doc["kind"] == "Ingress" and doc["metadata"]["name"] == "fortress-web"
    ]
    notes = main["metadata"]["annotations"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 3600

    def matches(path: dict, url: str) -> bool:
        if path["pathType"] == "Exact":
            return url == path["path"]
        prefix = path["path"].rstrip("/")
        return url == prefix or url.startswith(prefix + "/") or prefix == ""

    for url in ("/metrics", "/metrics/"):
        routes = [
            (len(path["path"]), doc)
            for _, doc in k8s_objects()
            if doc["kind"] == "Ingress"
            for rule in doc["spec"]["rules"]
            for path in rule["http"]["paths"]
            if matches(path, url)
        ]
        _, winner = max(routes, key=lambda route: route[0])
        allowed = winner["metadata"]["annotations"][
            "nginx.ingress.kubernetes.io/whitelist-source-range"
        ]
        assert allowed == "127.0.0.1/32", f"{url} must not be served publicly"


def _selects(selector: dict, labels: dict) -> bool:
    return selector.get("matchLabels", {}).items() <= labels.items()


def test_network_policies_deny_by_default_and_open_only_what_the_app_needs():
    policies = {
        doc["metadata"]["name"]: doc["spec"]
        for _, doc in k8s_objects()
        if doc["kind"] == "NetworkPolicy"
    }
    deny = policies["default-deny"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny

    pod_labels = {
        workload["metadata"]["name"]: workload["spec"]["template"]["metadata"]["labels"]
        for workload in workloads()
    }
    web_labels = pod_labels["fortress-web"]

    def admitted_from(namespace: str) -> bool:
        return any(
            _selects(spec["podSelector"], web_labels)
            and peer.get("namespaceSelector", {}).get("matchLabels", {})
            == {"kubernetes.io/metadata.name": namespace}
            for spec in policies.values()
            for rule in spec.get("ingress", [])
            for peer in rule["from"]
        )

    assert admitted_from("ingress-nginx")
    assert admitted_from("monitoring")
    worker_ingress = [
        rule
        for spec in policies.values()
        if _selects(spec["podSelector"], pod_labels["fortress-worker"])
        for rule in spec.get("ingress", [])
    ]
    # Only Prometheus, only on the worker's metrics port.
    assert [
        (peer["namespaceSelector"]["matchLabels"], [p["port"] for p in rule["ports"]])
        for rule in worker_ingress
        for peer in rule["from"]
    ] == [({"kubernetes.io/metadata.name": "monitoring"}, [9808])]
    for name, labels in pod_labels.items():
        if name not in ("fortress-web", "fortress-worker"):
            # Nothing may connect to beat or the migration.
            assert not any(
                _selects(spec["podSelector"], labels) and spec.get("ingress")
                for spec in policies.values()
            ), name

    for name, labels in pod_labels.items():
        reachable = {
            (port.get("protocol", "TCP"), port["port"])
            for spec in policies.values()
            if _selects(spec["podSelector"], labels) and spec["podSelector"]
            for rule in spec.get("egress", [])
            for port in rule["ports"]
        }
        for needed in (
            ("UDP", 53),
            ("TCP", 53),
            ("TCP", 5432),
            ("TCP", 6379),
            ("TCP", 11434),
            ("TCP", 443),
        ):
            assert needed in reachable, (name, needed)


def test_every_worker_serves_its_metrics_where_prometheus_looks():
    worker = k8s_object("Deployment", "fortress-worker")
    (container,) = pod_containers(worker)
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["metrics"] == int(env["FORTRESS_WORKER_METRICS_PORT"])
    # The pool's files go to the writable /tmp of a read-only container.
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    monitor = k8s_object("PodMonitor", "fortress-worker")["spec"]
    assert _selects(
        monitor["selector"], worker["spec"]["template"]["metadata"]["labels"]
    )
    assert [e["port"] for e in monitor["podMetricsEndpoints"]] == ["metrics"]

    compose_worker = compose_app_services()["worker"]["environment"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "fortress-worker"]
    (target,) = job["dns_sd_configs"]
    assert target["names"] == ["worker"]
    assert target["port"] == int(compose_worker["FORTRESS_WORKER_METRICS_PORT"])
    assert compose_worker["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")


def test_prometheus_operator_resources_point_at_the_web_pods():
    monitor = k8s_object("PodMonitor", "fortress-web")["spec"]
    web = k8s_object("Deployment", "fortress-web")
    assert _selects(monitor["selector"], web["spec"]["template"]["metadata"]["labels"])
    (endpoint,) = monitor["podMetricsEndpoints"]
    assert endpoint["port"] in {port["name"] for port in web_container()["ports"]}
    assert endpoint["path"] == "/metrics"
    credentials = endpoint["authorization"]["credentials"]
    secret = k8s_object("Secret", "fortress-secrets")
    assert credentials["name"] == secret["metadata"]["name"]
    assert credentials["key"] == "METRICS_TOKEN" in secret["stringData"]

    rules = k8s_object("PrometheusRule", "fortress")["spec"]["groups"]
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    assert rules == alerts["groups"], "copy the groups of deploy/prometheus/alerts.yml"
