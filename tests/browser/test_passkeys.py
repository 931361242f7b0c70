"""Passkeys in Chromium with a virtual authenticator (issue 18, "Proof"; docs/security.md,
"Passkeys"): enrol at first-time logon, log on, fall back to the app, three cancelled
ceremonies = one failure, another origin refused, self-service reset, removal with step-up,
and a second browser that knows only the User ID.

The DevTools protocol's WebAuthn domain gives each page a virtual authenticator; the live
server is opened as http://localhost:PORT (WebAuthn takes no IP address as RP ID).
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import OtpChannel, User
from tests.passkey_authenticator import SoftAuthenticator, enrol_credential

from .steps import button, enter_app_code, expect_logon_success, fill_login, heading, logout, open_terminal_login
from .webauthn import VirtualAuthenticator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Correct(Horse)9battery"  # the fixtures' GOOD_PASSWORD


@pytest.fixture(autouse=True)
def _portal_origin(settings, live_server):
    """The live server's own origin is the portal's; passkeys on."""
    settings.PORTAL_PASSKEYS = True
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:"), live_server.url


def holder_on(page: Page, user: User) -> VirtualAuthenticator:
    """`user` holds a passkey, and it is on the page's virtual authenticator."""
    virtual = VirtualAuthenticator(page)
    soft, _ = enrol_credential(user, SoftAuthenticator(rp_id="localhost"))
    virtual.add(soft)
    return virtual


def to_passkey_step(page: Page, user: User) -> None:
    open_terminal_login(page)
    fill_login(page, user.user_id, PASSWORD)
    expect(heading(page, "Passkey")).to_be_visible()


def status(page: Page):
    return page.locator(".passkey-status")


def failures(user: User) -> tuple[int, int]:
    user.refresh_from_db()
    return len(user.logon_failures), user.otp_failures


def wait_for_failures(user: User, expected: tuple[int, int], timeout: float = 5.0) -> None:
    """The page reports a cancel with a request of its own; wait for it to be counted."""
    deadline = time.monotonic() + timeout
    while failures(user) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failures(user) == expected


def test_enrol_at_first_time_logon_then_log_on_with_the_passkey(page: Page, email_user):
    email_user.otp_channel = OtpChannel.NONE
    email_user.twofa_set_up_at = None
    email_user.save(update_fields=["otp_channel", "twofa_set_up_at"])
    virtual = VirtualAuthenticator(page)
    open_terminal_login(page)
    fill_login(page, email_user.user_id, PASSWORD)
    expect(button(page, "REGISTER DEVICE")).to_be_visible()
    expect(button(page, "SKIP THIS STEP")).to_be_visible()
    button(page, "USE A PASSKEY").click()
    expect(heading(page, "Register a passkey")).to_be_visible()
    button(page, "REGISTER PASSKEY").click()
    expect_logon_success(page, email_user.user_id)
    assert len(virtual.credentials()) == 1
    assert email_user.webauthncredential_set.count() == 1

    logout(page)
    to_passkey_step(page, email_user)
    button(page, "USE PASSKEY").click()
    expect_logon_success(page, email_user.user_id)


def test_fall_back_to_the_app(page: Page, app_user):
    user, app = app_user
    holder_on(page, user)
    to_passkey_step(page, user)
    button(page, "USE ANOTHER METHOD").click()
    enter_app_code(page, app.code())
    expect_logon_success(page, user.user_id)


def test_three_cancelled_ceremonies_are_one_failed_logon(page: Page, app_user):
    user, _ = app_user
    virtual = holder_on(page, user)
    virtual.user_verifies(False)  # the person cancels at the fingerprint prompt
    to_passkey_step(page, user)
    for expected in [(0, 1), (0, 2), (1, 0)]:
        button(page, "USE PASSKEY").click()
        expect(status(page)).to_contain_text("cancelled or timed out")
        expect(button(page, "USE PASSKEY")).to_be_enabled()
        wait_for_failures(user, expected)
    virtual.user_verifies(True)
    button(page, "USE PASSKEY").click()
    expect_logon_success(page, user.user_id)


