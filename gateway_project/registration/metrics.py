"""The registration saga's figures: how many sagas are in each state and how long they took."""

from django.db.models import Count, Min
from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily

from common.metrics.state import gauge, seconds_since
from registration.models import Saga

SAGA_DURATION = Histogram(
    "streamify_saga_duration_seconds",
    "Time from a registration saga's start to its end, by how it ended",
    ["status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
UNFINISHED = (Saga.Status.RUNNING, Saga.Status.COMPENSATING)


def saga_ended(saga: Saga) -> None:
    SAGA_DURATION.labels(saga.status).observe(seconds_since(saga.created_at))


def sagas():
    """Sagas by state, and the age of the oldest one still running or compensating."""
    counts = dict(Saga.objects.values_list("status").annotate(n=Count("id")).order_by())
    family = GaugeMetricFamily("streamify_sagas", "Registration sagas by state", labels=["status"])
    for status in Saga.Status.values:
        family.add_metric([status], counts.get(status, 0))
    yield family
    oldest = Saga.objects.filter(status__in=UNFINISHED).aggregate(at=Min("created_at"))["at"]
    yield gauge(
        "streamify_saga_oldest_unfinished_seconds",
        "Age of the oldest saga still running or compensating (0 when none)",
        seconds_since(oldest),
    )
