"""Streaming's Celery app, plus a periodic sweep on each worker that ends idle sessions.

Several workers sweeping at once is safe: rows are taken with SKIP LOCKED, and each session
is settled under its row lock.
"""

from common.workers import create_app, periodic_step

app = create_app("streaming")
app.steps["worker"].add(
    periodic_step("playback.services.sessions_sweep", "STREAMING_SWEEP_SECONDS")
)
