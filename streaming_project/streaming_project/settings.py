from pathlib import Path

from common import env
from common.env import ENV
from common.settings import service_settings

globals().update(
    service_settings(
        "streaming",
        project_dir=Path(__file__).resolve().parent.parent,
        apps=["playback"],
        metrics_state=("playback.metrics.sessions",),
    )
)

# A session without a heartbeat for this long stops serving bytes and is ended (and billed
# up to its last heartbeat) by the worker's sweep, which runs every STREAMING_SWEEP_SECONDS.
STREAMING_IDLE_TIMEOUT_SECONDS = ENV.float("STREAMING_IDLE_TIMEOUT_SECONDS", default=120.0)
STREAMING_SWEEP_SECONDS = ENV.float("STREAMING_SWEEP_SECONDS", default=15.0)
# A start whose first charge was never confirmed is refunded by the sweep after this long:
# longer than any charge request can stay in flight (its read timeout, STREAMING_BILLING_TIMEOUT).
STREAMING_START_GRACE_SECONDS = ENV.float("STREAMING_START_GRACE_SECONDS", default=300.0)
# Deadlines of calls to billing (connect, read) and to video's gRPC GetVideo, in seconds.
STREAMING_BILLING_TIMEOUT = (
    ENV.float("STREAMING_BILLING_CONNECT_TIMEOUT", default=1.0),
    ENV.float("STREAMING_BILLING_READ_TIMEOUT", default=5.0),
)
STREAMING_VIDEO_TIMEOUT = ENV.float("STREAMING_VIDEO_TIMEOUT", default=2.0)

# Pay-per-minute delivery (docs/streaming.md): a session fetches media only up to its paid time
# (60 s per charged minute) plus this read-ahead, which must stay well above the players'
# heartbeat interval (the web UI beats every 10 s).
STREAMING_READ_AHEAD_SECONDS = ENV.float("STREAMING_READ_AHEAD_SECONDS", default=30.0)
# Media URLs are signed with a key only this service holds. A URL lives for the watch time
# left in its session plus this margin for pauses and stalls: a video element keeps the URL it
# was given for the whole playback. Ending the session revokes it sooner.
STREAMING_MEDIA_URL_SECRET = env.secret("STREAMING_MEDIA_URL_SECRET")
STREAMING_MEDIA_URL_GRACE_SECONDS = ENV.float("STREAMING_MEDIA_URL_GRACE_SECONDS", default=600.0)
