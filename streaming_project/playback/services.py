"""Playback sessions and their billing: every started minute charged exactly once.

Time is the server's (`playback.clock.now`). Billable time runs from start to the end (or, for a
session ended for silence, to its last heartbeat), capped at the video's duration; minute `m`
is due once billable time passes `(m - 1) * 60` seconds, and minute 1 is paid at start.

Exactly once: each minute is charged with the key `<session>:<minute>`, which billing never
charges twice, and the session row is locked (SELECT ... FOR UPDATE) while its minutes are
charged, so concurrent heartbeats of one session take turns and `minutes_charged` stays exact.
A billing outage rolls the request back (503) and leaves the minutes due for the next try.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from common.errors import DomainError
from common.events import publish
from playback import clients, clock, metrics
from playback.models import EndReason, SessionStatus, StreamSession

logger = logging.getLogger(__name__)

MICROSECONDS_PER_MINUTE = 60_000_000


class PlaybackError(DomainError):
    """A request the session refuses (an ending it caused is kept, nothing else changes)."""


class SessionNotFound(PlaybackError):
    status, message = 404, "Session not found"


class SessionEnded(PlaybackError):
    status, message = 410, "Session has ended"

    def __init__(self, session: StreamSession):
        super().__init__(f"session {session.id} has ended ({session.end_reason})")
        self.session = session

    def fields(self) -> dict:
        return {"reason": self.session.end_reason}


class VideoNotReady(PlaybackError):
    status = 409


class PaymentRequired(PlaybackError):
    """The wallet cannot pay the minute now due; the session (if any) has been ended."""

    status, message = 402, "Insufficient funds"

    def __init__(self, balance: int | None, session: StreamSession | None = None):
        super().__init__(f"insufficient funds (balance {balance})")
        self.balance, self.session = balance, session

    def fields(self) -> dict:
        return {"balance": self.balance, "sessionEnded": self.session is not None}


@dataclass(frozen=True)
class Heartbeat:
    session: StreamSession
    watched_seconds: float


def charge_key(session_id, minute: int) -> str:
    return f"{session_id}:{minute}"


def billable_seconds(session: StreamSession, *, until: datetime) -> float:
    """Server-measured watch time up to `until`, never negative, capped at the video's length."""
    elapsed = max(timedelta(0), until - session.started_at)
    return min(elapsed.total_seconds(), session.duration_seconds)


