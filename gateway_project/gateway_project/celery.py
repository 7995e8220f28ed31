"""The gateway's Celery app: saga outcomes on `gateway`, plus the saga supervisor below."""

import logging
import threading
import time

from common.celery import PeriodicStep, create_app

logger = logging.getLogger(__name__)

app = create_app("gateway")


class SagaSupervisor(PeriodicStep):
    """Worker component: run the saga recovery pass periodically and collect failure reasons.

    The reasons come from the command workers' `task-failed` events (they carry the exception;
    Celery's error callback carries only the task id). Events are best effort: a lost one
    leaves the reason as "no reason reported", never the saga unfinished.
    """

    job = "registration.services.saga_recover"
    interval_setting = "SAGA_RECOVERY_INTERVAL_SECONDS"

    def start(self, worker):
        super().start(worker)
        threading.Thread(target=_watch_failures, args=(worker.app,), daemon=True).start()


def _note_failure(event: dict) -> None:
    from django.db import close_old_connections
    from registration.services import saga_step_failure_reason

    close_old_connections()
    saga_step_failure_reason(task_id=event["uuid"], reason=event.get("exception") or "")


def _watch_failures(celery_app) -> None:
    while True:
        try:
            with celery_app.connection_for_read() as connection:
                # Task events only ("task.multi" carries a worker's batched ones): the workers'
                # heartbeats, every two seconds each, are not our business.
                receiver = celery_app.events.Receiver(
                    connection, handlers={"task-failed": _note_failure}, routing_key="task.#"
                )
                receiver.capture(limit=None, timeout=None, wakeup=False)
        except Exception:
            logger.exception("task event receiver stopped; reconnecting")
            time.sleep(1)


app.steps["worker"].add(SagaSupervisor)
