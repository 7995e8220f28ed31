"""`/api/docs`: one Swagger UI over the gateway's schema and each service's, relayed live."""

import requests

from common.service_registry import UPSTREAMS


def test_docs_page_lists_every_schema_and_relays_a_services_own(platform, gateway):
    platform.service("analytics")
    url = gateway()

    page = requests.get(f"{url}/api/docs", timeout=10)
    relayed = requests.get(f"{url}/api/schema/analytics", timeout=10)
    direct = requests.get(f"{platform.urls['analytics']}/api/schema?format=json", timeout=10)
    own = requests.get(f"{url}/api/schema?format=json", timeout=10)
    down = requests.get(f"{url}/api/schema/billing", timeout=10)
    unknown = requests.get(f"{url}/api/schema/nosuch", timeout=10)

    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    for service in UPSTREAMS:
        assert f"/api/schema/{service}" in page.text
    assert relayed.status_code == 200
    assert relayed.json() == direct.json()
    assert "/api/analytics/cqrs/record-view" in relayed.json()["paths"]
    assert relayed.json()["info"]["title"] == "Streamify analytics"
    assert "/api/saga/register" in own.json()["paths"]
    assert down.status_code == 503 and down.json()["service"] == "billing"
    assert unknown.status_code == 404 and unknown.json()["error"] == "Unknown service"
