"""The studio, the insights and the tokens in Chromium against the whole platform: upload a
film longer than a minute with the bytes counted, see it turn ready, edit it, watch it with a
seek across the minute boundary, find it in the insights chart, delete it; staff see the
platform's chart; a token about to expire is rotated before it does."""

import re
import time

import jwt
import pytest

from common.testing.tokens import user_claims
from deploy.bench_http.dataset import clip
from tests.browser.steps import cents, deposit, ledger_charges, register, screenshot

FILM_SECONDS = 75  # past the first minute, inside its paid edge (60 s + 30 s read-ahead)
PROJECTION_WAIT_SECONDS = 60
PLAYED = "document.querySelector('#video').currentTime"
TOKENS = "[localStorage.getItem('token'), localStorage.getItem('refreshToken')]"


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    return clip(tmp_path_factory.mktemp("film"), seconds=FILM_SECONDS)


def _insights_row(page, title: str) -> list[str]:
    """The uploader's figures for the video, once analytics has projected the viewing."""
    deadline = time.monotonic() + PROJECTION_WAIT_SECONDS
    while True:
        page.reload()
        page.wait_for_selector("#my-stats tbody tr")
        for row in page.locator("#my-stats tbody tr").all():
            cells = [cell.inner_text() for cell in row.locator("td").all()]
            if cells[0] == title and cells[1] != "0":
                return cells
        assert time.monotonic() < deadline, page.locator("#my-stats").inner_text()
        time.sleep(1)


def test_upload_edit_watch_across_a_minute_see_the_figures_and_delete(full, viewer, film):
    page, errors = viewer
    register(page)
    deposit(page, "5.00")

    page.click("#nav >> text=Studio")
    upload = page.locator("#upload")
    upload.get_by_label("Video file").set_input_files(str(film))
    upload.get_by_label("Title").fill("Seventy-five seconds")
    upload.get_by_label("Description").fill("A test pattern with a tone.")
    upload.get_by_label("Category").fill("Tests")
    upload.get_by_label("Price per minute (dollars)").fill("0.25")
    upload.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#notice.ok >> text=processing now", timeout=60_000)
    sent = page.locator("#upload-bytes").inner_text()
    bar = page.evaluate(
        "[...document.querySelectorAll('#upload-progress')].map(b => [b.value, b.max])"
    )
    card = page.locator("#my-videos .card", has_text="Seventy-five seconds")
    card.locator(".status.ready").wait_for(timeout=120_000)
    screenshot(page, "studio")

    card.get_by_label("Title").fill("Seventy-five seconds, edited")
    card.get_by_label("Price per minute (dollars)").fill("0.30")
    card.get_by_role("button", name="Save changes").click()
    page.wait_for_selector("#notice.ok >> text=Saved")
    card = page.locator("#my-videos .card", has_text="Seventy-five seconds, edited")
    video_id = int(card.get_attribute("data-video-id"))

    page.goto(full.url("gateway", f"/#watch/{video_id}"))
    page.wait_for_selector("#watch-title >> text=Seventy-five seconds, edited")
    page.get_by_role("button", name="Watch", exact=True).click()
    page.wait_for_function(f"() => {PLAYED} > 2", timeout=60_000)
    # Across the boundary of the first minute: inside what that minute pays for, so it plays.
    page.evaluate("document.querySelector('#video').currentTime = 64")
    page.wait_for_function(f"() => {PLAYED} > 66", timeout=60_000)
    after_seek = page.evaluate(PLAYED)
    screenshot(page, "player-after-seek")
    page.wait_for_selector("#notice.ok >> text=Stream ended", timeout=60_000)
    meter = {
        "minutes": int(page.locator("#meter-minutes").inner_text()),
        "spent": cents(page.locator("#meter-spent").inner_text()),
    }
    charges = ledger_charges(page)

    page.goto(full.url("gateway", "/#insights"))
    figures = _insights_row(page, "Seventy-five seconds, edited")
    page.locator("#my-chart canvas").wait_for()
    screenshot(page, "insights")

    page.click("#nav >> text=Studio")
    edited = page.locator("#my-videos .card", has_text="edited")
    edited.get_by_role("button", name="Delete").click()
    edited.get_by_role("button", name="Press again to delete").click()
    page.wait_for_selector("#notice.ok >> text=Deleted")

    # The request's bytes: the film and the form's other fields around it.
    done, total = (int(n.replace(",", "")) for n in re.findall(r"[\d,]+(?= )", sent)[:2])
    assert sent.endswith("bytes (100%)") and done == total
    assert film.stat().st_size < total < film.stat().st_size + 2000
    assert bar == [[total, total]]
    assert after_seek > 66
    # The clock of the session, not the position in the film, counts: one started minute.
    assert meter == {"minutes": 1, "spent": 30}
    assert charges == [-30]
    assert figures[1:] == ["1", "1", figures[3], "$0.30"] and figures[3] != "0:00"
    assert page.locator("#my-videos").inner_text() == "Nothing uploaded yet."
    assert errors == []


def test_staff_see_the_platform_chart_by_day_and_by_month(full, viewer):
    page, errors = viewer
    token = full.user_headers(staff=True)["Authorization"].removeprefix("Bearer ")
    page.evaluate("token => localStorage.setItem('token', token)", token)
    page.goto(full.url("gateway", "/#insights"))
    page.reload()  # the page reads its token when it loads
    page.locator("#platform-chart canvas").wait_for(timeout=30_000)
    daily = page.locator("#platform-caption").inner_text()
    screenshot(page, "insights-platform")
    page.get_by_label("Period").select_option("monthly")
    page.wait_for_selector("#platform-caption >> text=per month")
    totals = page.locator("#platform-totals").inner_text()

    assert daily.startswith("Views and revenue per day")
    assert "Revenue" in totals and "Views" in totals
    assert errors == []


def test_a_token_about_to_expire_is_rotated_before_it_does(full, viewer):
    page, errors = viewer
    register(page)
    signed_in = page.evaluate(TOKENS)
    user_id = jwt.decode(signed_in[0], options={"verify_signature": False})["user_id"]
    # The same user's token, 30 s from its end: inside the minute before expiry.
    key = (full.platform.var / "secrets" / "jwt_private.pem").read_text()
    claims = user_claims(user_id, email="viewer@example.com", expires_in=30)
    page.evaluate("token => localStorage.setItem('token', token)", jwt.encode(claims, key, "RS256"))
    page.reload()
    page.wait_for_function(
        """exp => {
            const part = localStorage.getItem('token').split('.')[1];
            return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))).exp > exp;
        }""",
        arg=claims["exp"],
        timeout=30_000,
    )
    page.click("#nav >> text=Wallet")
    page.wait_for_function("() => document.querySelector('#wallet-balance').innerText === '$0.00'")
    rotated = page.evaluate(TOKENS)

    expires = jwt.decode(rotated[0], options={"verify_signature": False})["exp"]
    assert expires - time.time() > 10 * 60
    assert rotated[1] != signed_in[1]
    assert page.locator("#who").inner_text() == "Ada Viewer"
    assert errors == []
