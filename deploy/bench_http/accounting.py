"""Which process is which: the platform's processes and its backends' by role, so CPU time and
memory can be added up per role."""

import re
import subprocess

from deploy.booted import command_line


def process_role(command: str) -> str:
    for word in ("flower", "supervisor", "circus", "honcho", "make"):
        if word in command:
            return word
    match = re.search(r"(\w+)_project", command)
    kind = "worker" if " worker" in command else ("grpc" if "grpc" in command else "web")
    return f"{match.group(1)} {kind}" if match else command[:40]


def process_groups(platform_pids: list[int]) -> dict[str, list[int]]:
    """The platform's processes by role, and the PostgreSQL and RabbitMQ servers' processes
    (whatever serves them on this machine: their CPU is part of a request's cost)."""
    groups: dict[str, list[int]] = {}
    for pid in platform_pids:
        groups.setdefault(process_role(command_line(pid)), []).append(pid)
    listed = subprocess.run(["ps", "-e", "-o", "pid=,comm="], capture_output=True, text=True)
    for line in listed.stdout.splitlines():
        pid, name = line.split(None, 1)
        backend = {"postgres": "PostgreSQL", "beam.smp": "RabbitMQ"}.get(name.strip())
        if backend:
            groups.setdefault(backend, []).append(int(pid))
    return groups
