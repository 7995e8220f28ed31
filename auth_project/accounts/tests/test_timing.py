"""Login must not reveal whether an email has an account, by answer or by time."""

import time
from unittest import mock

import pytest
from django.contrib.auth import hashers

from accounts import services
from accounts.tests.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.real_hasher]


def test_unknown_email_runs_one_hash_of_the_configured_hasher():
    make_user(email="known@example.com")
    hasher = hashers.get_hasher()
    assert (hasher.algorithm, hasher.iterations) == ("pbkdf2_sha256", 1_000_000)

    with mock.patch.object(
        type(hasher), "encode", autospec=True, side_effect=type(hasher).encode
    ) as spy:
        with pytest.raises(services.InvalidCredentials):
            services.user_authenticate(email="unknown@example.com", password="password123")
        unknown_calls = spy.call_count
        spy.reset_mock()
        with pytest.raises(services.InvalidCredentials):
            services.user_authenticate(email="known@example.com", password="wrong-password")
        known_calls = spy.call_count

    assert unknown_calls == 1
    assert known_calls == 1


def test_unknown_email_and_wrong_password_take_comparable_time():
    make_user(email="known@example.com")
    samples = {"unknown@example.com": [], "known@example.com": []}

    # Interleaved, and compared by their minimum: the cost itself, not the load of a shared box.
    for _ in range(5):
        for email, times in samples.items():
            started = time.perf_counter()
            with pytest.raises(services.InvalidCredentials):
                services.user_authenticate(email=email, password="wrong-password")
            times.append(time.perf_counter() - started)
    unknown, known = min(samples["unknown@example.com"]), min(samples["known@example.com"])

    # Without the dummy hash the unknown path is ~1000x faster; noise on a busy box is < 2x.
    assert 0.5 < unknown / known < 2.0, (unknown, known)
