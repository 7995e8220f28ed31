"""Commands analytics accepts itself: a recorded view, and the registration saga's profile
step and compensation. Each is an event appended to the store under an id derived from what
makes it unique, so a retried step or a repeated Idempotency-Key appends nothing again."""

import uuid

from django.conf import settings

from insights import services
from insights.models import StoredEvent

# Ids of the commands analytics accepts itself are derived from what makes them unique, so
# a retried saga step or a repeated Idempotency-Key appends nothing the second time.
COMMAND_NAMESPACE = uuid.UUID("0b7f3c52-5d0e-4a57-9a55-3e0c1f0b8a61")


def view_record(
    *, user_id: int, video_id: int, watch_seconds: int, idempotency_key: str | None = None
) -> StoredEvent:
    """Record that `user_id` watched `video_id`; the same Idempotency-Key records it once."""
    event_id = (
        uuid.uuid5(COMMAND_NAMESPACE, f"view:{user_id}:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    event, _ = services.event_append(
        event_id=event_id,
        type="analytics.view_recorded",
        data={"userId": user_id, "videoId": video_id, "watchSeconds": watch_seconds},
        source=settings.EVENTS_SOURCE,
    )
    return event


def profile_create(*, saga_id: str, user_id: int, email: str) -> bool:
    """Give `user_id` an active viewer profile; the same saga creates it once. Return whether
    this call created it (False: the saga's profile already existed).

    The stored event is the profile: the step is done once it is appended. The read models
    show it when the projector applies it with whatever else arrived (in a worker, its thread,
    a moment later; elsewhere before this returns): projecting each registration on its own
    cost a registration saga more than any other analytics work.
    """
    event = services.NewEvent(
        event_id=uuid.uuid5(COMMAND_NAMESPACE, f"saga:{saga_id}:profile_created"),
        type="analytics.profile_created",
        data={"userId": user_id, "email": email, "sagaId": str(saga_id)},
        source=settings.EVENTS_SOURCE,
        correlation_id=str(saga_id),
    )
    return bool(services.events_ingest(events=[event]))


def profile_delete(*, saga_id: str, user_id: int) -> bool:
    """Deactivate the profile (saga compensation); return whether one was active.

    The answer is stored in the command event, so a retried compensation repeats it.
    """
    from insights.selectors import user_profile_active

    event_id = uuid.uuid5(COMMAND_NAMESPACE, f"saga:{saga_id}:profile_deleted")
    previous = StoredEvent.objects.filter(event_id=event_id).first()
    if previous is not None:
        return bool(previous.payload["existed"])
    # The profile is read from the read models: first let them apply a profile_created the
    # projector has not reached yet (profile_create leaves that to it).
    services.projections_catch_up()
    event, _ = services.event_append(
        event_id=event_id,
        type="analytics.profile_deleted",
        data={"userId": user_id, "sagaId": str(saga_id), "existed": user_profile_active(user_id)},
        source=settings.EVENTS_SOURCE,
        correlation_id=str(saga_id),
    )
    return bool(event.payload["existed"])
