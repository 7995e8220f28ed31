"""Kubernetes manifests from the same facts as `make run` and docker-compose.

    python -m deploy.k8s                  # write deploy/k8s/base/ and the dev overlay's backends
    python -m deploy.k8s --check          # the files in the tree are what this writes
    python -m deploy.k8s secrets --overlay dev | kubectl apply -n streamify -f -
                                          # Secrets with fresh keys and passwords (never in git)

The workloads are `deploy.processes`' programs: the same command, port and environment names
as under `make run` with STREAMIFY_WORKERS_APART=1, one Deployment each: per service its web
process and its worker, and for auth and video a gRPC server, so each scales apart.
Migrations and the broker topology run as one Job per service (`manage.py prepare_service`),
never in a serving command. The overlays (`deploy/k8s/overlays/`) are written by hand: `dev`
adds PostgreSQL (one per service), RabbitMQ, Redis and MinIO (media) in the cluster; `prod`
expects them outside, named by the Secrets.

`workloads` builds a program's Deployment and its companions, `objects` the kinds every
workload and backend shares, `network` who may reach whom, `config_and_secrets` what pods read
through `envFrom`, `dev_backends` the dev overlay's backends, `render` the files, and
`__main__` is the command line.
"""

from deploy.k8s.config_and_secrets import secrets
from deploy.k8s.dev_backends import backends
from deploy.k8s.network import CALLERS
from deploy.k8s.render import base, files
from deploy.k8s.workloads import command

__all__ = ["CALLERS", "backends", "base", "command", "files", "secrets"]
