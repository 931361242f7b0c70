"""In a real browser: the back button after Logout shows no protected page (every protected page
is Cache-Control: no-store), and a long Unicode passphrase can be pasted, not only typed, into
Change Password and User Login (docs/security.md, check 22)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.factories import GOOD_PASSWORD

from .steps import button, enter_app_code, expect_logon_success, fill_login, heading, link, logout, open_terminal_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 70 characters: spaces, CJK, an em dash; a digit, a capital, a lower-case letter and a special
# of the HKEX rule; none of the context words.
PASSPHRASE = "Slow river 長江 flows east — 9 boats & one lantern (at dusk) drift by!"


def log_on(page: Page, user, app, password: str) -> None:
    open_terminal_login(page)
    fill_login(page, user.user_id, password)
    enter_app_code(page, app.code())
    expect_logon_success(page, user.user_id)


def test_back_button_after_logout_shows_no_protected_page(page: Page, app_user):
    user, app = app_user
    log_on(page, user, app, GOOD_PASSWORD)
    link(page, "Continue").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(user.user_id)
    logout(page)
    expect(heading(page, "CCASS/CCMS Terminal")).to_be_visible()
    for _ in range(2):  # back to the Terminal's home, then to Logon Success
        page.go_back()
        page.wait_for_load_state()
        expect(heading(page, "User Login")).to_be_visible()  # fetched again, and refused
        assert user.user_id not in page.content()


def paste(page: Page, label: str, text: str) -> None:
    """Put `text` on the clipboard and paste it into the field with Ctrl+V, as a password
    manager or a person copying from a note would."""
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    field = page.get_by_label(label, exact=True)
    field.click()
    field.press("Control+V")
    expect(field).to_have_value(text)


def test_sec22_a_long_unicode_passphrase_can_be_pasted(page: Page, app_user, live_server):
    assert len(PASSPHRASE) >= 64
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    user, app = app_user
    log_on(page, user, app, GOOD_PASSWORD)
    link(page, "Change Password").click()
    expect(heading(page, "Change Password")).to_be_visible()
    paste(page, "New password", PASSPHRASE)
    paste(page, "Confirm new password", PASSPHRASE)
    page.get_by_label("Current password", exact=True).fill(GOOD_PASSWORD)
    page.get_by_label("Enter OTP", exact=True).fill(app.code(offset_steps=1))  # step-up (issue 12, finding 1)
    button(page, "Update").click()
    expect(page.get_by_text("Your password has been changed.", exact=False)).to_be_visible()
    assert User.objects.get(pk=user.pk).check_password(PASSPHRASE)  # whole, not truncated

    logout(page)
    # The app's next code was spent on the change: a minute later (moved, not waited) a new one is due.
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=60), tick=True):
        open_terminal_login(page)
        page.get_by_label("User ID", exact=True).fill(user.user_id)
        paste(page, "Password", PASSPHRASE)
        button(page, "LOG IN").click()
        enter_app_code(page, app.code(offset_steps=1))
        expect_logon_success(page, user.user_id)
