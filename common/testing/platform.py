"""A slice of the platform booted for one test: chosen services, real processes, own state.

Every suite that starts services as processes starts them through `Platform`: one way to build
their environment, start a web process or a worker on a free port, wait for it, look into a
service's database for an assertion, and stop exactly what was started.
"""

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg2
import requests
from kombu import Connection

from common.auth import keys
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
from common.testing.tokens import service_key_env

CLOSED_URL = "http://127.0.0.1:9"


class Platform:
    """Services share a var dir (embedded broker files, dev keys), one broker URL (None: the
    embedded broker) and their databases (none given: SQLite files in the var dir).

    `share_keys` gives the services this test process's JWT and service keys, so the test can
    mint tokens they accept without asking auth.
    """

    def __init__(
        self,
        root: Path,
        *,
        broker_url: str | None = None,
        database_urls: dict | None = None,
        share_keys: bool = False,
        log_level: str = "INFO",
    ):
        self.root = root
        self.var = root / "var"
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.broker_url = broker_url
        self.database_urls = dict(database_urls or {})
        self.share_keys = share_keys
        self.log_level = log_level
        # service -> base URL, or several comma-separated (replicas), as <SERVICE>_URL takes it
        self.urls: dict[str, str] = {}
        self.processes: dict[str, Process] = {}  # by name: the latest started under it
        self._started: list[Process] = []
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
            "STREAMIFY_LOG_LEVEL": self.log_level,
            "STREAMIFY_ACCESS_LOG": "0",
            "STREAMIFY_OUTBOX_SWEEP_SECONDS": "0.5",
        }
        if self.share_keys:
            env.update(
                JWT_PRIVATE_KEY=keys.private_key(),
                JWT_PUBLIC_KEY=keys.public_key(),
                **service_key_env(),
            )
        if self.broker_url:
            env["CELERY_BROKER_URL"] = self.broker_url
        for service, url in self.database_urls.items():
            env[f"{service.upper()}_DATABASE_URL"] = url
        for service, url in self.urls.items():
            env[f"{service.upper()}_URL"] = url
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def upstreams_closed(self, *services: str) -> None:
        """Point `services` at a closed port: nothing started here reaches one running elsewhere."""
        self.extra_env.update({f"{s.upper()}_URL": CLOSED_URL for s in services})

    def prepare(self, *services: str) -> None:
        """Migrate each service's database and declare its broker topology."""
        for service in services:
            manage(service, "migrate", "--noinput", "-v0", env=self.env())
            manage(service, "setup_broker", env=self.env())

    def track(self, process: Process) -> Process:
        """Count a process started by hand among those `stop` ends."""
        self.processes[process.name] = process
        self._started.append(process)
        return process

    def start(self, process: Process, health_url: str) -> Process:
        """Start `process` and wait until `health_url` answers 200."""
        self.track(process.start())
        wait_http_ok(health_url, timeout=60, process=process)
        return process

    def start_web(self, service: str, **env) -> Process:
        """Start `service`'s web process on a free port (the same one again after a stop)."""
        if self.urls.get(service, CLOSED_URL) == CLOSED_URL:
            self.urls[service] = f"http://127.0.0.1:{free_port()}"
        port = int(self.urls[service].rsplit(":", 1)[1])
        process = web_process(service, port, env=self.env(**env), log_dir=self.logs)
        self.start(process, self.url(service, "/health"))
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
        self.track(process.start())
        wait_for(lambda: worker_ready(process), timeout=60, what=f"{process.name} ready")
        return process

    def url(self, service: str, path: str) -> str:
        return f"{self.urls[service].split(',')[0]}{path}"

    def post(self, service: str, path: str, body: dict, **kwargs) -> requests.Response:
        return requests.post(self.url(service, path), json=body, timeout=30, **kwargs)

    def stop_process(self, name: str) -> None:
        self.processes[name].stop()

    def restart(self, name: str, health_url: str) -> None:
        """Start a stopped process again, as it was."""
        process = self.processes[name]
        process.start()
        wait_http_ok(health_url, process=process, timeout=60)

    def stop(self) -> None:
        for process in reversed(self._started):
            process.stop()

    def logs_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log_tail(60)}" for p in self.processes.values())

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
