"""The files `python -m deploy.k8s` writes: the base (a file per service, Flower's and the shared
objects', and its kustomization) and the dev overlay's backends."""

from pathlib import Path

import yaml

from common.paths import REPO_ROOT
from common.service_registry import DEFAULT_GRPC_PORTS, SERVICES
from deploy.k8s.config_and_secrets import config
from deploy.k8s.dev_backends import backends
from deploy.k8s.network import gateway_ingress
from deploy.k8s.workloads import flower, grpc_server, prepare_job, web, worker

K8S = REPO_ROOT / "deploy" / "k8s"
HEADER = "# Written by `python -m deploy.k8s` from deploy/processes.py: change that, then rerun.\n"


def base() -> dict[str, list[dict]]:
    """The base's files and the objects in each."""
    files = {"shared.yaml": [config(), gateway_ingress()]}
    for name in SERVICES:
        grpc = grpc_server(name) if name in DEFAULT_GRPC_PORTS else []
        files[f"{name}.yaml"] = [prepare_job(name), *web(name), *grpc, *worker(name)]
    files["flower.yaml"] = flower()
    return files


def dump(objects: list[dict]) -> str:
    return HEADER + "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objects)


def files() -> dict[Path, str]:
    made = {K8S / "base" / name: dump(objects) for name, objects in base().items()}
    resources_list = {"resources": sorted(name for name in base())}
    made[K8S / "base" / "kustomization.yaml"] = HEADER + yaml.safe_dump(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"} | resources_list,
        sort_keys=False,
    )
    made[K8S / "overlays" / "dev" / "backends.yaml"] = dump(backends())
    return made
