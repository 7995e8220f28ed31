"""What a viewer does in the UI, step by step, and the screenshots the tests leave behind
(var/screenshots/, where `make screenshots` copies the README's from)."""

import re
import uuid
from pathlib import Path

from common.paths import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def cents(text: str) -> int:
    dollars, amount = re.fullmatch(r"-?\$(\d+)\.(\d\d)", text.strip()).groups()
    return (-1 if text.strip().startswith("-") else 1) * (int(dollars) * 100 + int(amount))


def register(page) -> str:
    email = f"viewer-{uuid.uuid4().hex[:8]}@example.com"
    form = page.locator("#register")
    form.get_by_label("First name").fill("Ada")
    form.get_by_label("Last name").fill("Viewer")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password (8-64)").fill("a-long-password")
    form.get_by_role("button", name="Register").click()
    page.wait_for_selector("#nav:not([hidden])", timeout=60_000)
    return email


def deposit(page, dollars: str) -> None:
    page.click("#nav >> text=Wallet")
    page.get_by_label("Deposit (dollars)").fill(dollars)
    page.get_by_role("button", name="Deposit").click()
    page.wait_for_function(
        f"() => document.querySelector('#wallet-balance').innerText === '${dollars}'"
    )


def ledger_charges(page) -> list[int]:
    """The charges the Wallet's ledger lists (negative cents), newest first."""
    page.click("#nav >> text=Wallet")
    page.wait_for_selector("#transactions tbody tr >> text=charge", timeout=30_000)
    return [
        cents(row.locator("td").nth(2).inner_text())
        for row in page.locator("#transactions tbody tr").all()
        if "charge" in row.inner_text().lower()
    ]
