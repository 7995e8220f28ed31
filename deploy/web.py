"""Serve one service's HTTP API: granian (WSGI), with the platform's settings.

    python -m deploy.web video              # port from VIDEO_PORT (default 3002)
    python -m deploy.web video --port 4002

granian over gunicorn: measured side by side on the same service (video, one worker, 8 threads)
on this 2-core machine with wrk -c32, runs alternated, granian answered /health/live at
5,100-5,300 req/s against gunicorn gthread's 2,000-2,200, and the catalog at 1,850-2,700
against 1,200-1,400: its Rust HTTP layer costs far less per request.

Environment: WEB_CONCURRENCY worker processes (default 1), WEB_THREADS threads each (default 8:
requests mostly wait on the database and upstreams), BIND_HOST. One log line per request:
STREAMIFY_ACCESS_LOG (common.logs).
"""

import argparse
import os
import sys
from pathlib import Path

from common.env import ENV, bind_host, http_port, web_concurrency
from common.paths import REPO_ROOT
from common.service_registry import SERVICES


def argv(service: str, *, port: int, host: str) -> list[str]:
    granian = Path(sys.executable).parent / "granian"
    command = [
        str(granian), "--interface", "wsgi", f"{service}_project.wsgi:application",
        "--working-dir", str(REPO_ROOT / f"{service}_project"),
        "--host", host, "--port", str(port),
        "--workers", str(web_concurrency()),
        "--blocking-threads", str(ENV.int("WEB_THREADS", default=8)),
        # Room for a Celery worker inside to stop warm: its own 15 s, a task in flight waiting out
        # an upstream's read timeout, the gRPC server's grace (common.workers, common.rpc).
        "--workers-kill-timeout", "30",
        "--respawn-failed-workers",
    ]  # fmt: skip
    # Request lines are the application's own (common.logs): they name the route, the trace
    # and the user, and follow STREAMIFY_LOG_FORMAT.
    command.append("--no-access-log")
    return command


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    command = argv(args.service, port=args.port or http_port(args.service), host=bind_host())
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
