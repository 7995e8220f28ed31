"""A request waiting for its saga is woken by the transaction that finishes the saga (PostgreSQL
LISTEN/NOTIFY), not by polling; without the listener it still polls the row."""

import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from registration import completion, services
from registration.models import Saga, SagaStep

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (CI sets STREAMIFY_REQUIRE_REAL_BACKENDS=1)")


@pytest.fixture
def listener(monkeypatch):
    """A listener of this test's own, as the process's; rereads far apart, so only a
    notification can wake a waiter in time."""
    monkeypatch.setattr(completion, "RECHECK_SECONDS", 60.0)
    started = completion.Listener().start()
    monkeypatch.setattr(completion, "_listener", started)
    assert started.listening.wait(10)
    yield started
    started.stop()


def saga_at_last_step() -> Saga:
    """A running saga whose user and wallet exist and whose profile step is in flight."""
    saga = Saga.objects.create(
        email=f"wait-{uuid.uuid4().hex[:8]}@example.com",
        first_name="Wait",
        last_name="Test",
        user_id=7,
        user={"userId": 7, "email": "w@example.com", "firstName": "Wait", "lastName": "Test"},
    )
    for name, status in [
        ("create_user", SagaStep.Status.SUCCEEDED),
        ("create_wallet", SagaStep.Status.SUCCEEDED),
        ("create_profile", SagaStep.Status.SENT),
    ]:
        service = services.BY_NAME[name].service
        SagaStep.objects.create(
            saga=saga,
            name=name,
            task=f"{service}.saga.{name}",
            status=status,
            task_id=uuid.uuid4().hex,
            sent_at=timezone.now(),
        )
    return saga


def in_thread(after: float, work) -> tuple[threading.Thread, list[float]]:
    """Run `work` in another thread (its own connection) after `after` seconds; the list gets
    the monotonic time at which it returned (its transaction committed)."""
    done: list[float] = []

    def run():
        time.sleep(after)
        try:
            work()
            done.append(time.monotonic())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def profile_created(saga: Saga):
    return lambda: services.saga_step_succeeded(
        saga_id=str(saga.id), step="create_profile", result={"analyticsCreated": True}
    )


def test_the_wait_ends_when_the_finishing_transaction_commits(listener):
    saga = saga_at_last_step()
    thread, committed = in_thread(0.5, profile_created(saga))

    finished = services.saga_wait(saga_id=saga.id, timeout=20)
    returned = time.monotonic()
    thread.join()

    assert finished.status == Saga.Status.COMPLETED
    assert [row.status for row in finished.steps.all()] == [SagaStep.Status.SUCCEEDED] * 3
    assert returned - committed[0] < 0.5  # woken, not found by a reread 60 s apart


def test_a_saga_still_running_at_the_deadline_is_returned_as_it_stands(listener):
    saga = saga_at_last_step()
    started = time.monotonic()

    found = services.saga_wait(saga_id=saga.id, timeout=0.6)

    assert 0.6 <= time.monotonic() - started < 2
    assert found.status == Saga.Status.RUNNING


def test_nothing_is_notified_by_a_transaction_that_rolls_back(listener):
    saga = saga_at_last_step()

    def finish_then_roll_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.saga_step_succeeded(
                saga_id=str(saga.id), step="create_profile", result={"analyticsCreated": True}
            )
            raise RuntimeError("rolled back")

    with listener.watch(saga.id) as woken:
        thread, _ = in_thread(0, finish_then_roll_back)
        thread.join()
        rolled_back = woken.wait(1.0)
        thread, _ = in_thread(0, profile_created(saga))
        committed = woken.wait(10)
        thread.join()

    assert (rolled_back, committed) == (False, True)
    assert Saga.objects.get(id=saga.id).status == Saga.Status.COMPLETED


def test_the_listener_comes_back_after_losing_its_connection(listener, monkeypatch):
    monkeypatch.setattr(completion, "RECONNECT_SECONDS", 0.1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query = %s",
            [f"LISTEN {completion.CHANNEL}"],
        )
        assert cursor.fetchone() == (True,)
    deadline = time.monotonic() + 10
    while listener.listening.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)  # until the listener notices
    assert listener.listening.wait(10)
    saga = saga_at_last_step()
    thread, committed = in_thread(0.3, profile_created(saga))

    finished = services.saga_wait(saga_id=saga.id, timeout=20)
    returned = time.monotonic()
    thread.join()

    assert finished.status == Saga.Status.COMPLETED
    assert returned - committed[0] < 0.5


def test_without_a_listener_the_wait_polls_the_row(monkeypatch):
    monkeypatch.setattr(completion, "process_listener", lambda: None)
    saga = saga_at_last_step()
    thread, committed = in_thread(0.3, profile_created(saga))

    finished = services.saga_wait(saga_id=saga.id, timeout=20, interval=0.05)
    returned = time.monotonic()
    thread.join()

    assert finished.status == Saga.Status.COMPLETED
    assert returned - committed[0] < 0.5
