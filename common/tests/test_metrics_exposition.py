"""Who may read `/metrics`: loopback and private ranges by default, or the operator's list."""

import orjson
import pytest
from django.conf import settings
from django.test import RequestFactory

from common.metrics import exposition
from common.settings import call_settings


@pytest.fixture(autouse=True)
def fresh_allow_list():
    exposition.allowed_networks.cache_clear()
    yield
    exposition.allowed_networks.cache_clear()


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.4.0.7", "172.20.1.1", "192.168.1.20", "fd00::5"]
)
def test_loopback_and_private_addresses_may_read_by_default(address):
    assert exposition.allowed(address)


@pytest.mark.parametrize("address", ["203.0.113.5", "8.8.8.8", "2001:db8::1", "", "not-an-ip"])
def test_public_or_unreadable_addresses_may_not(address):
    assert not exposition.allowed(address)


def test_the_operator_names_the_networks(monkeypatch):
    monkeypatch.setenv("STREAMIFY_METRICS_ALLOW", "203.0.113.0/24, 198.51.100.7/32")
    monkeypatch.setattr(settings, "METRICS_ALLOW", call_settings()["METRICS_ALLOW"])
    assert exposition.allowed("203.0.113.5") and exposition.allowed("198.51.100.7")
    assert not exposition.allowed("127.0.0.1")


def test_an_empty_list_lets_nobody_read(monkeypatch):
    monkeypatch.setenv("STREAMIFY_METRICS_ALLOW", "")
    monkeypatch.setattr(settings, "METRICS_ALLOW", call_settings()["METRICS_ALLOW"])
    assert not exposition.allowed("127.0.0.1")


def test_a_refused_client_gets_a_json_403_and_no_figures():
    request = RequestFactory().get("/metrics", REMOTE_ADDR="203.0.113.5")
    answer = exposition.metrics(request)
    assert answer.status_code == 403
    body = orjson.loads(answer.content)
    assert body["error"] == "Metrics are for the operators' network"
    assert b"streamify_" not in answer.content


def test_only_get_reads_the_page():
    answer = exposition.metrics(RequestFactory().post("/metrics", REMOTE_ADDR="127.0.0.1"))
    assert answer.status_code == 405
    assert orjson.loads(answer.content)["error"] == "Method not allowed"
