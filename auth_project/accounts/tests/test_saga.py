"""Auth's registration saga steps, called as the auth worker runs them."""

import uuid
from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone

from accounts import saga, services
from accounts.models import PendingCredential, User
from accounts.tests.conftest import events
from accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "password123"


def _stage(saga_id: str, password: str = PASSWORD) -> str:
    return str(services.pending_credential_stage(saga_id=saga_id, password=password).ref)


def _create(saga_id="saga-1", email="saga@test.com", credential_ref=None, **overrides):
    if credential_ref is None:
        credential_ref = (
            PendingCredential.objects.filter(saga_id=saga_id).values_list("ref", flat=True).first()
        )
        credential_ref = str(credential_ref) if credential_ref else _stage(saga_id)
    kwargs = {
        "saga_id": saga_id,
        "email": email,
        "credential_ref": credential_ref,
        "first_name": "Saga",
        "last_name": "Test",
        **overrides,
    }
    return saga.create_user(**kwargs)


def test_steps_are_registered_on_the_auth_command_queue():
    for name in ("auth.saga.create_user", "auth.saga.delete_user"):
        task = current_app.tasks[name]
        assert current_app.amqp.router.route({}, name)["queue"].name == "auth.commands"
        assert task.acks_late is True


def test_create_user_takes_the_staged_password_and_returns_the_contract():
    ref = _stage("saga-1")
    staged = PendingCredential.objects.get(ref=ref).password_hash

    result = _create(email="Saga@Test.com", credential_ref=ref)

    user = User.objects.get()
    assert result == {
        "userId": user.id,
        "email": "saga@test.com",
        "firstName": "Saga",
        "lastName": "Test",
    }
    assert user.password == staged and user.check_password(PASSWORD)
    assert PendingCredential.objects.count() == 0  # taken: no hash is left waiting
    assert len(events("user.registered")) == 1


def test_create_user_is_idempotent_by_saga_id():
    first = _create()
    second = _create()  # the credential is gone by now: the saga's record answers

    assert first == second
    assert User.objects.count() == 1
    assert len(events("user.registered")) == 1


@pytest.mark.parametrize("case", ["unknown", "other_saga", "expired"])
def test_create_user_without_its_sagas_live_credential_is_rejected(case):
    ref = _stage("saga-1")
    other = _stage("saga-2")
    if case == "expired":
        PendingCredential.objects.filter(ref=ref).update(expires_at=timezone.now())
    used = {"unknown": str(uuid.uuid4()), "other_saga": other, "expired": ref}[case]

    answer = _create(saga_id="saga-1", credential_ref=used)

    assert answer["rejected"]["code"] == "credential_unavailable"
    assert User.objects.count() == 0
    assert PendingCredential.objects.filter(saga_id="saga-2").exists()  # another saga's stays


@pytest.mark.parametrize(
    "ref", ["password123", "pbkdf2_sha256$1000000$salt$hash", "", 12, None, ["x"]]
)
def test_create_user_refuses_anything_but_a_reference(ref):
    _stage("saga-1")

    answer = saga.create_user(
        saga_id="saga-1",
        email="saga@test.com",
        credential_ref=ref,
        first_name="Saga",
        last_name="Test",
    )

    assert answer["rejected"]["code"] == "invalid"
    assert "credential_ref" in answer["rejected"]["message"]
    assert User.objects.count() == 0


def test_create_user_with_taken_email_says_so_and_discards_the_credential():
    make_user(email="taken@example.com")

    answer = _create(email="TAKEN@example.com")

    assert answer == {
        "rejected": {
            "code": "email_taken",
            "message": "email already registered: taken@example.com",
        }
    }
    assert PendingCredential.objects.count() == 0


@pytest.mark.parametrize("field", ["email", "first_name", "last_name"])
def test_create_user_validates_like_register(field):
    assert _create(**{field: "x"})["rejected"]["code"] == "invalid"
    assert User.objects.count() == 0


def test_delete_user_undoes_only_this_sagas_user_and_is_repeatable():
    created = _create(saga_id="saga-9")
    bystander = make_user()

    other_saga = saga.delete_user(saga_id="saga-other", user_id=created["userId"])
    wrong_user = saga.delete_user(saga_id="saga-9", user_id=bystander.id)
    undo = saga.delete_user(saga_id="saga-9", user_id=created["userId"])
    again = saga.delete_user(saga_id="saga-9", user_id=created["userId"])

    assert (other_saga, wrong_user, undo, again) == (
        {"deleted": False},
        {"deleted": False},
        {"deleted": True},
        {"deleted": False},
    )
    assert list(User.objects.values_list("id", flat=True)) == [bystander.id]
    assert events("user.deleted") == [{"userId": created["userId"], "email": "saga@test.com"}]


def test_a_late_retry_does_not_resurrect_a_compensated_user():
    created = _create(saga_id="saga-late")
    saga.delete_user(saga_id="saga-late", user_id=created["userId"])

    with pytest.raises(services.SagaAlreadyCompensated, match="already undid"):
        _create(saga_id="saga-late", credential_ref=str(uuid.uuid4()))

    assert User.objects.count() == 0


def test_purge_deletes_only_expired_credentials():
    _stage("saga-old")
    _stage("saga-new")
    PendingCredential.objects.filter(saga_id="saga-old").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    purged = services.pending_credential_purge()

    assert purged == 1
    assert list(PendingCredential.objects.values_list("saga_id", flat=True)) == ["saga-new"]


def test_a_credential_expires_after_the_configured_time(settings):
    settings.AUTH_PENDING_CREDENTIAL_SECONDS = 90
    before = timezone.now()

    pending = services.pending_credential_stage(saga_id="saga-1", password=PASSWORD)

    assert (
        before + timedelta(seconds=90)
        <= pending.expires_at
        <= timezone.now() + timedelta(seconds=90)
    )


def test_the_auth_worker_purges_expired_credentials_periodically():
    steps = {step.__name__: step for step in current_app.steps["worker"]}
    purge = steps["Periodic_pending_credential_purge"]

    assert purge.job == "accounts.services.pending_credential_purge"
    assert purge.interval_setting == "AUTH_PENDING_CREDENTIAL_PURGE_SECONDS"


def test_injected_failure_switch(settings):
    settings.SAGA_FAIL_STEPS = ["auth.saga.create_user"]

    with pytest.raises(Exception, match="on purpose"):
        _create()
