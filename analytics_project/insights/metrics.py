"""The projection's figures: where the event store's head is and how far each projector lags."""

from prometheus_client.core import GaugeMetricFamily

from common.metrics.state import gauge
from insights.models import Checkpoint
from insights.selectors import snapshot_current


def projections():
    snapshot = snapshot_current()
    yield gauge(
        "streamify_event_store_head_position",
        "Position of the newest event in the event store",
        snapshot.head_position,
    )
    lag = GaugeMetricFamily(
        "streamify_projection_lag_events",
        "Stored events the active generation's projector has not applied yet",
        labels=["projector"],
    )
    for projector in (Checkpoint.READ_MODELS, Checkpoint.DAILY_METRICS):
        lag.add_metric([projector], snapshot.freshness(projector).lag_events)
    yield lag
