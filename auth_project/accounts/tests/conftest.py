import pytest
from rest_framework.test import APIClient

from common.events.models import OutboxEvent

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_configure(config):
    config.addinivalue_line("markers", "real_hasher: keep Django's PBKDF2 (slow on purpose)")


@pytest.fixture(autouse=True)
def fast_hasher(request, settings):
    """PBKDF2 costs ~0.3 s a hash here; only tests about hashing itself pay for it."""
    if "real_hasher" not in request.keywords:
        settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def api():
    return APIClient()


def events(type: str) -> list[dict]:
    """Data of the events of `type` in the outbox, oldest first."""
    return [
        e.envelope["data"] for e in OutboxEvent.objects.filter(type=type).order_by("created_at")
    ]
