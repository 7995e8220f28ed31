"""Every event type the gateway service consumes, and what it does with it.

The gateway applies no event through its worker (`HANDLERS` is empty). Each web process hears
the types in `EDGE_PURGES` itself, on a private queue, and drops the answers it keeps in memory
with those tags (`proxy/edge_cache.py`): event type pattern (AMQP topic) -> tags made stale.
"""

HANDLERS: dict[str, str] = {}

EDGE_PURGES: dict[str, list[str]] = {
    # The video service's own events only: `video.watched` (streaming's) changes no catalog
    # answer, and a session ends too often to empty the cache each time.
    **{
        f"video.{change}": ["catalog"]
        for change in ("uploaded", "ready", "failed", "updated", "deleted")
    },
    "analytics.projections.advanced": ["analytics"],
}
