"""The registration saga: auth creates the user -> billing the wallet -> analytics the profile.

The gateway orchestrates; each step is a Celery task of the owning service on its command queue,
sent as a chain `<step> | gateway.saga.step_succeeded` whose error callback
(common.saga.report_failure, run where the step failed) sends `gateway.saga.step_failed` the
reason. Every step and compensation is a row in the gateway's database, written
in the transaction that decides to send it and sent only after that commits, so a crash leaves
a row that the recovery pass (`saga_recover`) can resend: steps are idempotent by saga id.

A failed step compensates every earlier step, newest first, one at a time; a success that
arrives after the saga gave up is compensated as well, so nothing outlives a failed saga.
Every change takes the saga's row lock first, which serialises all writes to its steps.

The request that started a saga waits for it without polling: the transaction that finishes a
saga notifies the waiting web process (registration.completion).

No secret travels with the saga: before anything is recorded the password goes to auth once,
over its internal REST API, and auth answers with a reference (a pending credential, bound to
the saga id). The saga's row and its create_user message hold only that reference.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.saga import REPORT_FAILURE_TASK, commands_queue
from registration import clients, completion, metrics
from registration.models import Saga, SagaStep

SUCCEEDED_TASK = "gateway.saga.step_succeeded"
FAILED_TASK = "gateway.saga.step_failed"
FINISHED = (Saga.Status.COMPLETED, Saga.Status.FAILED, Saga.Status.STUCK)
EMAIL_TAKEN = "email_taken"
STEP_FAILED = "step_failed"


@dataclass(frozen=True)
class Step:
    name: str
    service: str
    undo: str

    @property
    def task(self) -> str:
        return f"{self.service}.saga.{self.name}"


FORWARD = (
    Step("create_user", "auth", "delete_user"),
    Step("create_wallet", "billing", "delete_wallet"),
    Step("create_profile", "analytics", "delete_profile"),
)
BY_NAME = {step.name: step for step in FORWARD}
UNDOING = {step.undo: step for step in FORWARD}


def _kwargs(saga: Saga, name: str) -> dict:
    base = {"saga_id": str(saga.id)}
    if name == "create_user":
        return {
            **base,
            "email": saga.email,
            "credential_ref": str(saga.credential_ref),
            "first_name": saga.first_name,
            "last_name": saga.last_name,
        }
    if name == "create_profile":
        return {**base, "user_id": saga.user_id, "email": saga.email}
    return {**base, "user_id": saga.user_id}


def _service_of(name: str) -> str:
    step = BY_NAME.get(name) or UNDOING[name]
    return step.service


def _send(saga: Saga, row: SagaStep) -> None:
    """Send `row` as a chain once the current transaction commits (never inside it)."""
    from common.workers import service_app

    app = service_app()
    kwargs = _kwargs(saga, row.name)
    context = {"saga_id": str(saga.id), "step": row.name, "attempt": row.attempts}
    queue = commands_queue(_service_of(row.name))
    step = app.signature(row.task, kwargs=kwargs, queue=queue, task_id=row.task_id)
    report = {**context, "task": FAILED_TASK, "queue": "gateway"}
    step.on_error(app.signature(REPORT_FAILURE_TASK, kwargs=report))
    chain = step | app.signature(SUCCEEDED_TASK, kwargs=context, queue="gateway")
    transaction.on_commit(chain.apply_async)


def _locked(saga_id) -> tuple[Saga, dict[str, SagaStep]]:
    """The saga and its steps by name, locked until the current transaction ends."""
    saga = Saga.objects.select_for_update().get(id=saga_id)
    steps = {row.name: row for row in SagaStep.objects.select_for_update().filter(saga=saga)}
    return saga, steps


def _start_step(saga: Saga, steps: dict[str, SagaStep], name: str) -> SagaStep:
    """Record step `name` as sent (a new row, or the saga's earlier one reset) and send it."""
    row = steps.get(name) or SagaStep(saga=saga, name=name)
    row.task = f"{_service_of(name)}.saga.{name}"
    row.compensation = name in UNDOING
    row.status, row.attempts, row.task_id = SagaStep.Status.SENT, 1, uuid.uuid4().hex
    row.result, row.error, row.sent_at, row.finished_at = None, "", timezone.now(), None
    row.save()
    steps[name] = row
    _send(saga, row)
    return row


def _resend(saga: Saga, row: SagaStep) -> None:
    row.attempts += 1
    row.task_id = uuid.uuid4().hex
    row.sent_at = timezone.now()
    row.save(update_fields=["attempts", "task_id", "sent_at"])
    _send(saga, row)


def saga_start(*, email: str, password: str, first_name: str, last_name: str) -> Saga:
    """Record a registration saga and send its first step after commit.

    The password is handed to auth first and only auth's reference to it is recorded and sent,
    so neither the password nor a hash of it reaches the broker or this database. Raise
    `UpstreamUnavailable` when auth cannot take it now, `clients.CredentialRefused` when it will
    not; nothing is recorded then. A credential staged for a saga that never starts expires in
    auth unused.
    """
    saga_id = uuid.uuid4()
    credential_ref = clients.credential_stage(saga_id=str(saga_id), password=password)
    with transaction.atomic():
        saga = Saga.objects.create(
            id=saga_id,
            email=email,
            first_name=first_name,
            last_name=last_name,
            credential_ref=credential_ref,
        )
        _start_step(saga, {}, FORWARD[0].name)
    return saga


def _finish(saga: Saga, status: str) -> None:
    saga.status = status
    saga.finished_at = timezone.now()
    saga.save()
    completion.saga_finished_notify(saga_id=saga.id)
    transaction.on_commit(lambda: metrics.saga_ended(saga))


def _stick(saga: Saga) -> None:
    """A compensation keeps failing: stop there, for an operator to look at."""
    saga.status = Saga.Status.STUCK
    saga.save()
    completion.saga_finished_notify(saga_id=saga.id)
    transaction.on_commit(lambda: metrics.saga_ended(saga))


def _compensate_next(saga: Saga, steps: dict[str, SagaStep]) -> None:
    """Undo the newest forward step not yet undone; when none is left the saga has failed."""
    for step in reversed(FORWARD):
        forward = steps.get(step.name)
        # A step that failed changed nothing; one still in doubt (sent) may have acted.
        if forward is None or forward.status == SagaStep.Status.FAILED:
            continue
        if saga.user_id is None:
            continue  # no user was ever created: nothing downstream exists either
        undo = steps.get(step.undo)
        if undo is not None and undo.status == SagaStep.Status.SUCCEEDED:
            continue
        if undo is None or undo.status == SagaStep.Status.FAILED:
            _start_step(saga, steps, step.undo)
        return
    _finish(saga, Saga.Status.FAILED)


def _give_up(saga: Saga, steps: dict[str, SagaStep], error: str, code: str) -> None:
    if saga.status == Saga.Status.RUNNING:
        saga.error, saga.error_code = error, code
    saga.status = Saga.Status.COMPENSATING
    saga.finished_at = None
    saga.save()
    _compensate_next(saga, steps)


def saga_step_succeeded(*, saga_id: str, step: str, result: dict) -> None:
    """Record a step's answer: send the next step, finish, or keep compensating.

    An answer `{"rejected": {code, message}}` (common.saga.StepRejected) is a failure whose
    reason is known, e.g. `email_taken`.

    Repeated deliveries change nothing. A forward step that succeeds after the saga gave up is
    compensated too.
    """
    rejected = result.get("rejected") if isinstance(result, dict) else None
    with transaction.atomic():
        saga, steps = _locked(saga_id)
        row = _step(steps, step)
        if rejected:
            if row.status == SagaStep.Status.SENT:
                _record_failure(saga, steps, row, rejected["message"], rejected["code"])
            return
        if row.status == SagaStep.Status.SUCCEEDED:
            return
        row.status, row.result, row.finished_at = SagaStep.Status.SUCCEEDED, result, timezone.now()
        row.error = ""
        row.save(update_fields=["status", "result", "finished_at", "error"])
        if row.compensation:
            _compensate_next(saga, steps)
            return
        if step == "create_user":
            saga.user_id = result["userId"]
            saga.user = {k: result[k] for k in ("userId", "email", "firstName", "lastName")}
            saga.save()
        if saga.status != Saga.Status.RUNNING:
            # Late: the saga already gave up, and this step's undo may have run before it acted.
            undo = BY_NAME[step].undo
            saga.steps.filter(name=undo).delete()
            steps.pop(undo, None)
            _give_up(saga, steps, saga.error, saga.error_code)
            return
        following = [s for s in FORWARD if s.name not in steps]
        if following:
            _start_step(saga, steps, following[0].name)
        else:
            _finish(saga, Saga.Status.COMPLETED)


def _step(steps: dict[str, SagaStep], name: str) -> SagaStep:
    if name not in steps:
        raise SagaStep.DoesNotExist(f"the saga has no step {name}")
    return steps[name]


def saga_step_failed(*, saga_id: str, step: str, task_id: str, error: str) -> None:
    """Record a step's failure: compensate a failed forward step, retry a failed compensation.

    A failure of an attempt that has since been resent is ignored: the newer attempt decides.
    """
    with transaction.atomic():
        saga, steps = _locked(saga_id)
        row = _step(steps, step)
        if row.status != SagaStep.Status.SENT or row.task_id != task_id:
            return
        reason = error or "the step failed (no reason reported)"
        _record_failure(saga, steps, row, reason, STEP_FAILED)


def _record_failure(
    saga: Saga, steps: dict[str, SagaStep], row: SagaStep, reason: str, code: str
) -> None:
    """A forward step that failed is compensated; a failed compensation is retried."""
    row.status, row.error, row.finished_at = SagaStep.Status.FAILED, reason, timezone.now()
    row.save()
    if not row.compensation:
        _give_up(saga, steps, f"{row.name} failed: {reason}", code)
    elif row.attempts < settings.SAGA_MAX_ATTEMPTS:
        row.status = SagaStep.Status.SENT
        row.save(update_fields=["status"])
        _resend(saga, row)
    else:
        _stick(saga)


def saga_recover(*, stale_after: float | None = None) -> dict:
    """Resend steps that got no answer within `stale_after` seconds; give up after the limit.

    This finishes or compensates sagas whose messages were lost (a crashed gateway or worker):
    resending is safe because every step is idempotent by saga id.
    """
    stale_after = settings.SAGA_STEP_TIMEOUT_SECONDS if stale_after is None else stale_after
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    stale = SagaStep.objects.filter(
        status=SagaStep.Status.SENT,
        sent_at__lte=cutoff,
        saga__status__in=[Saga.Status.RUNNING, Saga.Status.COMPENSATING],
    ).values_list("saga_id", "name")
    counts = {"resent": 0, "gaveUp": 0, "stuck": 0}
    for saga_id, name in list(stale):
        with transaction.atomic():
            saga, steps = _locked(saga_id)
            row = _step(steps, name)
            if row.status != SagaStep.Status.SENT or row.sent_at > cutoff:
                continue
            if row.attempts < settings.SAGA_MAX_ATTEMPTS:
                _resend(saga, row)
                counts["resent"] += 1
            elif not row.compensation and saga.status == Saga.Status.RUNNING:
                reason = f"{name}: no answer after {row.attempts} attempts"
                _give_up(saga, steps, reason, STEP_FAILED)
                counts["gaveUp"] += 1
            else:
                _stick(saga)
                counts["stuck"] += 1
    return counts


def saga_wait(*, saga_id, timeout: float, interval: float = 0.05) -> Saga:
    """The saga (its steps loaded) once it has finished, or as it stands after `timeout` seconds.

    Woken by the transaction that finishes it (registration.completion); without that
    notification (no PostgreSQL, listener reconnecting) the row is read every `interval` seconds.
    """
    deadline = time.monotonic() + timeout
    status = Saga.objects.filter(id=saga_id).values_list("status", flat=True)
    if timeout > 0:
        with completion.saga_watch(saga_id=saga_id) as watch:
            while status.get() not in FINISHED and (left := deadline - time.monotonic()) > 0:
                watch.wait(seconds_left=left, poll=interval)
    return Saga.objects.prefetch_related("steps").get(id=saga_id)
