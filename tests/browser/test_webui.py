"""The web UI in Chromium against the whole platform, as a new viewer uses it: register (the
saga), deposit, play a demo video to its end (the click that starts it is one trace across the
services and the broker), and find what the meter said in the ledger and in the history."""

from urllib.parse import urlsplit

from tests.browser.steps import cents, ledger_charges, register, screenshot
from tests.support.traces import STREAM_START_HOPS, parent_outside, trace_holding

PHONE = {"width": 375, "height": 800}


def test_register_deposit_and_watch_a_video_to_its_end(full, viewer):
    page, errors = viewer
    register(page)
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
    with page.expect_response(lambda r: "/api/stream/start/" in r.url) as started:
        card.get_by_role("button", name=f"Watch {title}").click()
    page.wait_for_function("() => document.querySelector('#video').currentTime > 3")
    screenshot(page, "player")
    # Played to its end, the page ends the session itself and says what it cost.
    page.wait_for_selector("#notice.ok >> text=Stream ended", timeout=120_000)
    meter = {
        "minutes": int(page.locator("#meter-minutes").inner_text()),
        "spent": cents(page.locator("#meter-spent").inner_text()),
        "balance": cents(page.locator("#meter-balance").inner_text()),
    }
    charges = ledger_charges(page)

    assert "$0.01 to $10000" in refused
    assert "$2.50" in first_entry
    # A demo clip is shorter than a minute: one started minute, paid once.
    assert meter["minutes"] == 1 and len(charges) == 1
    assert meter["spent"] == -charges[0] > 0
    assert meter["balance"] == 250 - meter["spent"]
    assert cents(page.locator("#wallet-balance").inner_text()) == meter["balance"]
    assert errors == []

    # The click that started the stream is one trace: the gateway, streaming, video's gRPC,
    # billing's charge, and analytics consuming the event from the broker and projecting it.
    clicked = trace_holding(
        full.traces,
        STREAM_START_HOPS,
        method="POST",
        path_ends=urlsplit(started.value.url).path,
    )
    assert parent_outside(clicked) == []

    page.click("#nav >> text=My history")
    page.wait_for_selector(f"#views tbody tr >> text={title}", timeout=60_000)
    watched = page.locator("#views tbody tr").first.locator("td")
    assert watched.nth(3).inner_text() == page.locator("#meter-spent").inner_text()


def test_a_phone_sized_screen_scrolls_only_down(full, viewer):
    page, errors = viewer
    page.set_viewport_size(PHONE)
    page.locator("#videos .card").first.wait_for()
    widths = {"catalog": page.evaluate("document.documentElement.scrollWidth")}
    register(page)
    links = {"wallet": "Wallet", "history": "My history", "studio": "Studio"}
    links |= {"insights": "Insights", "profile": "Profile"}
    for view, link in links.items():
        page.click(f"#nav >> text={link}")
        page.wait_for_selector(f"#{view}:not([hidden])")
        page.wait_for_load_state("networkidle")
        widths[view] = page.evaluate("document.documentElement.scrollWidth")
    page.click("#nav >> text=Catalog")
    page.click("#videos .card h3 a")
    page.wait_for_selector("#watch:not([hidden]) #watch-start")
    widths["watch"] = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-video-page")

    assert widths == dict.fromkeys(["catalog", *links, "watch"], 375)
    assert errors == []


def test_an_empty_wallet_gets_a_prompt_to_deposit_and_no_session(full, viewer):
    page, errors = viewer
    register(page)
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


def test_the_keyboard_alone_signs_in_moves_between_views_and_deposits(full, viewer):
    page, errors = viewer
    email = register(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("#login:visible")

    page.focus("#login input[name=email]")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("a-long-password")
    page.keyboard.press("Enter")
    page.wait_for_selector("#nav:not([hidden])")
    page.focus("#nav a[href='#wallet']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#wallet:not([hidden])")
    focused_view = page.evaluate("document.activeElement.closest('section').id")
    page.keyboard.press("Tab")
    focused_field = page.evaluate("document.activeElement.name")
    page.keyboard.press("Control+A")
    page.keyboard.type("3.25")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#wallet-balance').innerText === '$3.25'")

    assert (focused_view, focused_field) == ("wallet", "dollars")
    assert errors == []
