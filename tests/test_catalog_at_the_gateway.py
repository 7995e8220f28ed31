"""The catalog as the public reads it through the gateway, kept in the gateway's memory, never
outlives the video's own events: a deleted video is gone from it once `video.deleted` is in."""

import time

import jwt
import pytest
import requests

from common.testing.processes import wait_for
from common.testing.tokens import user_claims
from deploy.bench_http.dataset import clip


@pytest.mark.parametrize("kind", ["embedded", "real"])
def test_a_deleted_video_leaves_the_gateways_catalog_with_its_event(make_platform, kind, tmp_path):
    platform = make_platform(kind, ["video", "gateway"])
    platform.upstreams_closed("auth", "streaming", "billing", "analytics")
    platform.start_web("video")
    platform.start_worker("video")
    platform.start_web("gateway", WEB_CONCURRENCY="1")
    gateway = platform.url("gateway", "")
    key = (platform.var / "secrets" / "jwt_private.pem").read_text()
    owner = {"Authorization": f"Bearer {jwt.encode(user_claims(31), key, 'RS256')}"}

    with clip(tmp_path).open("rb") as handle:
        created = requests.post(
            f"{gateway}/api/videos",
            headers=owner,
            data={"title": "Edge case", "category": "edgetest"},
            files={"videoFile": ("edge.mp4", handle, "video/mp4")},
            timeout=60,
        )
    assert created.status_code == 201, created.text
    video_id = created.json()["id"]
    listing = f"{gateway}/api/videos?category=edgetest"

    def public_ids() -> list[int]:
        return [v["id"] for v in requests.get(listing, timeout=10).json()["videos"]]

    wait_for(lambda: public_ids() == [video_id], timeout=120, interval=0.5, what="ready")
    assert public_ids() == [video_id]  # now answered from the gateway's memory too

    deleted = requests.delete(f"{gateway}/api/videos/{video_id}", headers=owner, timeout=10)
    assert deleted.status_code == 200
    started = time.monotonic()
    wait_for(lambda: public_ids() == [], timeout=10, interval=0.05, what="gone at the gateway")
    print(f"{kind}: gone from the gateway's catalog {time.monotonic() - started:.2f} s after")
    assert all(public_ids() == [] for _ in range(10))
