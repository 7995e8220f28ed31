"""GraphiQL (`/graphql`) and Swagger UI (`/api/docs`) load every script and stylesheet from the
gateway itself: they work with no internet, and run only the code the platform pins."""

import re

import pytest
from django.test import Client

ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""")


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


@pytest.mark.parametrize("path", ["/graphql", "/api/docs"])
def test_the_page_loads_its_assets_from_the_gateway_only(path):
    client = Client()
    page = client.get(path, HTTP_ACCEPT="text/html")

    assert page.status_code == 200
    html = page.content.decode()
    assets = _assets(html)
    assert len(assets) >= 3, assets
    assert [a for a in assets if not a.startswith("/") or a.startswith("//")] == []
    assert "cdn." not in html and "unpkg" not in html
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert len(body) > 100, asset


def test_graphiql_runs_the_vendored_build_graphene_s_script_expects():
    html = Client().get("/graphql", HTTP_ACCEPT="text/html").content.decode()

    names = [asset.rsplit("/", 1)[-1] for asset in _assets(html)]

    assert names == [
        "graphiql.min.css",
        "graphiql-plugin-explorer.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphql-ws.min.js",
        "graphiql-plugin-explorer.umd.js",
        "graphiql.js",
    ]
