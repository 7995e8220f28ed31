import os
from pathlib import Path

from common.settings import service_settings

globals().update(
    service_settings(
        "streaming",
        project_dir=Path(__file__).resolve().parent.parent,
        apps=["playback"],
    )
)

# A session without a heartbeat for this long stops serving bytes and is ended (and billed
# up to its last heartbeat) by the worker's sweep, which runs every STREAMING_SWEEP_SECONDS.
STREAMING_IDLE_TIMEOUT_SECONDS = float(os.environ.get("STREAMING_IDLE_TIMEOUT_SECONDS", "120"))
STREAMING_SWEEP_SECONDS = float(os.environ.get("STREAMING_SWEEP_SECONDS", "15"))
# A start whose first charge was never confirmed is refunded by the sweep after this long:
# longer than any charge request can stay in flight (gunicorn's timeout is 120 s).
STREAMING_START_GRACE_SECONDS = float(os.environ.get("STREAMING_START_GRACE_SECONDS", "300"))
# Deadlines of calls to billing (connect, read) and to video's gRPC GetVideo, in seconds.
STREAMING_BILLING_TIMEOUT = (
    float(os.environ.get("STREAMING_BILLING_CONNECT_TIMEOUT", "1")),
    float(os.environ.get("STREAMING_BILLING_READ_TIMEOUT", "5")),
)
STREAMING_VIDEO_TIMEOUT = float(os.environ.get("STREAMING_VIDEO_TIMEOUT", "2"))
