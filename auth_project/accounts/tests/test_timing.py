"""Login must not reveal whether an email has an account, by answer or by time."""

import time
from unittest import mock

import pytest
from django.contrib.auth import hashers

from accounts import services
from accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_unknown_email_verifies_one_hash_of_the_configured_hasher():
    make_user(email="known@example.com")
    hasher = hashers.get_hasher()

    with mock.patch.object(
        type(hasher), "verify", autospec=True, side_effect=type(hasher).verify
    ) as spy:
        with pytest.raises(services.InvalidCredentials):
            services.user_authenticate(email="unknown@example.com", password="password123")
        unknown = spy.call_args_list.copy()
        spy.reset_mock()
        with pytest.raises(services.InvalidCredentials):
            services.user_authenticate(email="known@example.com", password="wrong-password")
        known = spy.call_args_list.copy()

    assert len(unknown) == len(known) == 1
    # The dummy is a hash of the configured hasher with its current parameters: the same work.
    dummy, stored = unknown[0].args[2], known[0].args[2]
    assert hashers.identify_hasher(dummy).algorithm == "argon2"
    assert hasher.decode(dummy)["params"] == hasher.decode(stored)["params"]
    assert not hasher.must_update(dummy)


def test_unknown_email_and_wrong_password_take_comparable_time():
    make_user(email="known@example.com")
    samples = {"unknown@example.com": [], "known@example.com": []}

    # Interleaved, and compared by their minimum: the cost itself, not the load of a shared box.
    for _ in range(7):
        for email, times in samples.items():
            started = time.perf_counter()
            with pytest.raises(services.InvalidCredentials):
                services.user_authenticate(email=email, password="wrong-password")
            times.append(time.perf_counter() - started)
    unknown, known = min(samples["unknown@example.com"]), min(samples["known@example.com"])

    # Without the dummy hash the unknown path is one query, ~100x faster; noise is < 2x.
    assert 0.5 < unknown / known < 2.0, (unknown, known)
