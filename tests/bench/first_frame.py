"""The web UI's figures: time to first frame after pressing Watch, and the bytes each page ships.

    python -m tests.bench.first_frame [--plays 10]

Boots the whole platform on PostgreSQL and RabbitMQ (as the browser tests do), signs a funded
viewer in through the UI in Debian's chromium, then presses Watch on a demo video `--plays`
times. A play's time runs from the click to the first frame the <video> element presents
(`requestVideoFrameCallback`), so it holds the stream's start (wallet check, first charge,
signed URLs), the playlist, the first segment and the decode. Each play ends its stream first.
"""

import argparse
import statistics
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, WORKERS
from tests.browser.steps import deposit, register
from tests.support.full_platform import booted_full_platform

# Resolves with the milliseconds from the Watch click to the first presented frame.
WATCH_TO_FRAME = """async (title) => {
  const video = document.querySelector('#video');
  const button = [...document.querySelectorAll('#videos button')]
    .find((b) => b.getAttribute('aria-label') === `Watch ${title}`);
  const clicked = performance.now();
  const shown = new Promise(
    (resolve) => video.requestVideoFrameCallback(() => resolve(performance.now())));
  button.click();
  return (await shown) - clicked;
}"""
PAGES = ("/", "/graphql", "/api/docs")


def page_bytes(browser, url: str) -> dict[str, int]:
    """JS, CSS and everything else a page loads, uncompressed (as the gateway serves them)."""
    sizes = {"script": 0, "stylesheet": 0, "other": 0}
    page = browser.new_page()

    def count(response):
        kind = response.request.resource_type
        body = response.body() if response.status == 200 else b""
        sizes[kind if kind in sizes else "other"] += len(body)

    page.on("response", count)
    page.goto(url, wait_until="networkidle")
    page.close()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=10)
    args = parser.parse_args()
    with booted_full_platform() as full, sync_playwright() as playwright:
        with ThreadPoolExecutor(max_workers=len(WORKERS)) as pool:
            list(pool.map(lambda s: full.platform.start_worker(s, concurrency=1), WORKERS))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(full.url("gateway", "/"))
        register(page)
        deposit(page, "50.00")
        title = "Colour Bars at Dawn"
        times = []
        for _ in range(args.plays):
            page.goto(full.url("gateway", "/#catalog"))
            page.wait_for_selector(f"#videos button[aria-label='Watch {title}']")
            times.append(page.evaluate(WATCH_TO_FRAME, title))
            page.get_by_role("button", name="End stream").click()
            page.wait_for_selector("#notice.ok >> text=Stream ended")
        p50, low, high = statistics.median(times), min(times), max(times)
        print(f"time to first frame, {len(times)} plays: p50 {p50:.0f} ms ({low:.0f}-{high:.0f})")
        for path in PAGES:
            sizes = page_bytes(browser, full.url("gateway", path))
            print(f"{path}: JS {sizes['script']:,} B, CSS {sizes['stylesheet']:,} B, ", end="")
            print(f"other {sizes['other']:,} B")
        browser.close()


if __name__ == "__main__":
    main()
