"""Passwords are stored with Argon2id at OWASP's parameters; older hashes move to it at login."""

import argon2
import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import User
from accounts.tests.factories import PASSWORD, login, make_user

pytestmark = pytest.mark.django_db

OWASP = {"type": argon2.Type.ID, "memory_cost": 19456, "time_cost": 2, "parallelism": 1}


def _params(encoded: str) -> dict:
    algorithm, rest = encoded.split("$", 1)
    assert algorithm == "argon2"
    found = argon2.extract_parameters("$" + rest)
    return {name: getattr(found, name) for name in OWASP}


def _stored(user: User) -> str:
    return User.objects.values_list("password", flat=True).get(id=user.id)


def test_a_new_password_is_stored_as_argon2id_with_owasp_parameters():
    user = make_user()

    assert _params(_stored(user)) == OWASP


def test_a_pbkdf2_hash_becomes_argon2id_at_the_next_successful_login(api):
    user = make_user()
    legacy = make_password(PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(id=user.id).update(password=legacy)
    assert legacy.startswith("pbkdf2_sha256$1000000$")

    login(api, user)

    upgraded = _stored(user)
    assert _params(upgraded) == OWASP
    assert User.objects.get(id=user.id).check_password(PASSWORD)
    login(api, user)  # and the new hash lets the same password in
    assert _stored(user) == upgraded  # once upgraded, a login rewrites nothing


def test_a_wrong_password_leaves_a_pbkdf2_hash_as_it_is(api):
    user = make_user()
    legacy = make_password(PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(id=user.id).update(password=legacy)

    response = api.post(
        "/api/auth/login", {"email": user.email, "password": "not-the-password"}, format="json"
    )

    assert response.status_code == 401
    assert _stored(user) == legacy


def test_an_argon2_hash_with_weaker_or_other_parameters_is_rehashed_at_login(api):
    user = make_user()
    other = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=2).hash(PASSWORD)
    User.objects.filter(id=user.id).update(password=f"argon2{other}")

    login(api, user)

    assert _params(_stored(user)) == OWASP
