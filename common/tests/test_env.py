"""`common.env`: what each reader makes of the environment, defaults from the registry."""

import pytest

from common import env


def test_a_service_answers_where_the_registry_says_unless_moved(monkeypatch):
    monkeypatch.delenv("BILLING_URL", raising=False)
    monkeypatch.delenv("BILLING_PORT", raising=False)
    assert env.service_urls("billing") == ("http://127.0.0.1:3004",)

    monkeypatch.setenv("BILLING_PORT", "3104")
    assert env.service_url("billing") == "http://127.0.0.1:3104"

    monkeypatch.setenv("BILLING_URL", " http://a:1/ ,, http://b:2")
    assert env.service_urls("billing") == ("http://a:1", "http://b:2")


def test_grpc_target_from_its_port_unless_named(monkeypatch):
    monkeypatch.delenv("VIDEO_GRPC_TARGET", raising=False)
    monkeypatch.setenv("VIDEO_GRPC_PORT", "50152")
    assert env.grpc_target("video") == "127.0.0.1:50152"

    monkeypatch.setenv("VIDEO_GRPC_TARGET", "ipv4:10.0.0.5:50052,10.0.0.6:50052")
    assert env.grpc_target("video") == "ipv4:10.0.0.5:50052,10.0.0.6:50052"


def test_a_breaker_setting_of_its_own_wins_over_the_shared_one(monkeypatch):
    monkeypatch.delenv("STREAMIFY_BREAKER_FAIL_MAX", raising=False)
    monkeypatch.delenv("STREAMIFY_BREAKER_VIDEO_GRPC_FAIL_MAX", raising=False)
    assert env.breaker_setting("video-grpc", "FAIL_MAX", 5) == 5

    monkeypatch.setenv("STREAMIFY_BREAKER_FAIL_MAX", "3")
    assert env.breaker_setting("video-grpc", "FAIL_MAX", 5) == 3

    monkeypatch.setenv("STREAMIFY_BREAKER_VIDEO_GRPC_FAIL_MAX", "9")
    assert env.breaker_setting("video-grpc", "FAIL_MAX", 5) == 9
    assert env.breaker_setting("billing", "FAIL_MAX", 5) == 3


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("true", True), ("On", True), ("0", False), ("", False)]
)
def test_flags(monkeypatch, value, expected):
    monkeypatch.setenv("STREAMIFY_SOME_FLAG", value)
    assert env.flag("STREAMIFY_SOME_FLAG", default=True) is expected


def test_unset_optional_values_are_none(monkeypatch):
    for name in ("REDIS_URL", "STREAMIFY_TRACES_FILE", "STREAMIFY_WORKER_METRICS_PORT"):
        monkeypatch.setenv(name, "")
    assert (env.redis_url(), env.traces_folder(), env.worker_metrics_port()) == (None,) * 3
    monkeypatch.setenv("STREAMIFY_WORKER_METRICS_PORT", "9100")
    assert env.worker_metrics_port() == 9100


def test_a_secret_is_read_as_set_even_when_it_begins_with_a_dollar(monkeypatch):
    monkeypatch.setenv("STREAMIFY_SOME_SECRET_KEY", "$abc")
    monkeypatch.setenv("JWT_PUBLIC_KEY", "$line\\nnext")
    assert env.secret("STREAMIFY_SOME_SECRET_KEY") == "$abc"
    assert env.pem("JWT_PUBLIC_KEY") == "$line\nnext"
