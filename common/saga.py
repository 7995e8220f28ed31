"""Saga steps: Celery tasks a service runs on its command queue `<service>.commands`.

The gateway orchestrates registration (auth creates the user -> billing creates the wallet ->
analytics creates the profile, compensations in reverse). Each owning service registers its
steps with `@saga_step("auth.saga.create_user")`; a step is idempotent by `saga_id` and takes
keyword arguments only, returning a JSON object.

A step that refuses its input (the e-mail is taken, say) raises `StepRejected`: that is an
answer, not a crash, so it travels back as the step's result `{"rejected": {code, message}}`
and the orchestrator compensates with the reason in hand. Any other exception is a failure
the orchestrator learns about through the step's error callback `report_failure`, which runs
in the worker where the step failed and sends the orchestrator the step's id with the reason.

`STREAMIFY_SAGA_FAIL_STEPS` (comma-separated step names) makes the named steps fail: it exists
so tests and demos can show compensation, and is refused outside dev mode.
"""

from functools import wraps

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from common.env import dev_mode


class InjectedFailure(Exception):
    """Raised by a step named in STREAMIFY_SAGA_FAIL_STEPS."""


class StepRejected(Exception):
    """The step refuses its input; retrying cannot help. `code` is for the orchestrator."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


REPORT_FAILURE_TASK = "streamify.saga.report_failure"
REASON_MAX_CHARS = 500


def commands_queue(service: str) -> str:
    """Where `service`'s saga steps run (its Celery app routes `<service>.saga.*` there)."""
    return f"{service}.commands"


def failing_steps() -> set[str]:
    names = set(settings.SAGA_FAIL_STEPS)
    if names and not dev_mode():
        raise ImproperlyConfigured("STREAMIFY_SAGA_FAIL_STEPS is a test switch (dev mode only)")
    return names


def saga_step(name: str, **task_options):
    """Register `func(**kwargs) -> dict` as saga step `name` on this service's command queue."""

    def decorate(func):
        @wraps(func)
        def run(**kwargs):
            if name in failing_steps():
                raise InjectedFailure(f"{name} failed on purpose (STREAMIFY_SAGA_FAIL_STEPS)")
            try:
                return func(**kwargs)
            except StepRejected as exc:
                return {"rejected": {"code": exc.code, "message": str(exc)}}

        options = {"acks_late": True, "reject_on_worker_lost": True, **task_options}
        return shared_task(name=name, **options)(run)

    return decorate


def failure_reason(exc: BaseException) -> str:
    """The reason a failed step reports: the exception's type and the first line of its message.

    Never more: a database error's further lines can quote the failing row's values (a
    password hash among them), and the reason travels through the broker.
    """
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}"[:REASON_MAX_CHARS] if lines else type(exc).__name__


@shared_task(name=REPORT_FAILURE_TASK)
def report_failure(request, exc, traceback, *, task: str, queue: str, **context) -> None:
    """Error callback of a saga step: send the orchestrator's `task` the failed step's id and
    `context`, with the reason as `error`.

    Celery runs an error callback that takes `(request, exc, traceback)` in the worker where the
    step failed, so the exception is in hand; one sent through the broker would carry only the
    task id.
    """
    from common.workers import service_app

    kwargs = {**context, "error": failure_reason(exc)}
    service_app().send_task(task, args=[request.id], kwargs=kwargs, queue=queue)
