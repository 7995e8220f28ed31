"""GraphiQL and the Swagger UI render in a browser that can reach nothing but the platform,
with no console errors."""

import pytest

from common.service_registry import SERVICES, UPSTREAMS
from tests.browser.steps import screenshot


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    from common.testing.platform import Platform

    platform = Platform(tmp_path_factory.mktemp("docs"), broker_url=None, database_urls={})
    platform.prepare("gateway")
    platform.upstreams_closed(*UPSTREAMS)
    try:
        platform.start_web("gateway")
        yield platform
    finally:
        platform.stop()


def test_graphiql_runs_offline_and_answers_a_query(gateway, offline_page):
    page, watched = offline_page

    page.goto(gateway.url("gateway", "/graphql"))
    page.wait_for_selector(".graphiql-container", timeout=30_000)
    page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=30_000)
    page.locator(".graphiql-query-editor .CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("{ __typename }")
    page.locator(".graphiql-execute-button").click()
    page.wait_for_function(
        "() => document.querySelector('.result-window')?.innerText.includes('Query')",
        timeout=30_000,
    )
    shot = screenshot(page, "graphiql")

    assert watched.blocked == [] and watched.errors == []
    assert shot.stat().st_size > 10_000


def test_swagger_ui_runs_offline_and_shows_the_gateway_s_routes(gateway, offline_page):
    page, watched = offline_page

    page.goto(gateway.url("gateway", "/api/docs"))
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    title = page.locator(".swagger-ui .info .title").inner_text()
    definitions = page.locator(".topbar select option").all_inner_texts()
    routes = page.locator(".swagger-ui .opblock-summary-path").all_inner_texts()
    shot = screenshot(page, "swagger-ui")

    assert "Streamify gateway" in title
    assert definitions == list(SERVICES)
    assert "/api/saga/register" in routes
    assert watched.blocked == [] and watched.errors == []
    assert shot.stat().st_size > 10_000
