"""schemathesis over every service's OpenAPI schema: no request it makes is answered 5xx.

The platform is booted as `tests/test_bad_input.py` boots it (real processes, PostgreSQL,
RabbitMQ). Each service's operations are called on the service and again through the gateway;
the gateway's own operations on the gateway. Every call carries credentials that pass (see
`FullPlatform.route_headers`), so generated bodies, paths and queries reach the routes' own
parsing, valid and invalid alike (schemathesis' positive and negative modes, and its coverage
phase of boundaries, wrong types and missing fields). Bounded to `MAX_EXAMPLES` random examples
per operation so the whole run takes a few minutes.

The schemas are generated at collection time by each service's `manage.py spectacular`, since
the tests per operation must exist before the platform boots; a test checks that they are
exactly what every service, and the gateway for each, serves at run time.

An error answer must also carry the platform's `{"error", "details"}` body, and afterwards no
breaker of the gateway may have counted a failure.
"""

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from common.service_registry import SERVICES, UPSTREAMS
from common.testing.processes import manage
from tests.support.full_platform import FullPlatform, booted_full_platform

MAX_EXAMPLES = 10
CONFIG = {
    "generation": {"mode": "all"},
    "phases": {"coverage": {"enabled": True}, "stateful": {"enabled": False}},
}


def _generated_schema(service: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="streamify-schema-") as var:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": var,
            "STREAMIFY_LOG_LEVEL": "ERROR",
        }
        return json.loads(manage(service, "spectacular", "--format", "openapi-json", env=env))


with ThreadPoolExecutor(max_workers=3) as _pool:
    SCHEMAS = dict(zip(SERVICES, _pool.map(_generated_schema, SERVICES), strict=True))


@pytest.fixture(scope="module")
def full() -> Iterator[FullPlatform]:
    with booted_full_platform() as platform:
        yield platform


@pytest.mark.real_backends
def test_the_schemas_fuzzed_are_the_ones_served(full):
    for service in SERVICES:
        direct = requests.get(full.url(service, "/api/schema?format=json"), timeout=30)
        assert direct.json() == SCHEMAS[service], service
        if service != "gateway":
            relayed = requests.get(full.url("gateway", f"/api/schema/{service}"), timeout=30)
            assert relayed.json() == SCHEMAS[service], service


@schemathesis.check
def error_has_the_platform_shape(ctx, response, case) -> bool | None:
    """A 4xx answers `{"error": str, "details": list}` (GraphQL's `errors` may stand beside)."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {body!r:.200}"
    assert isinstance(body.get("error"), str), f"no error message: {body!r:.200}"
    assert isinstance(body.get("details"), list), f"no details list: {body!r:.200}"
    return True


CHECKS = [not_a_server_error, error_has_the_platform_shape]
# (service, via) -> answers by class (2 for 2xx, ...), for the closing test's figures.
ANSWERS: dict[tuple[str, str], Counter] = {}


def _make_test(service: str, via: str):
    schema = schemathesis.openapi.from_dict(
        SCHEMAS[service], config=schemathesis.Config.from_dict(CONFIG)
    )

    @pytest.mark.real_backends
    @schema.parametrize()
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def test(case, full):
        headers = full.route_headers(service, case.operation.path, case.operation.definition.raw)
        response = case.call(base_url=full.url(via), headers=headers, timeout=60)
        ANSWERS.setdefault((service, via), Counter())[response.status_code // 100] += 1
        case.validate_response(response, checks=CHECKS)

    return test


for _service in SERVICES:
    for _via in dict.fromkeys((_service, "gateway")):
        globals()[f"test_{_service}_via_{_via}_answers_no_5xx"] = _make_test(_service, _via)


@pytest.mark.real_backends
def test_no_breaker_counted_a_failure_and_every_target_was_reached(full):
    """Run last in this module: whatever schemathesis sent, no upstream failed, and each
    target answered some requests with a 2xx (the credentials passed: not all 401/403)."""
    for (service, via), answers in sorted(ANSWERS.items()):
        print(f"\nschemathesis {service} via {via}: {sum(answers.values())} cases, {dict(answers)}")
        assert answers[2] > 0, (service, via, answers)
        assert answers[5] == 0, (service, via, answers)
    breakers = full.breakers()
    assert set(breakers) >= set(UPSTREAMS), breakers
    counted = {
        name: (b["state"], b["failures"], b["totalFailures"], b["lastError"])
        for name, b in breakers.items()
        if (b["state"], b["failures"], b["totalFailures"]) != ("CLOSED", 0, 0)
    }
    assert not counted, counted
