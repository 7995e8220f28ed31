"""Breaker state in Redis (common.breakers.shared): one breaker per upstream for every process
of a service on every host, read through a short snapshot, and still deciding when Redis is
gone."""

import subprocess
import sys
import time
import uuid

import pybreaker
import pytest

from common import breakers
from common.breakers import shared
from common.paths import REPO_ROOT
from common.testing.processes import free_port, wait_for
from common.testing.redis import private_redis


@pytest.fixture(scope="module")
def redis_url():
    with private_redis() as url:
        yield url


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def _storage(url: str, name: str) -> shared.RedisStorage:
    # A snapshot of its own per storage: each stands for a process on another host.
    return shared.RedisStorage(name, service="gateway", redis_client=shared.client(url))


def _fail(cb: pybreaker.CircuitBreaker) -> None:
    with pytest.raises((RuntimeError, pybreaker.CircuitBreakerError)), cb.calling():
        raise RuntimeError("down")


def test_failures_on_two_hosts_add_up_and_both_refuse(redis_url):
    name = _name()
    first = pybreaker.CircuitBreaker(fail_max=3, state_storage=_storage(redis_url, name))
    second_storage = _storage(redis_url, name)
    second = pybreaker.CircuitBreaker(fail_max=3, state_storage=second_storage)

    for cb in (first, second, first):
        _fail(cb)

    assert first.current_state == pybreaker.STATE_OPEN
    wait_for(
        lambda: second.current_state == pybreaker.STATE_OPEN,
        timeout=shared.REFRESH_SECONDS * 4,
        what="the other host seeing the breaker open",
    )
    with pytest.raises(pybreaker.CircuitBreakerError), second.calling():
        pass
    second_storage.reset()
    wait_for(
        lambda: first.current_state == pybreaker.STATE_CLOSED,
        timeout=shared.REFRESH_SECONDS * 4,
        what="the reset reaching the first host",
    )


def test_a_breaker_another_host_opened_refuses_calls_here(redis_url, monkeypatch, settings):
    # The other host (a process of its own) and this one share the same Redis.
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings.REDIS_URL = redis_url
    name = _name()
    script = (
        "import sys, django, os\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'gateway_project.settings'\n"
        "sys.path.insert(0, 'gateway_project')\n"
        "django.setup()\n"
        "import requests\n"
        "from common import breakers\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        with breakers.guarded(sys.argv[1]):\n"
        "            raise requests.ConnectionError('refused')\n"
        "    except breakers.UpstreamUnavailable:\n"
        "        pass\n"
    )
    env = {"STREAMIFY_BREAKER_FAIL_MAX": "2", "STREAMIFY_VAR_DIR": str(REPO_ROOT / "var" / name)}
    subprocess.run(
        [sys.executable, "-c", script, name], check=True, cwd=REPO_ROOT,
        env={**__import__("os").environ, **env},
    )  # fmt: skip

    calls = []
    with pytest.raises(breakers.UpstreamUnavailable) as refused, breakers.guarded(name):
        calls.append(1)

    assert calls == []
    assert refused.value.reason == "circuit open"
    stats = breakers.stats([name])[name]
    assert (stats["state"], stats["totalFailures"]) == ("OPEN", 2)
    assert stats["lastError"] == "connection failed"


def test_without_redis_a_host_still_counts_and_opens_alone():
    storage = _storage(f"redis://127.0.0.1:{free_port()}/0", _name())
    cb = pybreaker.CircuitBreaker(fail_max=2, state_storage=storage)

    started = time.monotonic()
    for _ in range(2):
        _fail(cb)

    assert cb.current_state == pybreaker.STATE_OPEN
    with pytest.raises(pybreaker.CircuitBreakerError), cb.calling():
        pass
    assert storage.counter == 2
    assert time.monotonic() - started < 1  # nobody waited for Redis
