"""What every Celery task gets from the platform, through Celery's own signals: its count and
run time (`streamify_tasks_total`), its log line (`common.logs`), and the id of the request
that sent it, so its log lines name that request."""

import time

from celery.signals import before_task_publish, celeryd_init, task_postrun, task_prerun

from common import logs
from common.metrics.instruments import TASK_DURATION, TASKS

REQUEST_ID_HEADER = "streamify_request_id"

_started: dict[str, tuple[float, object]] = {}


@before_task_publish.connect
def _carry_request_id(headers=None, **kwargs) -> None:
    request_id = logs.current_ids()["request_id"]
    if headers is not None and request_id and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id


@task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs) -> None:
    request_id = getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None)
    _started[task_id] = (time.perf_counter(), logs.set_task_request_id(request_id))


@task_postrun.connect
def _task_ended(task_id=None, task=None, state=None, **kwargs) -> None:
    started, token = _started.pop(task_id, (None, None))
    name = getattr(task, "name", "unknown")
    seconds = time.perf_counter() - started if started is not None else None
    TASKS.labels(name, state or "UNKNOWN").inc()
    if seconds is not None:
        TASK_DURATION.labels(name).observe(seconds)
    logs.task_line(task=name, task_id=task_id, state=state or "UNKNOWN", seconds=seconds)
    if token is not None:
        logs.reset_task_request_id(token)


@celeryd_init.connect
def _worker_apart(**kwargs) -> None:
    # Sent by `celery worker` only: a worker inside a web process is on that process's page.
    from common.metrics.exposition import serve_worker_metrics

    serve_worker_metrics()
