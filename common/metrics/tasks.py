"""Each Celery task's count by final state and its run time, from Celery's own signals."""

import time

from celery.signals import celeryd_init, task_postrun, task_prerun

from common.metrics.instruments import TASK_DURATION, TASKS

_started: dict[str, float] = {}


@task_prerun.connect
def _task_started(task_id=None, **kwargs) -> None:
    _started[task_id] = time.perf_counter()


@task_postrun.connect
def _task_ended(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _started.pop(task_id, None)
    name = getattr(task, "name", "unknown")
    TASKS.labels(name, state or "UNKNOWN").inc()
    if started is not None:
        TASK_DURATION.labels(name).observe(time.perf_counter() - started)


@celeryd_init.connect
def _worker_apart(**kwargs) -> None:
    # Sent by `celery worker` only: a worker inside a web process is on that process's page.
    from common.metrics.exposition import serve_worker_metrics

    serve_worker_metrics()
