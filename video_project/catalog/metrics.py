"""Media processing: how long each upload's processing took and how it ended."""

from django.db.models import Count
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from catalog.models import Video, VideoStatus

PROCESSING = Histogram(
    "streamify_video_processing_seconds",
    "Time one processing attempt of an upload took (probe, thumbnail, HLS), by its outcome",
    ["outcome"],
    buckets=(0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0),
)
FAILURES = Counter(
    "streamify_video_processing_failures",
    "Processing attempts that raised, by whether the video was given up on (final) or retried",
    ["final"],
)


def videos():
    """Videos by status: `processing` is the queue of uploads not yet watchable."""
    counts = dict(Video.objects.values_list("status").annotate(n=Count("id")).order_by())
    family = GaugeMetricFamily("streamify_videos", "Videos by status", labels=["status"])
    for status in VideoStatus.values:
        family.add_metric([status], counts.get(status, 0))
    yield family