def minutes_due(session: StreamSession, *, until: datetime) -> int:
    """Started minutes at `until` (at least the first), counted in whole microseconds."""
    elapsed_us = max(0, _microseconds(until - session.started_at))
    billable_us = min(elapsed_us, round(session.duration_seconds * 1_000_000))
    return max(1, -(-billable_us // MICROSECONDS_PER_MINUTE))


def _microseconds(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def idle_deadline(session: StreamSession) -> datetime:
    return session.last_heartbeat_at + timedelta(seconds=settings.STREAMING_IDLE_TIMEOUT_SECONDS)


def session_is_live(session: StreamSession, *, now: datetime) -> bool:
    """Active and heard from recently: only such a session serves bytes or takes heartbeats."""
    return session.status == SessionStatus.ACTIVE and now <= idle_deadline(session)


def session_start(*, user_id: int, video_id: int) -> StreamSession:
    """Open a session on a ready video once its first minute is paid, and emit `stream.started`.

    The row is written (`starting`) before the charge is sent: if the process dies after billing
    charged, `sessions_sweep` finds the row and refunds the minute. When the charge is refused or
    surely never reached billing, the row is removed again: no session, no charge. A `starting`
    row never serves bytes, takes heartbeats or shows in the active list.
    """
    video = clients.video_get(video_id=video_id)
    if video.status != "ready" or not video.media_path or not video.duration:
        raise VideoNotReady(f"video {video_id} is {video.status}, not ready")
    now = clock.now()
    session = StreamSession.objects.create(
        id=uuid.uuid4(),
        user_id=user_id,
        video_id=video.id,
        price_per_minute=video.price_per_minute,
        duration_seconds=video.duration,
        media_path=video.media_path,
        hls_path=video.hls_path,
        video=video.details,
        started_at=now,
        last_heartbeat_at=now,
    )
    try:
        balance = _charge_minute(session, 1)
    except clients.InsufficientFunds as exc:
        session.delete()
        raise PaymentRequired(exc.balance) from exc
    except clients.BillingRefused:
        session.delete()
        raise
    except clients.UpstreamUnavailable as exc:
        _abandon_start(session, sent=not clients.surely_not_sent(exc))
        raise
    with transaction.atomic():
        session.status = SessionStatus.ACTIVE
        session.minutes_charged = 1
        session.last_balance = balance
        session.save(update_fields=["status", "minutes_charged", "last_balance"])
        publish(
            "stream.started",
            {
                "sessionId": str(session.id),
                "userId": user_id,
                "videoId": session.video_id,
                "pricePerMinute": session.price_per_minute,
                "startedAt": session.started_at.isoformat(),
            },
        )
    return session


def _abandon_start(session: StreamSession, *, sent: bool) -> None:
    """Undo a start whose first charge failed. A charge that never reached billing leaves
    nothing to undo. One that may have (timeout, 5xx) is refunded now if billing answers, and
    the `starting` row stays until the sweep, after the grace period, refunds again (a no-op if
    done) and removes it: a charge still in flight when the first refund ran is caught then."""
    if sent:
        _refund_first_minute(session)
    else:
        session.delete()


def _refund_first_minute(session: StreamSession) -> bool:
    if session.price_per_minute == 0:
        return True
    try:
        clients.billing_refund(
            idempotency_key=charge_key(session.id, 1), reason="stream start abandoned"
        )
    except (clients.UpstreamUnavailable, clients.BillingRefused) as exc:
        logger.warning("refund of abandoned start %s deferred: %s", session.id, exc)
        return False
    return True


def _charge_minute(session: StreamSession, minute: int) -> int | None:
    """Charge minute `minute` of `session` (a no-op for free videos); return the new balance."""
    if session.price_per_minute == 0:
        return session.last_balance
    charge = clients.billing_charge(
        user_id=session.user_id,
        amount=session.price_per_minute,
        idempotency_key=charge_key(session.id, minute),
        video_id=session.video_id,
        session_id=str(session.id),
    )
    if not charge.replayed:
        metrics.MINUTES_CHARGED.inc()
    return charge.balance


def _charge_due(session: StreamSession, *, until: datetime) -> None:
    """Charge each due minute not yet charged, in order, saving progress after each one.

    Raise clients.InsufficientFunds at the first minute the wallet cannot pay.
    """
    for minute in range(session.minutes_charged + 1, minutes_due(session, until=until) + 1):
        session.last_balance = _charge_minute(session, minute)
        session.minutes_charged = minute
        session.save(update_fields=["minutes_charged", "last_balance"])


def _locked(session_id: uuid.UUID | int, *, user_id: int | None = None) -> StreamSession:
    """The session named by its UUID or its number, locked."""
    sessions = StreamSession.objects.select_for_update().exclude(status=SessionStatus.STARTING)
    if user_id is not None:
        sessions = sessions.filter(user_id=user_id)
    name = "number" if isinstance(session_id, int) else "pk"
    session = sessions.filter(**{name: session_id}).first()
    if session is None:
        raise SessionNotFound(session_id)
    return session


def session_heartbeat(*, session_id: uuid.UUID, user_id: int) -> Heartbeat:
    """Record that the owner is watching and charge every minute now due, each exactly once.

    A session silent past the idle timeout is ended instead (billed to its last heartbeat) and
    SessionEnded raised; a minute the wallet cannot pay ends the session and raises
    PaymentRequired. Either error is raised after the commit, so the ending is kept.
    """
    now = clock.now()
    with transaction.atomic():
        session = _locked(session_id, user_id=user_id)
        refusal = _beat(session, now=now)
    if refusal is not None:
        raise refusal
    return Heartbeat(session, billable_seconds(session, until=now))


def _beat(session: StreamSession, *, now: datetime) -> PlaybackError | None:
    if session.status == SessionStatus.ACTIVE and not session_is_live(session, now=now):
        _settle_and_end(session, until=session.last_heartbeat_at, reason=EndReason.IDLE)
    if session.status == SessionStatus.ENDED:
        return SessionEnded(session)
    session.last_heartbeat_at = max(session.last_heartbeat_at, now)
    session.save(update_fields=["last_heartbeat_at"])
    try:
        _charge_due(session, until=now)
    except clients.InsufficientFunds as exc:
        _end(session, at=now, reason=EndReason.INSUFFICIENT_FUNDS)
        return PaymentRequired(exc.balance, session)
    return None


def session_end(*, session_id: uuid.UUID | int, user_id: int) -> StreamSession:
    """Charge what is due up to now, end the session and emit `stream.ended` + `video.watched`.
    The session is named by its UUID or its number.

    Ending an ended session returns it unchanged. When the wallet cannot pay the last minutes,
    the session still ends, with what was paid.
    """
    now = clock.now()
    with transaction.atomic():
        session = _locked(session_id, user_id=user_id)
        if session.status == SessionStatus.ENDED:
            return session
        if session_is_live(session, now=now):
            _settle_and_end(session, until=now, reason=EndReason.USER)
        else:
            _settle_and_end(session, until=session.last_heartbeat_at, reason=EndReason.IDLE)
        return session


def _settle_and_end(session: StreamSession, *, until: datetime, reason: str) -> None:
    try:
        _charge_due(session, until=until)
    except clients.InsufficientFunds:
        reason = EndReason.INSUFFICIENT_FUNDS
    _end(session, at=until, reason=reason)


def _end(session: StreamSession, *, at: datetime, reason: str) -> None:
    """Mark the (locked) session ended at `at` and emit its closing events."""
    session.status = SessionStatus.ENDED
    session.ended_at = at
    session.end_reason = reason
    session.save(update_fields=["status", "ended_at", "end_reason"])
    watched = round(billable_seconds(session, until=at), 3)
    common = {"sessionId": str(session.id), "userId": session.user_id, "videoId": session.video_id}
    publish(
        "stream.ended",
        {
            **common,
            "watchSeconds": watched,
            "amountCharged": session.amount_charged,
            "minutesCharged": session.minutes_charged,
            "reason": reason,
            "endedAt": at.isoformat(),
        },
    )
    publish("video.watched", {**common, "watchSeconds": watched, "amount": session.amount_charged})


def sessions_sweep(*, now: datetime | None = None, batch: int = 100) -> dict:
    """End sessions silent past the idle timeout; refund starts abandoned before they opened.

    Safe to run in several workers at once: each row is taken with SKIP LOCKED. A session whose
    settlement needs billing while billing is down is left for the next sweep (it already
    serves no bytes: it is not live).
    """
    now = now or clock.now()
    cutoff = now - timedelta(seconds=settings.STREAMING_IDLE_TIMEOUT_SECONDS)
    ended = abandoned = 0
    idle = StreamSession.objects.filter(status=SessionStatus.ACTIVE, last_heartbeat_at__lt=cutoff)
    for session_id in list(idle.values_list("pk", flat=True)[:batch]):
        try:
            with transaction.atomic():
                session = (
                    StreamSession.objects.select_for_update(skip_locked=True)
                    .filter(pk=session_id, status=SessionStatus.ACTIVE)
                    .first()
                )
                if session is None or session_is_live(session, now=now):
                    continue
                _settle_and_end(session, until=session.last_heartbeat_at, reason=EndReason.IDLE)
                ended += 1
        except clients.UpstreamUnavailable as exc:
            logger.warning("idle session %s not settled yet: %s", session_id, exc)
    grace = now - timedelta(seconds=settings.STREAMING_START_GRACE_SECONDS)
    stale = StreamSession.objects.filter(status=SessionStatus.STARTING, created_at__lt=grace)
    for session in list(stale[:batch]):
        if _refund_first_minute(session):
            session.delete()
            abandoned += 1
    return {"ended": ended, "abandoned": abandoned}


def sessions_end_for_video(*, video_id: int) -> int:
    """Stop every active session of a deleted video now; minutes already paid stay paid."""
    now = clock.now()
    count = 0
    for session in StreamSession.objects.select_for_update().filter(
        video_id=video_id, status=SessionStatus.ACTIVE
    ):
        _end(session, at=min(now, idle_deadline(session)), reason=EndReason.VIDEO_DELETED)
        count += 1
    return count
