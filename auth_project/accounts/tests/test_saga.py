"""Auth's registration saga steps, called as the auth worker runs them."""

import pytest
from celery import current_app
from django.contrib.auth.hashers import make_password

from accounts import saga
from accounts.models import User
from accounts.tests.conftest import events
from accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db


def _create(saga_id="saga-1", email="saga@test.com", password_hash=None, **overrides):
    kwargs = {
        "saga_id": saga_id,
        "email": email,
        "password_hash": password_hash or make_password("password123"),
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


def test_create_user_stores_the_given_hash_and_returns_the_contract():
    result = _create(email="Saga@Test.com")

    user = User.objects.get()
    assert result == {
        "userId": user.id,
        "email": "saga@test.com",
        "firstName": "Saga",
        "lastName": "Test",
    }
    assert user.check_password("password123")
    assert len(events("user.registered")) == 1


def test_create_user_is_idempotent_by_saga_id():
    first = _create()
    second = _create()

    assert first == second
    assert User.objects.count() == 1
    assert len(events("user.registered")) == 1


def test_create_user_refuses_a_plaintext_password():
    answer = _create(password_hash="password123")

    assert answer["rejected"]["code"] == "invalid"
    assert "password_hash" in answer["rejected"]["message"]
    assert User.objects.count() == 0


def test_create_user_with_taken_email_says_so():
    make_user(email="taken@example.com")

    answer = _create(email="TAKEN@example.com")

    assert answer == {
        "rejected": {
            "code": "email_taken",
            "message": "email already registered: taken@example.com",
        }
    }


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

    with pytest.raises(Exception, match="already undid"):
        _create(saga_id="saga-late")

    assert User.objects.count() == 0


def test_injected_failure_switch(monkeypatch):
    monkeypatch.setenv("STREAMIFY_SAGA_FAIL_STEPS", "auth.saga.create_user")

    with pytest.raises(Exception, match="on purpose"):
        _create()