def test_a_ceremony_from_another_origin_is_refused_and_says_why(page: Page, app_user, settings):
    """The page's origin is not the portal's (a relay would be on one): the browser signs for
    it, and the server refuses the answer because of the origin inside it."""
    user, _ = app_user
    holder_on(page, user)
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://localhost:8000"]  # not this page's origin
    to_passkey_step(page, user)
    button(page, "USE PASSKEY").click()
    expect(status(page)).to_contain_text("made for another web site")
    assert failures(user) == (0, 1)
    expect(heading(page, "Passkey")).to_be_visible()


def test_self_service_reset_with_the_passkey(page: Page, email_user):
    holder_on(page, email_user)
    open_terminal_login(page)
    page.get_by_role("link", name="Forgot/Reset your password? >").click()
    page.get_by_label("User ID", exact=True).fill(email_user.user_id)
    button(page, "SUBMIT").click()
    expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
    button(page, "USE PASSKEY").click()
    expect(heading(page, "Reset Password")).to_be_visible()


def test_removal_with_step_up(page: Page, app_user):
    user, app = app_user
    holder_on(page, user)
    to_passkey_step(page, user)
    button(page, "USE PASSKEY").click()
    expect_logon_success(page, user.user_id)
    page.goto("/password/authentication-settings/")
    expect(page.get_by_role("cell", name="Test passkey")).to_be_visible()
    remove = page.locator("form", has=page.locator("input[value='remove-passkey']"))
    remove.get_by_label("Current password", exact=True).fill("Wrong(Horse)9battery")
    remove.get_by_label("Enter OTP", exact=True).fill(app.code())
    button(page, "Remove").click()
    expect(page.get_by_text("The current password is incorrect.").first).to_be_visible()
    assert user.webauthncredential_set.count() == 1
    remove = page.locator("form", has=page.locator("input[value='remove-passkey']"))
    remove.get_by_label("Current password", exact=True).fill(PASSWORD)
    remove.get_by_label("Enter OTP", exact=True).fill(app.code(1))
    button(page, "Remove").click()
    expect(page.get_by_text("The passkey was removed.")).to_be_visible()
    assert user.webauthncredential_set.count() == 0


def test_a_second_browser_that_knows_the_user_id_learns_nothing(browser: Browser, page: Page, app_user, email_user):
    """The attacker's browser types the victim's User ID with a wrong password, and a non-holder's:
    the same page. It cannot reach the victim's passkey step or ceremony."""
    victim, _ = app_user
    holder_on(page, victim)
    to_passkey_step(page, victim)  # the victim is mid-logon

    attacker = browser.new_context(base_url=page.url.split("/login")[0])
    other = attacker.new_page()
    seen = []
    for user_id in (victim.user_id, email_user.user_id):
        open_terminal_login(other)
        fill_login(other, user_id, "Wrong(Horse)9battery")
        expect(other.locator(".errorlist, [role=alert]").first).to_be_visible()  # the answer, not the form
        other.wait_for_load_state("load")  # the whole page, not a half-parsed one
        seen.append(other.locator("main").inner_text())
    assert seen[0] == seen[1]
    other.goto("/login/passkey/")
    expect(heading(other, "User Login")).to_be_visible()
    attacker.close()

    button(page, "USE PASSKEY").click()  # the victim finishes
    expect_logon_success(page, victim.user_id)


def test_a_browser_without_webauthn_is_told_and_can_fall_back(page: Page, app_user):
    user, app = app_user
    enrol_credential(user)
    page.add_init_script("delete window.PublicKeyCredential;")
    to_passkey_step(page, user)
    expect(page.get_by_text("This browser cannot use passkeys. Use another method below.")).to_be_visible()
    expect(button(page, "USE PASSKEY")).to_have_count(0)
    button(page, "USE ANOTHER METHOD").click()
    enter_app_code(page, app.code())
    expect_logon_success(page, user.user_id)


def test_the_passkey_pages_run_under_the_content_security_policy(page: Page, app_user):
    """The library's script and ours come from our static files: no CSP report, no script error."""
    user, _ = app_user
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    holder_on(page, user)
    to_passkey_step(page, user)
    csp = page.request.get("/login/passkey/").headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp
    button(page, "USE PASSKEY").click()
    expect_logon_success(page, user.user_id)
    assert not problems, problems
