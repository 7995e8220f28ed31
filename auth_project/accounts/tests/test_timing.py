"""Login must not reveal whether an email has an account, by answer or by time: an unknown
e-mail costs the same hash verification a wrong password does (checked by the work done, not
by a clock on a shared machine)."""

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
