"""Two replicas of streaming and of billing on one machine, on the same PostgreSQL and
RabbitMQ: heartbeats of one session sent at once to both streaming replicas pay each started
minute exactly once, and streaming reaches billing's replicas in turn (`BILLING_URL` lists
both)."""

import threading
import time

import pytest
import requests

from deploy.bench_http.dataset import clip
from tests.support.full_platform import booted_full_platform

FILM_SECONDS = 70  # a second minute to pay
BEATS = 8


@pytest.fixture(scope="module")
def full():
    with booted_full_platform() as platform:
        platform.platform.start_worker("video", concurrency=1)
        yield platform


@pytest.mark.real_backends
def test_heartbeats_at_two_streaming_replicas_pay_each_minute_once(full, tmp_path):
    billing = f"{full.url('billing')},{full.start_replica('billing')}"
    streaming = [full.url("streaming"), full.start_replica("streaming", BILLING_URL=billing)]
    film = clip(tmp_path, seconds=FILM_SECONDS)
    video_id = full.upload_ready(film, title="Two minutes to pay", pricePerMinute="7").json()["id"]
    headers = full.user_headers()
    started = requests.post(
        f"{streaming[1]}/api/stream/start/{video_id}", headers=headers, json={}, timeout=30
    ).json()
    session_id = started["sessionId"]
    # The second minute starts 60 s into the session, by the server's clock.
    time.sleep(61)
    barrier = threading.Barrier(BEATS)
    answers: list[dict] = []

    def beat(url: str) -> None:
        barrier.wait()
        answer = requests.put(f"{url}/api/stream/heartbeat/{session_id}", headers=headers,
                              json={}, timeout=30)  # fmt: skip
        answers.append(answer.json())

    threads = [threading.Thread(target=beat, args=(streaming[i % 2],)) for i in range(BEATS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    charges = full.platform.query(
        "billing",
        "SELECT idempotency_key, amount FROM wallets_ledgerentry "
        "WHERE idempotency_key LIKE %s ORDER BY idempotency_key",
        (f"{session_id}:%",),
    )

    assert started["minutesCharged"] == 1
    assert [a["minutesCharged"] for a in answers] == [2] * BEATS
    assert [a["charged"] for a in answers] == [14] * BEATS
    assert charges == [(f"{session_id}:1", -7), (f"{session_id}:2", -7)]
