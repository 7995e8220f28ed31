import pytest
from rest_framework.test import APIClient

from common.testing.tokens import bearer


@pytest.fixture
def client_for():
    """An API client signed in as `user_id` (staff if asked)."""

    def make(user_id: int, *, is_staff: bool = False) -> APIClient:
        return APIClient(HTTP_AUTHORIZATION=bearer(user_id, is_staff=is_staff)["Authorization"])

    return make


@pytest.fixture(autouse=True)
def empty_read_cache():
    """Each test starts with an empty read cache (ids restart when a test database rolls back)."""
    from insights.readcache import answers

    answers.clear()
    yield
    answers.clear()
