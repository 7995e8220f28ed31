import pytest
from rest_framework.test import APIClient

from common.events.models import OutboxEvent

# Every test hashes with the production hasher (Argon2id, ~30 ms a hash): what the tests pass
# with is what the service runs, and the suite stays quick enough without a fast stand-in.


@pytest.fixture
def api():
    return APIClient()


def events(type: str) -> list[dict]:
    """Data of the events of `type` in the outbox, oldest first."""
    return [
        e.envelope["data"] for e in OutboxEvent.objects.filter(type=type).order_by("created_at")
    ]
