"""What every service's WSGI module does in the process that serves its HTTP API."""

import logging
import multiprocessing.util
import os
import sys
import threading
import time

from django.core.wsgi import get_wsgi_application

from common.env import flag

logger = logging.getLogger(__name__)

# How long a thread may keep the GIL while another waits for it (Python's default is 5 ms). A
# web process runs 8 request threads beside its worker's: at -c32, with 5 ms, a request could
# wait out dozens of other threads' turns, and p99 reached 130-390 ms while the median was
# 11-13 ms. With 2 ms, p99 was 23-35 ms for about 15% fewer requests a second at saturation
# (same run, same machine: docs/benchmarks.md).
SWITCH_INTERVAL_SECONDS = 0.002


def wsgi_application(service: str):
    """The service's WSGI application, with what a serving process needs beside it.

    With STREAMIFY_GRPC_IN_WEB=1 (how `make run`, compose and Kubernetes start auth and video)
    the process also serves the service's gRPC API, so one process per service answers both
    protocols; `manage.py run_grpc_server` serves gRPC alone, where it should scale apart. With
    STREAMIFY_WORKER_IN_WEB=1 (`make run`) it also runs the service's Celery worker.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{service}_project.settings")
    application = get_wsgi_application()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    _exit_with_parent()
    if flag("STREAMIFY_GRPC_IN_WEB"):
        from common.rpc.server import serve_beside_web

        serve_beside_web()
    if flag("STREAMIFY_WORKER_IN_WEB"):
        from common.workers import work_beside_web

        work_beside_web()
    return application


def _exit_with_parent(interval: float = 0.5) -> None:
    """End this worker when the server process that started it is gone.

    A web server's worker processes outlive a main process killed with SIGKILL and would go
    on holding the port; the process supervisor then could not start the service again.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        logger.warning("server process %d is gone: worker %d exits", parent, os.getpid())
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def on_worker_exit(callback, *args, **kwargs) -> None:
    """Call `callback` when this web worker process exits, whether it ends normally or as the
    forked worker of a server (granian's leave through `os._exit`, skipping `atexit`, after
    running multiprocessing's exit finalizers, which run on a normal exit too)."""
    multiprocessing.util.Finalize(None, callback, args=args, kwargs=kwargs, exitpriority=10)
