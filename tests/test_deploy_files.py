"""docker-compose.yml and `make run`'s process list describe the same platform (validated, not
run here), and compose exposes only the gateway."""

import yaml

from common.env import DEFAULT_HTTP_PORTS, SERVICES
from common.paths import REPO_ROOT
from deploy import processes
from deploy import web as deploy_web


def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]


def compose_ops() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.ops.yml").read_text())["services"]


def test_compose_gives_every_service_its_own_database_and_publishes_only_the_gateway():
    services = compose()
    for name in SERVICES:
        for role in (name, f"{name}-worker"):
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


def test_make_run_serves_each_service_on_its_documented_port():
    for program in processes.platform():
        if program.name in SERVICES:
            assert program.argv[-3:] == ["-m", "deploy.web", program.name]
            assert deploy_web.argv(program.name, port=9, host="h")[-1] == "--no-access-log"


def test_no_secret_has_a_default_in_compose():
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "RABBITMQ_PASSWORD"):
        assert f"${{{secret}:?" in text
    assert "SECRET_KEY:" not in text and "JWT_PRIVATE_KEY:" not in text
