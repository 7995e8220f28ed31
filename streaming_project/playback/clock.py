"""The one clock billing trusts: the server's. Tests replace `now` to travel in time."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
