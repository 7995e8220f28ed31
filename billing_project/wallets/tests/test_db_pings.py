"""A kept PostgreSQL connection is pinged before use only once it has sat idle."""

import pytest
from django.db import connection, connections

from common.pgbackend import base

pytestmark = pytest.mark.django_db


@pytest.fixture
def pings(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    calls = []
    real = base.DatabaseWrapper.is_usable

    def counting(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", counting)
    return calls


def _next_request():
    """What Django does between requests (close_old_connections), then a first query."""
    connection.health_check_done = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_a_busy_connection_is_not_pinged_and_an_idle_one_is(pings, monkeypatch):
    assert isinstance(connections["default"], base.DatabaseWrapper)
    _next_request()
    for _ in range(5):
        _next_request()
    busy = len(pings)

    monkeypatch.setattr(base, "IDLE_SECONDS", 0.0)
    _next_request()

    assert busy == 0
    assert len(pings) == 1
