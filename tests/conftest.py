"""Fixtures of the cross-service suite: slices of the platform on each kind of backend."""

import pytest

from common.testing import backends
from common.testing.platform import Platform
from common.testing.postgres import temporary_databases
from common.testing.rabbitmq import private_vhost

BACKENDS = ["embedded", "real"]


def require_real_backends() -> None:
    missing = [
        url for url in (backends.postgres_url(), backends.amqp_url()) if not backends.reachable(url)
    ]
    if missing:
        if backends.required():
            pytest.fail(f"real backends required but unreachable: {missing}")
        pytest.skip(f"real backends unreachable: {missing}")


@pytest.fixture
def make_platform(request, tmp_path):
    """Build platforms for a test and stop every process they started, whatever happens."""
    started: list[Platform] = []
    request.node.platforms = started
    cleanups = []

    def build(kind: str, services: list[str]) -> Platform:
        if kind == "embedded":
            platform = Platform(tmp_path / f"p{len(started)}", broker_url=None, database_urls={})
        else:
            require_real_backends()
            vhost = private_vhost()
            databases = temporary_databases(services)
            cleanups.extend([vhost, databases])
            platform = Platform(
                tmp_path / f"p{len(started)}",
                broker_url=vhost.__enter__(),
                database_urls=databases.__enter__(),
            )
        started.append(platform)
        platform.prepare(*services)
        return platform

    yield build
    for platform in started:
        platform.stop()
    for cleanup in reversed(cleanups):
        cleanup.__exit__(None, None, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        platforms = getattr(item, "platforms", [])
        for platform in platforms:
            report.sections.append(("platform logs", platform.logs_tail()))
