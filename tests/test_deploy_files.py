"""docker-compose.yml and the Procfile describe the same platform (validated, not run here)."""

import re

import yaml

from common.env import DEFAULT_HTTP_PORTS, SERVICES
from common.paths import REPO_ROOT


def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]


def procfile() -> dict[str, str]:
    lines = (REPO_ROOT / "deploy" / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def test_compose_gives_every_service_its_own_database_and_port():
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
        assert services[name]["ports"] == [f"{DEFAULT_HTTP_PORTS[name]}:{DEFAULT_HTTP_PORTS[name]}"]


def test_compose_runs_every_process_of_the_procfile():
    services = compose()
    for process in procfile():
        assert process in services, f"{process} runs under `make run` but not in docker-compose"


def test_procfile_binds_the_documented_ports():
    processes = procfile()
    for name, port in DEFAULT_HTTP_PORTS.items():
        assert re.search(rf"\b{name.upper()}_PORT:-{port}\b", processes[name])


def test_no_secret_has_a_default_in_compose():
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "RABBITMQ_PASSWORD"):
        assert f"${{{secret}:?" in text
    assert "SECRET_KEY:" not in text and "JWT_PRIVATE_KEY:" not in text
