"""No input makes a public endpoint answer 500, and bad input changes nothing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=6,
)
keys = st.sampled_from(["email", "password", "firstName", "lastName", "refreshToken", "extra"])
bodies = st.dictionaries(keys, values, max_size=5) | values

ROUTES = ["register", "login", "token/refresh", "logout", "verify", "profile"]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(ROUTES), body=bodies, method=st.sampled_from(["post", "put"]))
def test_public_routes_never_answer_500(route, body, method):
    before = User.objects.count()
    response = getattr(APIClient(), method)(
        f"/api/auth/{route}", json.dumps(body), content_type="application/json"
    )

    assert response.status_code < 500, (route, body, response.content[:300])
    assert set(response.json()) >= {"error"} or response.status_code < 300
    if response.status_code >= 400:
        assert User.objects.count() == before


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_are_refused_cleanly(raw):
    response = APIClient().generic(
        "POST", "/api/auth/register", raw, content_type="application/json"
    )

    assert response.status_code in (400, 415)
    assert User.objects.count() == 0


@pytest.mark.parametrize("header", ["abc", "-5"])
def test_invalid_content_length_is_400_not_500(header):
    response = APIClient().generic(
        "POST",
        "/api/auth/login",
        "{}",
        content_type="application/json",
        CONTENT_LENGTH=header,
    )

    assert response.status_code == 400
