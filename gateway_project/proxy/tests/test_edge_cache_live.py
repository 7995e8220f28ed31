"""Tagged public reads answered from the gateway's memory, dropped by the events that change them
(a real gateway process, the embedded broker, an upstream that counts its calls)."""

import requests

from common.broker import connect
from common.events.topology import EVENTS_EXCHANGE
from common.testing.processes import wait_for

TAGGED = "/api/videos/tagged"


def _calls(url: str, **headers) -> int:
    response = requests.get(f"{url}{TAGGED}", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["calls"]


def _publish(platform, event_type: str) -> None:
    with connect(platform.var_dir / "broker") as connection:
        connection.Producer().publish(
            {"type": event_type},
            exchange=EVENTS_EXCHANGE,
            routing_key=event_type,
            declare=[EVENTS_EXCHANGE],
            retry=True,
        )


def _kept(url: str) -> int:
    """Wait until the gateway answers from memory (its listener is up); the count it keeps."""
    return wait_for(
        lambda: (first := _calls(url)) == _calls(url) and first, timeout=30, what="kept"
    )


def test_an_anonymous_tagged_read_is_kept_until_a_video_event_arrives(platform, gateway):
    platform.upstream("video")
    url = gateway(WEB_CONCURRENCY="1")
    kept = _kept(url)

    # Kept: many anonymous reads, no upstream call, and the tag never leaves the gateway.
    answers = [requests.get(f"{url}{TAGGED}", timeout=10) for _ in range(20)]
    assert {a.json()["calls"] for a in answers} == {kept}
    assert "Surrogate-Key" not in answers[0].headers
    assert (
        requests.get(
            f"{url}{TAGGED}", headers={"If-None-Match": answers[0].headers["ETag"]}, timeout=10
        ).status_code
        == 304
    )

    # A signed-in read is never answered from memory.
    assert _calls(url, Authorization="Bearer someone") == kept + 1

    # An event about something else changes nothing.
    _publish(platform, "user.registered")
    assert _calls(url) == kept

    # A video event drops it: the next read goes to the upstream again.
    _publish(platform, "video.deleted")
    fresh = wait_for(lambda: (n := _calls(url)) > kept + 1 and n, timeout=10, what="purge")
    assert _calls(url) == fresh
