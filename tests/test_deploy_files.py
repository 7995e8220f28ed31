"""docker-compose.yml, the Kubernetes overlays and `make run`'s process list describe the same
platform (validated, not run here); only the gateway is reachable from outside."""

import json
import os
import shutil
import subprocess
from collections import Counter

import pytest
import yaml

from common.media_storage import MEDIA_SERVICES
from common.paths import REPO_ROOT
from common.service_registry import DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORTS, SERVICES
from deploy import k8s, processes
from deploy import web as deploy_web

K8S_VERSION = "1.30.0"
DEV_SECRETS = {
    "overlay": "dev",
    "database_url": "",
    "broker_url": "",
    "redis_url": "",
    "media": {},
}
FLOWER = {"FLOWER_BASIC_AUTH": "admin:x"}


def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]


def compose_ops() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.ops.yml").read_text())["services"]


def test_compose_gives_every_service_its_own_database_and_publishes_only_the_gateway():
    services = compose()
    for name in SERVICES:
        roles = [name, f"{name}-worker"] + ([f"{name}-grpc"] if name in DEFAULT_GRPC_PORTS else [])
        for role in roles:
            env = services[role]["environment"]
            assert env[f"{name.upper()}_DATABASE_URL"].endswith(f"/streamify_{name}")
            others = [
                k
                for k in env
                if k.endswith("_DATABASE_URL") and k != f"{name.upper()}_DATABASE_URL"
            ]
            assert others == [], f"{role} can reach {others}"
    published = {name: spec["ports"] for name, spec in services.items() if spec.get("ports")}
    assert published == {"gateway": [f"{DEFAULT_HTTP_PORTS['gateway']}:3000"]}


def test_the_ops_file_publishes_admin_and_flower_on_loopback_only():
    for name, spec in compose_ops().items():
        assert all(port.startswith("127.0.0.1:") for port in spec["ports"]), name
    assert "flower" in compose_ops()
    assert "FLOWER_BASIC_AUTH" in compose()["flower"]["environment"]


def test_compose_runs_every_process_of_make_run():
    services = compose()
    for name in processes.names():
        assert name in services, f"{name} runs under `make run` but not in docker-compose"


def test_make_run_hosts_each_worker_and_grpc_server_in_its_web_process_unless_told_apart(
    monkeypatch,
):
    monkeypatch.delenv("STREAMIFY_WORKERS_APART", raising=False)
    hosted = {p.name: p.env for p in processes.platform()}
    assert sorted(hosted) == sorted([*SERVICES, "flower"])
    assert all(hosted[s]["STREAMIFY_WORKER_IN_WEB"] == "1" for s in SERVICES)
    assert [s for s in SERVICES if "STREAMIFY_GRPC_IN_WEB" in hosted[s]] == ["auth", "video"]
    assert hosted["video"]["STREAMIFY_WORKER_THREADS"] == "2"

    monkeypatch.setenv("STREAMIFY_WORKERS_APART", "1")
    apart = {p.name: p for p in processes.platform()}
    assert sorted(apart) == sorted(processes.names())
    assert {"auth-grpc", "video-grpc"} <= set(apart)
    for service in SERVICES:
        assert not {"STREAMIFY_WORKER_IN_WEB", "STREAMIFY_GRPC_IN_WEB"} & set(apart[service].env)
    assert apart["video-grpc"].argv[1:] == ["video_project/manage.py", "run_grpc_server"]


def test_make_run_serves_each_service_on_its_documented_port():
    for program in processes.platform():
        if program.name in SERVICES:
            assert program.argv[-3:] == ["-m", "deploy.web", program.name]
            assert deploy_web.argv(program.name, port=9, host="h")[-1] == "--no-access-log"


def test_no_secret_has_a_default_in_compose():
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "MINIO_PASSWORD"):
        assert f"${{{secret}:?" in text
    assert "SECRET_KEY:" not in text and "JWT_PRIVATE_KEY:" not in text


# --- Kubernetes: rendered from the process list, validated offline -----------------------------

OVERLAYS = ("dev", "prod")
# The Compose Specification's JSON schema, as shipped in docker-compose 1.29.2 (Apache-2.0).
COMPOSE_SPEC = REPO_ROOT / "tests" / "compat" / "compose_spec.json"


