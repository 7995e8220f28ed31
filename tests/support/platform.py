"""A slice of the platform booted for one test: chosen services, real processes, own state."""

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg2
import requests
from kombu import Connection

from common.broker import connect
from common.events.topology import dead_letter_queue
from common.testing.processes import (
    Process,
    free_port,
    manage,
    wait_for,
    wait_http_ok,
    web_process,
    worker_process,
)

CLOSED_URL = "http://127.0.0.1:9"


class Platform:
    """Services share a var dir (embedded broker files, dev keys) and one broker URL."""

    def __init__(self, root: Path, *, broker_url: str | None, database_urls: dict | None):
        self.root = root
        self.var = root / "var"
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.broker_url = broker_url
        self.database_urls = database_urls or {}
        self.ports: dict[str, int] = {}
        self.processes: list[Process] = []
        self.extra_env: dict[str, str] = {}

    @property
    def embedded(self) -> bool:
        return self.broker_url is None

    def env(self, **overrides) -> dict:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": str(self.var),
            "STREAMIFY_LOG_LEVEL": "INFO",
            "STREAMIFY_ACCESS_LOG": "0",
            "STREAMIFY_OUTBOX_SWEEP_SECONDS": "0.5",
        }
        if self.broker_url:
            env["CELERY_BROKER_URL"] = self.broker_url
        for service, url in self.database_urls.items():
            env[f"{service.upper()}_DATABASE_URL"] = url
        for service, port in self.ports.items():
            env[f"{service.upper()}_URL"] = f"http://127.0.0.1:{port}"
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def upstreams_closed(self, *services: str) -> None:
        """Point `services` at a closed port: nothing started here reaches one running elsewhere."""
        self.extra_env.update({f"{s.upper()}_URL": CLOSED_URL for s in services})

    def prepare(self, *services: str) -> None:
        for service in services:
            manage(service, "migrate", "--noinput", "-v0", env=self.env())
            manage(service, "setup_broker", env=self.env())

    def start_web(self, service: str, **env) -> Process:
        port = self.ports.setdefault(service, free_port())
        process = web_process(service, port, env=self.env(**env), log_dir=self.logs).start()
        self.processes.append(process)
        wait_http_ok(self.url(service, "/health"), timeout=60, process=process)
        # Whoever answered must be this service: a port taken meanwhile by another process
        # would otherwise pass for it.
        answered = requests.get(self.url(service, "/health/live"), timeout=5).json()
        if answered.get("service") != service or not process.alive():
            raise RuntimeError(f"port {port} answers as {answered}, not {service}")
        return process

    def start_worker(
        self, service: str, name: str | None = None, concurrency: int = 2, **env
    ) -> Process:
        process = worker_process(
            service, env=self.env(**env), log_dir=self.logs, name=name, concurrency=concurrency
        )
        self.processes.append(process.start())
        wait_for(lambda: worker_ready(process), timeout=60, what=f"{process.name} ready")
        return process

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def post(self, service: str, path: str, body: dict, **kwargs) -> requests.Response:
        return requests.post(self.url(service, path), json=body, timeout=30, **kwargs)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def logs_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log_tail(60)}" for p in self.processes)

    # Reading a service's database directly is for assertions only; services never do it.
    def query(self, service: str, sql: str, params: tuple = ()) -> list[tuple]:
        url = self.database_urls.get(service)
        if url:
            with closing(psycopg2.connect(url)) as conn, conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        path = self.var / "db" / f"{service}.sqlite3"
        with closing(sqlite3.connect(path, timeout=20)) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()

    def scalar(self, service: str, sql: str, params: tuple = ()):
        return self.query(service, sql, params)[0][0]

    def broker_connection(self) -> Connection:
        if self.broker_url:
            return Connection(self.broker_url)
        return connect(self.var / "broker")

    def dead_letters(self, service: str) -> list[dict]:
        """Drain `<service>.events.dlq` and return the envelopes it held, with their error."""
        found = []
        with self.broker_connection() as conn:
            queue = conn.SimpleQueue(dead_letter_queue(service))
            try:
                while True:
                    try:
                        message = queue.get(timeout=0.5)
                    except queue.Empty:
                        break
                    body = message.payload
                    if isinstance(body, str | bytes):
                        body = json.loads(body)
                    found.append({"envelope": body, "error": message.headers.get("x-error")})
                    message.ack()
            finally:
                queue.close()
        return found


def worker_ready(process: Process) -> bool:
    if not process.alive():
        raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
    return " ready." in process.log_tail(200)
