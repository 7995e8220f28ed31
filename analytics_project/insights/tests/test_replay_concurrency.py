"""Replay while readers and writers keep going: readers only ever see complete generations."""

import threading

import pytest
from django.db import connection

from common.testing.processes import wait_for
from insights import replay, selectors
from insights.models import Generation, PlatformStats, ViewRecord
from insights.tests.factories import watched

BASE_VIEWS = 240
LIVE_VIEWS = 20


def _in_thread(target, stop: threading.Event, results: list):
    def run():
        try:
            while not stop.is_set():
                results.append(target())
        except Exception as exc:  # surfaced by the assertions below
            results.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_readers_never_see_a_half_built_generation_while_replay_runs():
    for n in range(BASE_VIEWS):
        watched(user=n % 12 + 1, video=n % 4 + 1, seconds=10)
    stop = threading.Event()
    reads: list = []
    partial_sightings: list = []

    def read():
        platform = selectors.platform_stats_get()
        video = selectors.video_stats_get(video_id=1)
        return platform["freshness"]["generation"], platform["totalViews"], video["totalViews"]

    def spy_on_the_building_generation():
        # What a reader that ignored the head would see: the new generation mid-build.
        building = Generation.objects.filter(status=Generation.Status.BUILDING).first()
        if building is not None:
            views = (
                ViewRecord.objects.filter(generation=building.pk).count(),
                PlatformStats.objects.filter(generation=building.pk).exists(),
            )
            partial_sightings.append(views)
        return building

    def write_live_views():
        for _ in range(LIVE_VIEWS):
            watched(user=99, video=1, seconds=5)
        return LIVE_VIEWS

    readers = [_in_thread(read, stop, reads) for _ in range(2)]
    spy = _in_thread(spy_on_the_building_generation, stop, [])
    writer_results: list = []
    writer = threading.Thread(
        target=lambda: (writer_results.append(write_live_views()), connection.close())
    )
    writer.start()
    result = replay.replay_run(batch_size=8)
    writer.join()
    wait_for(lambda: any(r[0] == result.generation for r in list(reads)), timeout=10)
    stop.set()
    for thread in [*readers, spy]:
        thread.join()

    errors = [r for r in reads if isinstance(r, Exception)]
    assert errors == []
    assert {r[0] for r in reads} == {result.previous_generation, result.generation}
    for _generation, platform_views, video_views in reads:
        # A partial model would show fewer views than the store held when replay began.
        assert BASE_VIEWS <= platform_views <= BASE_VIEWS + LIVE_VIEWS
        assert BASE_VIEWS // 4 <= video_views <= BASE_VIEWS // 4 + LIVE_VIEWS
    assert any(count < BASE_VIEWS for count, _ in partial_sightings), "replay was never mid-build"
    final = selectors.platform_stats_get()
    assert final["freshness"]["generation"] == result.generation
    assert final["totalViews"] == BASE_VIEWS + LIVE_VIEWS
    assert selectors.video_stats_get(video_id=1)["totalViews"] == BASE_VIEWS // 4 + LIVE_VIEWS