def rendered(overlay: str) -> list[dict]:
    """`kubectl kustomize` of the overlay (kubectl's built-in kustomize)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("STREAMIFY_REQUIRE_KUBECTL") == "1":
            pytest.fail("kubectl required (README, 'Run on Kubernetes') but not on the PATH")
        pytest.skip("kubectl not installed (README, 'Run on Kubernetes')")
    folder = REPO_ROOT / "deploy" / "k8s" / "overlays" / overlay
    out = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_the_kubernetes_base_is_what_the_process_list_writes():
    stale = [
        str(path.relative_to(REPO_ROOT))
        for path, text in k8s.files().items()
        if not path.exists() or path.read_text() != text
    ]
    assert stale == [], "run python -m deploy.k8s"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_objects_the_kubernetes_schema_accepts(overlay):
    import kubernetes_validate

    objects = rendered(overlay)
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    kinds = Counter(o["kind"] for o in objects)
    print(f"\n{overlay}: {len(objects)} objects, {dict(sorted(kinds.items()))}")

    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        "streamify"
    }
    # Secrets are made for the cluster (`deploy.k8s secrets`), never kept in the tree.
    assert kinds["Secret"] == 0
    # The check can fail: a misspelt field is refused.
    broken = {**by_kind(objects, "Service")["gateway"], "sepc": {}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_every_process_runs_the_same_in_compose_and_kubernetes():
    services, workloads = compose(), by_kind(rendered("dev"), "Deployment")
    made = {s["metadata"]["name"]: s["stringData"] for s in k8s.secrets(**DEV_SECRETS)}
    programs = [processes.web(s) for s in SERVICES] + [processes.worker(s) for s in SERVICES]
    programs += [processes.grpc_server(s) for s in DEFAULT_GRPC_PORTS]
    programs.append(processes.Program("flower", processes.flower_argv(5555, "0.0.0.0"), FLOWER))
    for program in programs:
        argv = k8s.command(program.argv)
        container = workloads[program.name]["spec"]["template"]["spec"]["containers"][0]
        from_secrets = {
            key
            for source in container["envFrom"]
            if "secretRef" in source
            for key in made[source["secretRef"]["name"]]
        }
        k8s_env = {e["name"] for e in container.get("env", [])} | from_secrets
        compose_env = set(services[program.name]["environment"])

        assert services[program.name]["command"] == " ".join(argv), program.name
        assert container["command"] == argv, program.name
        assert set(program.env) <= compose_env, program.name
        assert set(program.env) <= k8s_env, program.name
        # Video and streaming share the media bucket; no other process gets its keys.
        media = program.name.split("-")[0] in MEDIA_SERVICES
        assert ("STREAMIFY_MEDIA_BUCKET" in compose_env) == media, program.name
        assert ("AWS_SECRET_ACCESS_KEY" in k8s_env) == media, program.name
        ports = {p["containerPort"] for p in container.get("ports", [])}
        if program.name in SERVICES:
            assert ports == {DEFAULT_HTTP_PORTS[program.name]}, program.name
        if program.name.endswith("-grpc"):
            assert ports == {DEFAULT_GRPC_PORTS[program.name.removesuffix("-grpc")]}
    assert set(workloads) == {p.name for p in programs}
    # Service links would set `<SERVICE>_PORT=tcp://...`, which the platform reads as its port.
    pods = [w["spec"]["template"]["spec"] for w in workloads.values()]
    assert all(pod["enableServiceLinks"] is False for pod in pods)


def test_migrations_run_as_jobs_and_never_in_a_serving_command():
    objects = rendered("dev")
    jobs = by_kind(objects, "Job")
    serving = [
        " ".join(c["command"])
        for d in by_kind(objects, "Deployment").values()
        for c in d["spec"]["template"]["spec"]["containers"]
    ]

    assert set(jobs) == {f"{s}-prepare" for s in SERVICES} | {"media-bucket"}
    assert all("prepare_service" not in c and "migrate" not in c for c in serving)
    # A finished Job goes away, so a later apply of a new image runs it again
    assert all(jobs[f"{s}-prepare"]["spec"]["ttlSecondsAfterFinished"] > 0 for s in SERVICES)
    # Every pod of a service waits until its prepare Job has migrated its database
    for name, workload in by_kind(objects, "Deployment").items():
        owner = workload["metadata"]["labels"]["streamify/service"]
        if owner not in SERVICES:
            continue
        (wait,) = workload["spec"]["template"]["spec"]["initContainers"]
        assert "manage.py migrate --check" in wait["command"][-1], name
        assert wait["workingDir"] == f"/app/{owner}_project", name
    assert all("migrate" not in spec["command"] for spec in compose().values() if "command" in spec)
    assert {compose()[f"{s}-prepare"]["command"] for s in SERVICES} == {
        "python manage.py prepare_service"
    }


def test_only_the_gateway_is_open_and_each_database_admits_only_its_service():
    policies = by_kind(rendered("dev"), "NetworkPolicy")

    def sources(name: str):
        rules = policies[name]["spec"]["ingress"]
        return [rule.get("from") for rule in rules]

    def services(peers: list[dict]) -> list[str]:
        return [peer["podSelector"]["matchLabels"]["streamify/service"] for peer in peers]

    assert sources("gateway") == [None]
    assert sources("flower") == []
    for name in SERVICES:
        database = sources(f"postgres-{name}")[0]
        assert [p["podSelector"]["matchLabels"]["streamify/service"] for p in database] == [name]
        if name != "gateway":
            callers = [
                p["podSelector"]["matchLabels"]["streamify/service"] for p in sources(name)[0]
            ]
            assert "gateway" in callers and name not in callers


def test_the_secrets_hold_each_services_own_keys_and_validate():
    import kubernetes_validate

    made = {s["metadata"]["name"]: s for s in k8s.secrets(**DEV_SECRETS)}
    for secret in made.values():
        kubernetes_validate.validate(secret, K8S_VERSION, strict=True)
    for name in SERVICES:
        own = made[f"streamify-{name}"]["stringData"]
        assert {f"{name.upper()}_DATABASE_URL", f"{name.upper()}_SECRET_KEY"} <= set(own)
        assert own[f"{name.upper()}_SERVICE_PRIVATE_KEY"].startswith("-----BEGIN PRIVATE KEY")
        assert ("JWT_PRIVATE_KEY" in own) == (name == "auth")
    shared = made["streamify-shared"]["stringData"]
    assert not any("PRIVATE" in key for key in shared)
    again = {s["metadata"]["name"]: s for s in k8s.secrets(**DEV_SECRETS)}
    assert again["streamify-auth"]["stringData"] != made["streamify-auth"]["stringData"]


def test_compose_follows_the_compose_specification():
    import jsonschema

    schema = json.loads(COMPOSE_SPEC.read_text())
    validator = jsonschema.Draft7Validator(schema)
    for name in ("docker-compose.yml", "docker-compose.ops.yml"):
        document = yaml.safe_load((REPO_ROOT / name).read_text())
        assert [e.message for e in validator.iter_errors(document)] == [], name
    misspelt = {"services": {"web": {"image": "x", "comand": "y"}}}
    assert list(validator.iter_errors(misspelt))


def test_grpc_servers_run_apart_and_clients_reach_every_pod_through_a_headless_service():
    objects = rendered("dev")
    services, workloads = by_kind(objects, "Service"), by_kind(objects, "Deployment")
    policies = by_kind(objects, "NetworkPolicy")
    (config,) = by_kind(objects, "ConfigMap").values()
    for name, port in DEFAULT_GRPC_PORTS.items():
        pod = workloads[f"{name}-grpc"]["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        assert container["readinessProbe"]["grpc"] == {"port": port}
        assert container["livenessProbe"]["grpc"] == {"port": port}
        headless = services[f"{name}-grpc"]["spec"]
        assert headless["clusterIP"] == "None"
        assert [p["port"] for p in headless["ports"]] == [port]
        assert headless["selector"] == pod["metadata"]["labels"]
        # The web pods no longer answer gRPC, and its Service does not point at them.
        assert [p["port"] for p in services[name]["spec"]["ports"]] == [DEFAULT_HTTP_PORTS[name]]
        assert config["data"][f"{name.upper()}_GRPC_TARGET"] == f"dns:///{name}-grpc:{port}"
        (rule,) = policies[f"{name}-grpc"]["spec"]["ingress"]
        callers = [p["podSelector"]["matchLabels"]["streamify/service"] for p in rule["from"]]
        assert callers == list(k8s.CALLERS[name])
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
    assert {"auth-grpc", "video-grpc"} <= set(by_kind(objects, "HorizontalPodAutoscaler"))
