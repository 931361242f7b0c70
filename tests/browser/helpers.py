"""What the browser tests read off the screens and the mailbox: screenshots, the e-mailed OTP and
the QR code, as a person would (the fixtures are in tests/browser/conftest.py)."""

from __future__ import annotations

import atexit
import base64
import io
import os
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from django.core import mail
from PIL import Image
from playwright.sync_api import Page, expect
from pyzbar.pyzbar import decode

from tests.factories import AuthenticatorApp
from tests.logon_helpers import OTP_BODY

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
