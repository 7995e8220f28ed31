"""Streaming's calls to other services: video metadata over gRPC, charges over HTTP.

Every call has a deadline and goes through the upstream's circuit breaker (`common.breakers`),
so a slow or dead upstream costs at most one timeout per call while its breaker is closed and
nothing once it is open. Failures surface as `UpstreamUnavailable` (503 to the client).
"""

from dataclasses import dataclass

import grpc
from django.conf import settings

from common import upstreams
from common.auth.service_tokens import authorization_header
from common.breakers import UpstreamUnavailable, guarded
from common.env import grpc_target
from common.errors import DomainError
from common.rpc.client import channel_to
from common.rpc.protos import proto_modules

VIDEO_BREAKER = "video-grpc"
BILLING = "billing"


class VideoNotFound(DomainError):
    status, message = 404, "Video not found"


class InsufficientFunds(Exception):
    def __init__(self, balance: int | None):
        super().__init__(f"insufficient funds (balance {balance})")
        self.balance = balance


class BillingRefused(DomainError):
    """Billing answered a 4xx other than 402: a bug on our side, never retried blindly, and
    answered as a bad upstream exchange."""

    status, message = 502, "Billing refused the charge request"

    def details(self) -> list[dict]:
        return [{"message": str(self)}]


@dataclass(frozen=True)
class VideoInfo:
    id: int
    title: str
    status: str
    duration: float
    price_per_minute: int
    media_path: str
    hls_path: str
    details: dict


@dataclass(frozen=True)
class Charge:
    transaction_id: int
    balance: int
    replayed: bool


def video_get(*, video_id: int) -> VideoInfo:
    """Video metadata from gRPC GetVideo; raise VideoNotFound or UpstreamUnavailable."""
    if not 0 < video_id < 2**63:
        raise VideoNotFound(video_id)
    pb2, pb2_grpc = proto_modules("video")
    stub = pb2_grpc.VideoServiceStub(channel_to(grpc_target("video")))
    try:
        with guarded(VIDEO_BREAKER):
            reply = stub.GetVideo(
                pb2.GetVideoRequest(video_id=video_id), timeout=settings.STREAMING_VIDEO_TIMEOUT
            )
    except grpc.RpcError as exc:
        if exc.code() in {
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.INVALID_ARGUMENT,
        }:
            raise VideoNotFound(video_id) from exc
        raise
    return _video_info(reply.video)


def _video_info(video) -> VideoInfo:
    details = {
        "id": video.id,
        "title": video.title,
        "description": video.description,
        "category": video.category,
        "duration": video.duration_seconds,
        "pricePerMinute": video.price_per_minute,
        "filename": video.filename,
        "status": video.status,
        "uploadedBy": video.uploaded_by,
        "thumbnailUrl": video.thumbnail_url or None,
        "createdAt": video.created_at,
        "updatedAt": video.updated_at,
    }
    return VideoInfo(
        id=video.id,
        title=video.title,
        status=video.status,
        duration=video.duration_seconds,
        price_per_minute=video.price_per_minute,
        media_path=video.media_path,
        hls_path=video.hls_path,
        details=details,
    )


def billing_charge(
    *, user_id: int, amount: int, idempotency_key: str, video_id: int, session_id: str
) -> Charge:
    """Charge through billing's internal endpoint; the same key never charges twice.

    Raise InsufficientFunds (402), BillingRefused (other 4xx) or UpstreamUnavailable.
    """
    response = _billing_post(
        "/api/billing/charge",
        {
            "userId": user_id,
            "amount": amount,
            "idempotencyKey": idempotency_key,
            "videoId": video_id,
            "sessionId": session_id,
            "description": f"Video {video_id}, {idempotency_key.rsplit(':', 1)[-1]}. minute",
        },
    )
    body = response.json()
    if response.status_code == 402:
        raise InsufficientFunds(body.get("balance"))
    if response.status_code >= 400:
        raise BillingRefused(f"charge {idempotency_key}: {response.status_code} {body}")
    return Charge(body["transactionId"], body["balance"], body["replayed"])


def billing_refund(*, idempotency_key: str, reason: str) -> bool:
    """Give back the charge made with `idempotency_key`; False if billing has no such charge."""
    response = _billing_post(
        "/api/billing/refund", {"idempotencyKey": idempotency_key, "reason": reason}
    )
    if response.status_code >= 400:
        raise BillingRefused(f"refund {idempotency_key}: {response.status_code}")
    return bool(response.json()["refunded"])


def _billing_post(path: str, body: dict) -> upstreams.Response:
    return upstreams.request(
        BILLING,
        "POST",
        path,
        json=body,
        headers={
            "Authorization": authorization_header(audience="billing", scopes=["billing.charge"])
        },
        timeout=settings.STREAMING_BILLING_TIMEOUT,
    )


def surely_not_sent(exc: UpstreamUnavailable) -> bool:
    """True when the failed call never reached the upstream (breaker open, no connection).

    Otherwise (timeout, 5xx, connection dropped mid-request) the upstream may have acted.
    """
    return upstreams.surely_not_sent(exc)


__all__ = [
    "BillingRefused",
    "Charge",
    "InsufficientFunds",
    "UpstreamUnavailable",
    "VideoInfo",
    "VideoNotFound",
    "billing_charge",
    "billing_refund",
    "surely_not_sent",
    "video_get",
]
