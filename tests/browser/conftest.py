"""Fixtures of the browser tests: Playwright (Debian's Chromium, see tests/conftest.py)
against pytest-django's live server, in the same process as the tests.

The live server runs in a thread of this process, so the tests can read
django.core.mail.outbox (tests.settings uses the locmem backend) and use the ORM
beside the browser (tests.settings sets DJANGO_ALLOW_ASYNC_UNSAFE).
"""

from __future__ import annotations

import atexit
import base64
import io
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import Page, expect
from pyzbar.pyzbar import decode

from tests.conftest import AuthenticatorApp

# The committed screenshots are refreshed only on request (UPDATE_SCREENSHOTS=1), so an
# ordinary run does not rewrite tracked files in the shared worktree; otherwise they go
# to a temporary folder (still taken, so a page that cannot render fails the test).
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / f"portal-browser-screenshots-{os.getpid()}"
)
if not os.environ.get("UPDATE_SCREENSHOTS") == "1":
    atexit.register(shutil.rmtree, SCREENSHOTS, ignore_errors=True)
DEFAULT_TIMEOUT_MS = 10_000
OTP_BODY = re.compile(r"^One Time Password \(OTP\) for CCASS: (\d{8})$")

expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Own SQLite file per run: other people run the suite in the same worktree at the
    same time, and tests.settings names one fixed file (var/test-portal.sqlite3)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    test_name = db.get("TEST", {}).get("NAME")
    if db["ENGINE"] == "django.db.backends.sqlite3" and test_name and test_name != ":memory:":
        stem, dot, ext = test_name.rpartition(".")
        db["TEST"]["NAME"] = f"{stem}-browser-{os.getpid()}{dot}{ext}" if dot else f"{test_name}-browser-{os.getpid()}"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {**browser_context_args, "base_url": live_server.url, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return page


def shot(page: Page, name: str) -> None:
    """A full-page screenshot of a main screen, for docs/screenshots/ (see SCREENSHOTS)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# -- e-mail OTP ------------------------------------------------------------------------


def wait_for_otp_mail(to: str, count: int, timeout: float = 5.0) -> str:
    """The 8-digit OTP of the `count`-th OTP mail to `to` (the mail is sent on commit,
    in the live server's thread)."""
    deadline = time.monotonic() + timeout
    while True:
        # OTP mails only: change notices (accounts.notices) go to the same address.
        messages = [m for m in mail.outbox if to in m.to and m.subject == "CCASS: One Time Password"]
        if len(messages) >= count:
            message = messages[count - 1]
            assert message.subject == "CCASS: One Time Password"
            match = OTP_BODY.match(message.body.strip())
            assert match, f"unexpected OTP mail body: {message.body!r}"
            return match.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no OTP mail number {count} to {to}; outbox: {[m.to for m in mail.outbox]}")
        time.sleep(0.05)


# -- the QR code -----------------------------------------------------------------------


def decode_qr_png(png: bytes) -> str:
    symbols = decode(Image.open(io.BytesIO(png)))
    assert len(symbols) == 1, f"expected one QR code, found {len(symbols)}"
    return symbols[0].data.decode()


def scan_qr(page: Page) -> tuple[str, AuthenticatorApp]:
    """Read the QR code as an app would: from the served PNG and from the rendered
    pixels; both must carry the same otpauth:// URI. Returns (uri, app)."""
    img = page.get_by_role("img", name="QR code to scan with the ForgeRock Authenticator app")
    expect(img).to_be_visible()
    src = img.get_attribute("src")
    assert src and src.startswith("data:image/png;base64,"), src[:40] if src else src
    uri = decode_qr_png(base64.b64decode(src.split(",", 1)[1]))
    assert decode_qr_png(img.screenshot()) == uri  # what the person's phone sees on screen
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp", uri
    secret = parse_qs(parsed.query)["secret"][0]
    return uri, AuthenticatorApp(secret)
