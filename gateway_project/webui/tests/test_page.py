"""The web UI: served at `/`, its scripts use only public routes of this gateway."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import Resolver404, resolve


def test_index_serves_the_page_and_its_assets():
    page = Client().get("/")

    assert page.status_code == 200
    html = page.content.decode()
    assert '<video id="video" controls' in html
    assert "/static/webui/app.js" in html and "/static/webui/app.css" in html


def _our_scripts() -> str:
    """Every module of the app (the vendored libraries aside), as one text."""
    folder = Path(finders.find("webui/app.js")).parent
    return "\n".join(path.read_text() for path in sorted(folder.glob("*.js")))


def test_every_route_the_script_calls_is_routed_by_the_gateway():
    script = _our_scripts()
    paths = set(re.findall(r'[`"](/api/[a-z/\-]+)', script))

    assert {
        "/api/auth/login",
        "/api/auth/token/refresh",
        "/api/auth/profile",
        "/api/saga/register",
        "/api/billing/deposit",
        "/api/videos",
        "/api/analytics/reports/",
        "/api/analytics/cqrs/videos/stats",
    } <= paths
    for path in paths:
        # A trailing slash is where the script appends an id (a uuid for sagas and sessions).
        concrete = path + "6f1c2b2e-8d4c-4a51-9a57-0e4f0d3c1a2b" if path.endswith("/") else path
        try:
            resolve(concrete)
        except Resolver404:
            raise AssertionError(f"{path} is not routed") from None
