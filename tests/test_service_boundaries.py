"""Database per service, and /health telling the truth about each service's dependencies."""

import json

import pytest
import requests

from common.service_registry import SERVICES
from common.testing.processes import wait_for
from tests.support.tcp_proxy import TcpProxy
from tests.test_event_backbone import run_in_service

SHARED_TABLE_PREFIXES = ("django_", "auth_", "events_")


def tables(platform, service: str) -> set[str]:
    rows = platform.query(
        service,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    )
    return {name for (name,) in rows}


def test_each_service_uses_only_its_own_database(make_platform):
    platform = make_platform("real", list(SERVICES))

    for service in SERVICES:
        output = run_in_service(
            platform,
            service,
            "import json; from django.db import connections; "
            "print(json.dumps({a: connections[a].settings_dict['NAME'] for a in connections}))",
        )
        assert json.loads(output.strip().splitlines()[-1]) == {
            "default": platform.database_urls[service].rsplit("/", 1)[1]
        }

    owned = {
        service: {t for t in tables(platform, service) if not t.startswith(SHARED_TABLE_PREFIXES)}
        for service in SERVICES
    }
    for service in SERVICES:
        others = set().union(*(owned[o] for o in SERVICES if o != service))
        assert not owned[service] & others, f"{service} shares tables {owned[service] & others}"
    assert "accounts_user" in owned["auth"]
    assert "wallets_wallet" in owned["billing"]
    for service in SERVICES:
        assert {"events_outboxevent", "events_inboxevent"} <= tables(platform, service)


@pytest.mark.parametrize("kind", ["embedded", "real"])
def test_health_reports_each_dependency(make_platform, kind):
    platform = make_platform(kind, ["billing"])
    platform.start_web("billing")

    body = requests.get(platform.url("billing", "/health"), timeout=5).json()

    assert body["status"] == "ok"
    assert body["service"] == "billing"
    assert body["timestamp"]
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["broker"]["status"] == "up"


def test_health_answers_503_naming_the_dependency_that_is_down(make_platform):
    platform = make_platform("real", ["billing"])
    pg = TcpProxy("127.0.0.1", 5432).start()
    amqp = TcpProxy("127.0.0.1", 5672).start()
    platform.database_urls["billing"] = platform.database_urls["billing"].replace(
        "127.0.0.1:5432", f"127.0.0.1:{pg.port}"
    )
    platform.broker_url = platform.broker_url.replace("127.0.0.1:5672", f"127.0.0.1:{amqp.port}")
    try:
        platform.start_web("billing")
        url = platform.url("billing", "/health")

        pg.stop()
        down = wait_for(lambda: _status(url, 503), timeout=20, what="database down")
        assert down["checks"]["database"]["status"] == "down"
        assert down["checks"]["broker"]["status"] == "up"
        assert down["status"] == "unavailable"

        pg.start()
        wait_for(lambda: _status(url, 200), timeout=20, what="database back")

        amqp.stop()
        down = wait_for(lambda: _status(url, 503), timeout=20, what="broker down")
        assert down["checks"]["broker"]["status"] == "down"
        assert down["checks"]["database"]["status"] == "up"

        amqp.start()
        wait_for(lambda: _status(url, 200), timeout=20, what="broker back")
    finally:
        pg.stop()
        amqp.stop()


def _status(url: str, expected: int) -> dict | None:
    response = requests.get(url, timeout=10)
    return response.json() if response.status_code == expected else None
