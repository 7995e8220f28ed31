"""The orchestrator's decisions, in process: what it records and what it sends after commit."""

import uuid

import pytest

from registration import clients, services
from registration.models import Saga, SagaStep

pytestmark = pytest.mark.django_db

USER = {"userId": 41, "email": "fork@example.com", "firstName": "Fo", "lastName": "Rk"}


@pytest.fixture
def sent(monkeypatch, django_capture_on_commit_callbacks):
    """Start a saga; yield a function answering a step and returning the tasks it sent."""
    monkeypatch.setattr(clients, "credential_stage", lambda **kwargs: str(uuid.uuid4()))

    def sent_by(action) -> list[str]:
        with django_capture_on_commit_callbacks() as callbacks:
            action()
        # Bound `apply_async` of what was sent; the other callbacks record metrics.
        return [c.__self__.tasks[0].task for c in callbacks if hasattr(c, "__self__")]

    return sent_by


def start(sent) -> tuple[Saga, list[str]]:
    started: list[Saga] = []
    tasks = sent(
        lambda: started.append(
            services.saga_start(
                email="fork@example.com", password="irrelevant", first_name="Fo", last_name="Rk"
            )
        )
    )
    return started[0], tasks


def answer(saga: Saga, step: str, result: dict):
    return lambda: services.saga_step_succeeded(saga_id=str(saga.id), step=step, result=result)


def statuses(saga: Saga) -> dict[str, str]:
    return dict(SagaStep.objects.filter(saga=saga).values_list("name", "status"))


def test_each_step_is_sent_once_the_one_before_it_succeeded(sent):
    saga, first = start(sent)

    after_user = sent(answer(saga, "create_user", USER))
    after_wallet = sent(answer(saga, "create_wallet", {"walletCreated": True}))
    running = Saga.objects.get(id=saga.id).status
    after_profile = sent(answer(saga, "create_profile", {"analyticsCreated": True}))

    assert first == ["auth.saga.create_user"]
    assert after_user == ["billing.saga.create_wallet"]
    assert (after_wallet, running) == (["analytics.saga.create_profile"], Saga.Status.RUNNING)
    assert after_profile == []
    assert Saga.objects.get(id=saga.id).status == Saga.Status.COMPLETED
    assert set(statuses(saga).values()) == {SagaStep.Status.SUCCEEDED}


def test_a_failed_step_undoes_the_earlier_ones_newest_first(sent):
    saga, _ = start(sent)
    sent(answer(saga, "create_user", USER))
    sent(answer(saga, "create_wallet", {"walletCreated": True}))
    refused = {"rejected": {"code": "invalid", "message": "no profile today"}}

    after_failure = sent(answer(saga, "create_profile", refused))
    after_wallet_undone = sent(answer(saga, "delete_wallet", {"deleted": True}))
    compensating = Saga.objects.get(id=saga.id).status
    after_user_undone = sent(answer(saga, "delete_user", {"deleted": True}))
    failed = Saga.objects.get(id=saga.id)

    assert after_failure == ["billing.saga.delete_wallet"]
    assert after_wallet_undone == ["auth.saga.delete_user"]
    assert compensating == Saga.Status.COMPENSATING
    assert after_user_undone == []
    assert (failed.status, failed.error_code) == (Saga.Status.FAILED, "invalid")
    assert failed.error == "create_profile failed: no profile today"
    assert statuses(saga) == {
        "create_user": SagaStep.Status.SUCCEEDED,
        "create_wallet": SagaStep.Status.SUCCEEDED,
        "create_profile": SagaStep.Status.FAILED,
        "delete_wallet": SagaStep.Status.SUCCEEDED,
        "delete_user": SagaStep.Status.SUCCEEDED,
    }


def test_a_repeated_answer_changes_nothing_and_sends_nothing(sent):
    saga, _ = start(sent)
    sent(answer(saga, "create_user", USER))

    again = sent(answer(saga, "create_user", USER))

    assert again == []
    assert statuses(saga) == {
        "create_user": SagaStep.Status.SUCCEEDED,
        "create_wallet": SagaStep.Status.SENT,
    }
