"""`make run` scaled out on PostgreSQL, RabbitMQ, Redis and an S3 API: two web processes per
service (WEB_CONCURRENCY=2), each with its Celery worker inside, so twelve workers consume the
six services' queues side by side; media in the bucket. A new user's journey through the
gateway (`deploy.journey`) still sees every event applied once and every cent charged once:
it checks balances and view counts exactly, and waits for analytics to catch up from the bus."""

import pytest

from common.service_registry import SERVICES
from common.testing.object_store import private_object_store
from common.testing.processes import wait_for
from common.testing.redis import private_redis
from deploy import journey
from deploy.booted import booted_platform, command_line

REPLICAS = 2


@pytest.mark.real_backends
def test_two_of_every_process_on_shared_backends_walk_the_journey_once():
    with private_redis() as redis_url, private_object_store() as store:
        env = {"WEB_CONCURRENCY": str(REPLICAS), "REDIS_URL": redis_url}
        env |= store.bucket("streamify-scaled")
        with booted_platform(real=True, env=env) as platform:
            platform.wait_healthy()
            pids = platform.pids()
            serving = {p for p in pids if "granian" in command_line(_parent(p) or 0)}
            wait_for(
                lambda: len(platform.workers()) == REPLICAS * len(SERVICES),
                timeout=60,
                what="every worker answering Flower",
            )
            workers = platform.workers()

            journey.walk(platform.url("gateway"))

        # Two workers per service, each inside its own web process
        for service in SERVICES:
            mine = [n for n in workers if n.startswith(f"{service}.")]
            assert len(mine) == REPLICAS, workers
        assert set(workers.values()) <= set(serving)
        assert len(set(workers.values())) == REPLICAS * len(SERVICES)
        # Media went to the bucket
        assert any(key.endswith("master.m3u8") for key in store.keys("streamify-scaled"))


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except FileNotFoundError:
        return None
