"""The web UI in Chromium against the whole platform, as a new viewer uses it: register (the
saga), deposit, play a demo video to its end, and find what the meter said in the ledger and
in the history."""

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.browser.conftest import screenshot
from tests.support.full_platform import booted_full_platform

# The registration saga's steps run on these workers; analytics' also projects the views.
WORKERS = ("gateway", "auth", "billing", "analytics")
PHONE = {"width": 375, "height": 800}


@pytest.fixture(scope="module")
def full():
    with booted_full_platform() as platform:
        with ThreadPoolExecutor(max_workers=len(WORKERS)) as pool:
            list(pool.map(lambda s: platform.platform.start_worker(s, concurrency=1), WORKERS))
        yield platform


@pytest.fixture
def viewer(browser, full):
    """A page on the gateway's UI (media may autoplay, as after the viewer's click)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: m.type == "error" and errors.append(f"{m.text} {m.location}"))
    page.goto(full.url("gateway", "/"))
    yield page, errors
    context.close()


def _cents(text: str) -> int:
    dollars, cents = re.fullmatch(r"-?\$(\d+)\.(\d\d)", text.strip()).groups()
    return (-1 if text.strip().startswith("-") else 1) * (int(dollars) * 100 + int(cents))


def _register(page) -> str:
    email = f"viewer-{uuid.uuid4().hex[:8]}@example.com"
    form = page.locator("#register")
    form.get_by_label("First name").fill("Ada")
    form.get_by_label("Last name").fill("Viewer")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password (8-64)").fill("a-long-password")
    form.get_by_role("button", name="Register").click()
    page.wait_for_selector("#nav:not([hidden])", timeout=60_000)
    return email


def test_register_deposit_and_watch_a_video_to_its_end(full, viewer):
    page, errors = viewer
    _register(page)
    page.click("#nav >> text=Wallet")
    page.get_by_label("Deposit (dollars)").fill("0")
    page.get_by_role("button", name="Deposit").click()
    refused = page.locator("#deposit-error").inner_text()
    page.get_by_label("Deposit (dollars)").fill("2.50")
    page.get_by_role("button", name="Deposit").click()
    page.wait_for_function("() => document.querySelector('#wallet-balance').innerText === '$2.50'")
    page.wait_for_selector("#transactions tbody tr >> text=deposit")
    first_entry = page.locator("#transactions tbody tr").first.inner_text()

    page.click("#nav >> text=Catalog")
    cards = page.locator("#videos .card")
    cards.first.wait_for()
    screenshot(page, "catalog")
    shortest = min(
        range(cards.count()),
        key=lambda i: cards.nth(i).locator(".meta").inner_text().split(" ")[0].zfill(5),
    )
    card = cards.nth(shortest)
    title = card.locator("h3").inner_text()
    card.get_by_role("button", name=f"Watch {title}").click()
    page.wait_for_function("() => document.querySelector('#video').currentTime > 3")
    screenshot(page, "player")
    # Played to its end, the page ends the session itself and says what it cost.
    page.wait_for_selector("#notice.ok >> text=Stream ended", timeout=120_000)
    meter = {
        "minutes": int(page.locator("#meter-minutes").inner_text()),
        "spent": _cents(page.locator("#meter-spent").inner_text()),
        "balance": _cents(page.locator("#meter-balance").inner_text()),
    }
    page.click("#nav >> text=Wallet")
    page.wait_for_selector("#transactions tbody tr >> text=charge", timeout=30_000)
    charges = [
        _cents(row.locator("td").nth(2).inner_text())
        for row in page.locator("#transactions tbody tr").all()
        if "charge" in row.inner_text().lower()
    ]

    assert "$0.01 to $10000" in refused
    assert "$2.50" in first_entry
    # A demo clip is shorter than a minute: one started minute, paid once.
    assert meter["minutes"] == 1 and len(charges) == 1
    assert meter["spent"] == -charges[0] > 0
    assert meter["balance"] == 250 - meter["spent"]
    assert _cents(page.locator("#wallet-balance").inner_text()) == meter["balance"]
    assert errors == []

    page.click("#nav >> text=My history")
    page.wait_for_selector(f"#views tbody tr >> text={title}", timeout=60_000)
    watched = page.locator("#views tbody tr").first.locator("td")
    assert watched.nth(3).inner_text() == page.locator("#meter-spent").inner_text()


def test_a_phone_sized_screen_scrolls_only_down(full, viewer):
    page, errors = viewer
    page.set_viewport_size(PHONE)
    page.locator("#videos .card").first.wait_for()
    widths = {"catalog": page.evaluate("document.documentElement.scrollWidth")}
    _register(page)
    for view in ("wallet", "history"):
        page.click(f"#nav >> text={'My history' if view == 'history' else 'Wallet'}")
        page.wait_for_selector(f"#{view}:not([hidden])")
        widths[view] = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-history")

    assert widths == {"catalog": 375, "wallet": 375, "history": 375}
    assert errors == []


def test_an_empty_wallet_gets_a_prompt_to_deposit_and_no_session(full, viewer):
    page, errors = viewer
    _register(page)
    card = page.locator("#videos .card").first
    title = card.locator("h3").inner_text()

    card.get_by_role("button", name=f"Watch {title}").click()
    page.wait_for_selector("#notice >> text=Not enough funds")
    prompt = page.locator("#notice a")
    screenshot(page, "insufficient-funds")
    prompt.click()

    assert prompt.inner_text() == "Deposit in the Wallet"
    assert page.locator("#player").is_hidden()
    page.wait_for_selector("#wallet:not([hidden])")
    assert page.locator("#wallet-balance").inner_text() == "$0.00"
    # Chromium logs the API's 402 answer itself; nothing else went wrong.
    assert [e for e in errors if "status of 402" not in e] == []
