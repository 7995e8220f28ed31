"""The read cache: answers keyed by projection positions, revalidated by ETag, private per user;
shared answers marked for the gateway, which drops them when the projections announce a move."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from common.events.models import OutboxEvent
from insights import replay, selectors, services
from insights.models import Checkpoint, ProjectionHead, StoredEvent
from insights.tests.factories import paid, ready, registered, watched

BASE = "/api/analytics"

READS = [
    "dashboard",
    "videos/3",
    "user",
    "top-videos",
    "revenue",
    "reports/daily",
    "reports/monthly",
    "cqrs/video/3/stats",
    "cqrs/videos/stats?ids=3,4",
    "cqrs/user/1/history",
    "cqrs/platform/stats",
]
PERSONAL = {"user", "cqrs/user/1/history"}


@pytest.mark.django_db
def test_the_snapshot_key_is_what_the_orm_reads_from_the_head():
    watched(user=1, video=1)
    replay.replay_run(from_time=datetime(2026, 1, 1, tzinfo=UTC))
    watched(user=2, video=1)

    snapshot = selectors.snapshot_current()

    generation, from_time, read_models, daily, head = selectors._snapshot_query().first()
    assert snapshot.from_time == from_time == datetime(2026, 1, 1, tzinfo=UTC)
    assert (snapshot.generation, snapshot.head_position) == (generation, head)
    assert generation == ProjectionHead.objects.get().generation_id
    assert snapshot.positions == {"read_models": read_models, "daily_metrics": daily}
    assert read_models == head == StoredEvent.objects.latest("position").position


@pytest.mark.django_db
def test_revalidating_a_current_answer_costs_one_query_and_no_body(
    client_for, django_assert_num_queries
):
    ready(video=3, title="Sintel")
    watched(user=1, video=3, seconds=40)
    client = client_for(1)

    first = client.get(f"{BASE}/cqrs/video/3/stats")
    with django_assert_num_queries(1):
        again = client.get(f"{BASE}/cqrs/video/3/stats", HTTP_IF_NONE_MATCH=first["ETag"])
    with django_assert_num_queries(1):
        repeat = client.get(f"{BASE}/cqrs/video/3/stats")

    assert first.status_code == 200
    assert (first["Cache-Control"], first["Surrogate-Key"]) == ("public, no-cache", "analytics")
    assert "Vary" not in first and first["Content-Length"] == str(len(first.content))
    assert first.json()["title"] == "Sintel"
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert (repeat.status_code, repeat.content) == (200, first.content)


@pytest.mark.django_db
@pytest.mark.parametrize("route", READS)
def test_every_read_is_revalidated_and_changes_with_the_next_applied_event(client_for, route):
    watched(user=1, video=3, seconds=40)
    client = client_for(1)

    first = client.get(f"{BASE}/{route}")
    unchanged = client.get(f"{BASE}/{route}", HTTP_IF_NONE_MATCH=f'W/{first["ETag"]}, "other"')
    watched(user=1, video=3, seconds=20)
    changed = client.get(f"{BASE}/{route}", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200, first.content
    assert first["ETag"].startswith('"')
    if route in PERSONAL:
        assert (first["Cache-Control"], first["Vary"]) == ("private, no-cache", "Authorization")
        assert "Surrogate-Key" not in first
    else:
        assert (first["Cache-Control"], first["Surrogate-Key"]) == ("public, no-cache", "analytics")
    assert unchanged.status_code == 304
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert changed.json() != first.json()


@pytest.mark.django_db
def test_each_move_of_the_projections_is_announced_in_the_transaction_that_makes_it():
    def announced() -> list[dict]:
        events = OutboxEvent.objects.filter(type=services.PROJECTIONS_ADVANCED)
        return sorted((e.envelope["data"] for e in events), key=lambda d: d["position"])

    watched(user=1, video=3, seconds=40)
    first = announced()
    watched(user=1, video=3, seconds=20)
    both = announced()

    generation = ProjectionHead.objects.get().generation_id
    position = Checkpoint.objects.get(generation=generation, projector="read_models").position
    assert len(first) == 1 and len(both) == 2
    assert both[-1] == {"generation": generation, "position": position}
    assert first[0]["position"] < position

    replayed = replay.replay_run()
    switched = {"generation": replayed.generation, "position": replayed.position}
    assert replayed.generation != generation and switched in announced()


@pytest.mark.django_db
def test_a_stat_changes_right_after_the_event_that_changes_it_is_applied(client_for):
    watched(user=1, video=3, seconds=40)
    client = client_for(1)
    assert client.get(f"{BASE}/cqrs/video/3/stats").json()["revenue"] == 0
    assert client.get(f"{BASE}/cqrs/platform/stats").json()["totalUsers"] == 0

    paid(user=1, video=3, amount=25)
    registered(user=1)

    assert client.get(f"{BASE}/cqrs/video/3/stats").json()["revenue"] == 25
    assert client.get(f"{BASE}/cqrs/platform/stats").json()["totalUsers"] == 1
    assert client.get(f"{BASE}/revenue").json()["totalRevenue"] == 25


@pytest.mark.django_db
def test_an_event_stored_but_not_yet_applied_shows_in_freshness_then_in_the_figures(client_for):
    watched(user=1, video=3, seconds=40)
    client = client_for(1)
    before = client.get(f"{BASE}/cqrs/video/3/stats").json()
    services.events_append(
        events=[
            services.NewEvent(
                "6f1c1e0e-5b7e-4d8e-9a51-0d6c4b0c9a11",
                "video.watched",
                {"sessionId": "s", "userId": 2, "videoId": 3, "watchSeconds": 5},
                "/streamify/streaming",
            )
        ]
    )

    stored = client.get(f"{BASE}/cqrs/video/3/stats").json()
    services.projections_catch_up()
    applied = client.get(f"{BASE}/cqrs/video/3/stats").json()

    assert (before["totalViews"], before["freshness"]["lagEvents"]) == (1, 0)
    assert (stored["totalViews"], stored["freshness"]["lagEvents"]) == (1, 1)
    assert (applied["totalViews"], applied["freshness"]["lagEvents"]) == (2, 0)


@pytest.mark.django_db
def test_a_replay_answers_from_the_new_generation(client_for):
    watched(user=1, video=3, seconds=40)
    client = client_for(1)
    before = client.get(f"{BASE}/cqrs/platform/stats")

    result = replay.replay_run()
    after = client.get(f"{BASE}/cqrs/platform/stats", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after.json()["freshness"]["generation"] == result.generation
    assert after.json()["totalViews"] == before.json()["totalViews"] == 1


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="the in-memory test database locks whole tables"
)
@pytest.mark.django_db(transaction=True)
def test_two_users_never_see_each_others_data_under_concurrent_load(client_for):
    """Readers of two users hammer their personal routes while both keep watching."""
    units = {101: 7, 202: 11}  # each user's views last a different number of seconds
    for user, seconds in units.items():
        watched(user=user, video=1, seconds=seconds)
    stop = threading.Event()
    seen: dict[int, list] = {user: [] for user in units}
    errors: list = []

    def read(user: int, route: str):
        client, etag = client_for(user), None
        try:
            while not stop.is_set():
                headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
                response = client.get(f"{BASE}/{route}", **headers)
                if response.status_code == 200:
                    seen[user].append(response.json())
                    etag = response["ETag"] if len(seen[user]) % 2 else None
                elif response.status_code != 304:
                    errors.append((user, route, response.status_code))
        except Exception as exc:  # surfaced by the assertions below
            errors.append(exc)
        finally:
            connection.close()

    def write():
        try:
            for n in range(30):
                user = 101 if n % 2 else 202
                watched(user=user, video=1 + n % 3, seconds=units[user])
        finally:
            connection.close()

    readers = [
        threading.Thread(target=read, args=(user, route))
        for user in units
        for route in ("user", f"cqrs/user/{user}/history?limit=100")
    ]
    writer = threading.Thread(target=write)
    for thread in [*readers, writer]:
        thread.start()
    writer.join()
    stop.set()
    for thread in readers:
        thread.join()

    assert errors == []
    for user, bodies in seen.items():
        assert len(bodies) > 10
        for body in bodies:
            assert body["userId"] == user
            assert body["totalWatchTime"] == body["totalViews"] * units[user]
            assert {h["watchTime"] for h in body["history"]} == {units[user]}
        assert max(body["totalViews"] for body in bodies) == 16
    assert StoredEvent.objects.count() == 32
