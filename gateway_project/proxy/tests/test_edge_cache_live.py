"""Tagged shared reads answered from the gateway's memory, dropped by the events that change them
(a real gateway process, the embedded broker, an upstream that counts its calls)."""

import requests

from common.broker import connect
from common.events.topology import EVENTS_EXCHANGE
from common.testing.processes import wait_for
from common.testing.tokens import user_token

TAGGED = "/api/videos/tagged"


def _calls(url: str, path: str = TAGGED, **headers) -> int:
    response = requests.get(f"{url}{path}", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["calls"]


def _publish(platform, event_type: str) -> None:
    with connect(platform.var / "broker") as connection:
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


def test_a_signed_in_read_the_same_for_everyone_is_kept_for_verified_tokens_only(platform, gateway):
    platform.upstream("analytics")
    url = gateway(WEB_CONCURRENCY="1")
    alice, bob = (f"Bearer {user_token(n)}" for n in (1, 2))
    shared = "/api/analytics/shared"
    kept = wait_for(
        lambda: (
            (n := _calls(url, shared, Authorization=alice))
            == _calls(url, shared, Authorization=alice)
            and n
        ),
        timeout=30,
        what="kept",
    )
    # Anonymous callers have a key space of their own.
    anonymous = _calls(url, shared)
    assert anonymous == kept + 1

    # Another user's verified token gets the kept answer; so does a revalidation.
    answer = requests.get(f"{url}{shared}", headers={"Authorization": bob}, timeout=10)
    assert answer.json() == {"calls": kept, "auth": alice}
    assert "Surrogate-Key" not in answer.headers
    revalidated = requests.get(
        f"{url}{shared}",
        headers={"Authorization": bob, "If-None-Match": answer.headers["ETag"]},
        timeout=10,
    )
    assert revalidated.status_code == 304

    # A token the gateway cannot verify is never answered from memory.
    assert _calls(url, shared, Authorization=f"Bearer {user_token(1)}x") == anonymous + 1
    assert _calls(url, shared, Authorization="Bearer someone") == anonymous + 2

    # An answer its upstream marked private is never kept for the next caller.
    personal = "/api/analytics/personal"
    first = _calls(url, personal, Authorization=alice)
    assert _calls(url, personal, Authorization=alice) == first + 1

    # A video event leaves it; the projections' announcement drops it.
    _publish(platform, "video.updated")
    assert _calls(url, shared, Authorization=bob) == kept
    _publish(platform, "analytics.projections.advanced")
    wait_for(lambda: _calls(url, shared, Authorization=bob) > kept, timeout=10, what="purge")
