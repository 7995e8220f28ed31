"""The gateway's side of the saga chains: thin tasks that hand each outcome to the services."""

import logging

from celery import shared_task

from registration import services

logger = logging.getLogger(__name__)


@shared_task(name=services.SUCCEEDED_TASK, acks_late=True)
def step_succeeded(result: dict, *, saga_id: str, step: str, attempt: int) -> None:
    """Record the step's result (the chain passes it first) and move the saga on; idempotent."""
    services.saga_step_succeeded(saga_id=saga_id, step=step, result=result)


@shared_task(name=services.FAILED_TASK, acks_late=True)
def step_failed(task_id: str, *, saga_id: str, step: str, attempt: int, error: str = "") -> None:
    """Record that the step's task `task_id` failed for `error` (sent by its error callback,
    common.saga.report_failure); idempotent."""
    logger.info("saga %s: %s (attempt %s) failed: %s", saga_id, step, attempt, error)
    services.saga_step_failed(saga_id=saga_id, step=step, task_id=task_id, error=error)
