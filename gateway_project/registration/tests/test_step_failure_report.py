"""A saga step that raises reports its reason through its error callback, run in the worker
where it failed: the gateway needs no stream of task events to learn why."""

import uuid

import pytest
from celery import shared_task
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.saga import REPORT_FAILURE_TASK, InjectedFailure, failure_reason
from common.workers import service_app
from registration import services
from registration.models import Saga, SagaStep


@shared_task(name="registration.tests.failing_step")
def failing_step(**kwargs):
    raise InjectedFailure("create_wallet failed on purpose\nsecond line the gateway never sees")


def test_the_error_callback_sends_the_gateway_the_failed_task_and_its_reason(monkeypatch):
    app = service_app()
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    context = {"saga_id": "s-1", "step": "create_wallet", "attempt": 2}
    step = app.signature("registration.tests.failing_step", task_id=uuid.uuid4().hex)
    # As the gateway links it to every step (registration.services._send).
    report = {**context, "task": services.FAILED_TASK, "queue": "gateway"}
    step.on_error(app.signature(REPORT_FAILURE_TASK, kwargs=report))

    outcome = step.apply()

    assert outcome.failed()
    assert sent == [
        (
            services.FAILED_TASK,
            {
                "args": [step.id],
                "kwargs": {**context, "error": "InjectedFailure: create_wallet failed on purpose"},
                "queue": "gateway",
            },
        )
    ]


@pytest.mark.django_db
def test_a_reason_keeps_only_the_first_line_of_a_database_error():
    if connection.vendor != "postgresql":
        pytest.skip("the detail line is PostgreSQL's (CI sets STREAMIFY_REQUIRE_REAL_BACKENDS=1)")
    # PostgreSQL's detail line quotes the failing row: here a stand-in for a password hash.
    secret = f"argon2$argon2id$v=19$stand-in-{uuid.uuid4().hex}"
    saga = Saga.objects.create(email="r@example.com", first_name="Re", last_name="Ason")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        SagaStep.objects.create(
            saga=saga, name="x" * 10, task=secret, task_id=None, sent_at=timezone.now()
        )

    reason = failure_reason(caught.value)

    assert reason.startswith('IntegrityError: null value in column "task_id"')
    assert secret in str(caught.value) and secret not in reason


def test_a_reason_is_bounded_and_never_empty():
    assert failure_reason(RuntimeError()) == "RuntimeError"
    assert len(failure_reason(RuntimeError("x" * 5000))) == 500
