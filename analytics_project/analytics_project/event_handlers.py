"""Every event type the analytics service consumes, and the handler that applies it.

All of them go to the event store through one handler; the projectors decide what each means.
The worker takes them in batches through `insights.events.handle_events` (see `celery.py`);
`handle_event` serves anything that applies a single event.
"""

HANDLERS: dict[str, str] = {
    "user.registered": "insights.events.handle_event",
    "user.logged_in": "insights.events.handle_event",
    "user.deleted": "insights.events.handle_event",
    "video.uploaded": "insights.events.handle_event",
    "video.ready": "insights.events.handle_event",
    "video.failed": "insights.events.handle_event",
    "video.deleted": "insights.events.handle_event",
    "stream.started": "insights.events.handle_event",
    "stream.ended": "insights.events.handle_event",
    "video.watched": "insights.events.handle_event",
    "payment.processed": "insights.events.handle_event",
    "payment.refunded": "insights.events.handle_event",
    "wallet.credited": "insights.events.handle_event",
}
