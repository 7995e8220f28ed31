"""A real browser for the UI's tests: Debian's chromium, driven by Playwright.

Playwright's own browser download is never used. Without chromium the browser tests are
skipped, unless STREAMIFY_REQUIRE_BROWSER=1 (CI), where that fails the run instead.
"""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.full_platform import booted_full_platform

CHROMIUM = os.environ.get("STREAMIFY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Media starts as it would after the viewer's click, however long the API took.
LAUNCH_ARGS = ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
# The registration saga's steps run on these workers; analytics' also projects the views and
# video's processes uploads.
WORKERS = ("gateway", "auth", "billing", "analytics", "video")


def _require_chromium() -> None:
    if Path(CHROMIUM).is_file():
        return
    if os.environ.get("STREAMIFY_REQUIRE_BROWSER") == "1":
        pytest.fail(f"chromium required but not found at {CHROMIUM} (apt-get install chromium)")
    pytest.skip("chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@dataclass
class Watched:
    """What a page did besides rendering: requests it was refused, errors it logged."""

    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def offline_page(browser):
    """A page that may reach only this machine: any other host is refused and recorded, as a
    browser with no internet would fail it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched()

    def route(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            watched.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and watched.errors.append(m.text))
    page.on("pageerror", lambda exc: watched.errors.append(str(exc)))
    yield page, watched
    context.close()


@pytest.fixture(scope="session")
def full(browser, tmp_path_factory):
    """The whole platform with its workers, for every UI test (chromium first: without it the
    tests skip before anything boots). Its processes write their spans to `full.traces`."""
    traces = tmp_path_factory.mktemp("traces")
    env = {"STREAMIFY_TRACES_FILE": str(traces), "OTEL_BSP_SCHEDULE_DELAY": "200"}
    with booted_full_platform(**env) as platform:
        platform.traces = traces
        with ThreadPoolExecutor(max_workers=len(WORKERS)) as pool:
            list(pool.map(lambda s: platform.platform.start_worker(s, concurrency=1), WORKERS))
        yield platform


@pytest.fixture
def viewer(browser, full):
    """A page on the gateway's UI (media may autoplay, as after the viewer's click), and the
    errors it logs."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: m.type == "error" and errors.append(f"{m.text} {m.location}"))
    page.goto(full.url("gateway", "/"))
    yield page, errors
    context.close()
