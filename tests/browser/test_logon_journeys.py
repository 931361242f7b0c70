"""The logon journeys of SPEC.md in a real browser (issue 3, "Proof"): first-time logon by
app and by e-mail, ongoing logon, lockout, self-service reset, the forced change of an
expired password, the smartcard logon and the DMS logon of a DA.

Mirrors tests/accounts/test_logon_flow.py (Django's test client) screen by screen, finding
everything by the seeds' labels.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.demo_data import CERTIFICATE_EXPIRY, DEMO_SMARTCARD_PASSWORD, srn_for
from accounts.logon import LOCKED_MESSAGE
from accounts.models import OtpChannel, Role, User
from accounts.reset import WHO_CAN_RESET
from accounts.services import SMARTCARD_FAILURE
from ccass_portal import clock
from otp.models import AuthenticatorDevice
from tests.browser.helpers import scan_qr, shot, wait_for_otp_mail
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD, AuthenticatorApp, make_user

from .steps import (
    button,
    enter_app_code,
    enter_email_otp,
    expect_logon_success,
    expect_refused_logon,
    fill_login,
    heading,
    link,
    logout,
    new_password_twice,
    open_terminal_login,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRONG_PASSWORD = "Wrong(Password)123x"


def reset_to_new_password(page: Page, user: User, *, screenshots: bool = False) -> None:
    """First-time logon, steps 1-4: Forgot/Reset -> Input User ID -> e-mail OTP -> Reset Password -> Close."""
    open_terminal_login(page)
    if screenshots:
        shot(page, "login")
    link(page, "Forgot/Reset your password? >").click()
    expect(heading(page, "Input User ID")).to_be_visible()
    page.get_by_label("User ID", exact=True).fill(user.user_id)
    button(page, "SUBMIT").click()
    expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
    expect(button(page, "REQUEST OTP")).to_be_visible()
    otp = wait_for_otp_mail(user.email, 1)
    if screenshots:
        shot(page, "email-otp")
    enter_email_otp(page, otp)
    expect(heading(page, "Reset Password")).to_be_visible()
    expect(page.get_by_text("Please enter your new password below.")).to_be_visible()
    new_password_twice(page, NEW_PASSWORD)
    if screenshots:
        shot(page, "reset-password")
    button(page, "SUBMIT").click()
    expect(page.get_by_text("Password changed successfully", exact=False)).to_be_visible()
    if screenshots:
        shot(page, "reset-done")
    link(page, "Close").click()
    expect(heading(page, "User Login")).to_be_visible()


def app_user_with_device(participant, user_id: str, role=Role.USER, **extra) -> tuple[User, AuthenticatorApp]:
    user = make_user(participant, user_id, role=role, password=GOOD_PASSWORD, channel=OtpChannel.APP, **extra)
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return user, AuthenticatorApp(device.base32_key)


# -- (1), (2) first-time logon ------------------------------------------------------------


def test_first_time_logon_by_app(page: Page, new_user):
    page.goto("/")
    expect(heading(page, "CCASS/CCMS Terminal")).to_be_visible()
    shot(page, "landing")
    reset_to_new_password(page, new_user, screenshots=True)

    fill_login(page, new_user.user_id, NEW_PASSWORD)
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    expect(button(page, "SKIP THIS STEP")).to_be_visible()
    shot(page, "setup")
    button(page, "REGISTER DEVICE").click()

    uri, app = scan_qr(page)
    assert unquote(uri).startswith("otpauth://totp/HKEX CCASS:B0123401?"), uri
    expect(page.get_by_label("Key for manual entry")).to_have_text(
        " ".join(app.totp.secret[i : i + 4] for i in range(0, len(app.totp.secret), 4))
    )
    shot(page, "register-device")
    enter_app_code(page, app.code())

    expect_logon_success(page, "B0123401")
    expect(page.locator(".last-access")).to_have_text("B0123401 first access")
    shot(page, "success")
    new_user.refresh_from_db()
    assert new_user.otp_channel == OtpChannel.APP and new_user.has_twofa
    assert AuthenticatorDevice.objects.get(user=new_user).confirmed


def test_first_time_logon_by_email(page: Page, new_user):
    reset_to_new_password(page, new_user)
    fill_login(page, new_user.user_id, NEW_PASSWORD)
    button(page, "SKIP THIS STEP").click()
    expect(page.get_by_text("cannot reset your own password")).to_be_visible()
    shot(page, "skip-warning")
    button(page, "ACCEPT").click()

    otp = wait_for_otp_mail(new_user.email, 2)
    message = [m for m in mail.outbox if new_user.email in m.to][-1]
    assert "B0123401" not in message.body.upper() and "http" not in message.body.lower()
    enter_email_otp(page, otp)

    expect_logon_success(page, "B0123401")
    new_user.refresh_from_db()
    assert new_user.otp_channel == OtpChannel.EMAIL and new_user.has_twofa


# -- (3) ongoing logon, then Logout ------------------------------------------------------


def test_ongoing_logon_by_app_then_logout(page: Page, app_user):
    user, app = app_user
    open_terminal_login(page)
    fill_login(page, user.user_id, GOOD_PASSWORD)
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    shot(page, "otp-app")
    enter_app_code(page, app.code())
    expect_logon_success(page, user.user_id)

    link(page, "Continue").click()
    expect(page.get_by_text("Online Functions").first).to_be_visible()
    shot(page, "terminal-home")
    logout(page)
    expect(heading(page, "CCASS/CCMS Terminal")).to_be_visible()
    page.goto("/terminal/")
    expect(heading(page, "User Login")).to_be_visible()  # the session is gone


def test_ongoing_logon_by_email_then_logout(page: Page, email_user):
    open_terminal_login(page)
    fill_login(page, email_user.user_id, GOOD_PASSWORD)
    enter_email_otp(page, wait_for_otp_mail(email_user.email, 1))
    expect_logon_success(page, email_user.user_id)
    logout(page)
    expect(heading(page, "CCASS/CCMS Terminal")).to_be_visible()
    page.goto("/login/success/")
    expect(heading(page, "User Login")).to_be_visible()


# -- (4) lockout -------------------------------------------------------------------------


def test_five_wrong_passwords_lock_and_the_right_password_and_code_are_refused(page: Page, new_context, app_user):
    user, app = app_user
    open_terminal_login(page)
    for _ in range(4):
        fill_login(page, user.user_id, WRONG_PASSWORD)
        expect_refused_logon(page)
        expect(page.get_by_role("alert")).not_to_contain_text(str(LOCKED_MESSAGE))

    # Meanwhile, in another browser, the right password reaches the OTP step.
    other = new_context().new_page()
    other.set_default_timeout(10_000)
    open_terminal_login(other)
    fill_login(other, user.user_id, GOOD_PASSWORD)
    expect(heading(other, "ForgeRock Authenticator (OATH)")).to_be_visible()

    fill_login(page, user.user_id, WRONG_PASSWORD)  # the fifth
    expect_refused_logon(page)
    expect(page.get_by_role("alert")).not_to_contain_text(str(LOCKED_MESSAGE))
    user.refresh_from_db()
    assert user.is_locked

    # From the next attempt on: the right password is refused with the lock message...
    fill_login(page, user.user_id, GOOD_PASSWORD)
    expect(heading(page, "User Login")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(str(LOCKED_MESSAGE))
    shot(page, "locked")
    # ...and so is the right code in the other browser.
    enter_app_code(other, app.code())
    expect_refused_logon(other)
    other.goto("/terminal/")
    expect(heading(other, "User Login")).to_be_visible()
    user.refresh_from_db()
    assert user.is_locked


# -- (5) self-service reset ------------------------------------------------------------------


def test_self_service_reset_by_an_app_user(page: Page, app_user):
    user, app = app_user
    open_terminal_login(page)
    link(page, "Forgot/Reset your password? >").click()
    page.get_by_label("User ID", exact=True).fill(user.user_id)
    button(page, "SUBMIT").click()
    # One code page for everyone (docs/decisions.md, "Self-service reset answers alike"); the app's code proves the person.
    expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
    page.get_by_label("Enter OTP", exact=True).fill(app.code())
    button(page, "SUBMIT OTP").click()
    expect(heading(page, "Reset Password")).to_be_visible()
    new_password_twice(page, NEW_PASSWORD)
    button(page, "SUBMIT").click()
    expect(page.get_by_text("Password changed successfully", exact=False)).to_be_visible()
    # No OTP by e-mail for an app user; only the notice of the change (docs/security.md, "Step-up").
    assert [m.subject for m in mail.outbox] == ["CCASS: a change to your logon settings / CCASS：您的登入設定已更改"]
    link(page, "Close").click()

    fill_login(page, user.user_id, GOOD_PASSWORD)  # the old password no longer works
    expect_refused_logon(page)
    fill_login(page, user.user_id, NEW_PASSWORD)
    enter_app_code(page, app.code(offset_steps=1))  # the first code was used: single use
    expect_logon_success(page, user.user_id)


def test_self_service_reset_looks_the_same_for_an_email_otp_user_and_an_unknown_id(page: Page, email_user):
    """A stranger typing IDs sees the same pages whoever they name (issue 12, finding 6)."""

    def pages_for(user_id: str) -> list[str]:
        open_terminal_login(page)
        link(page, "Forgot/Reset your password? >").click()
        page.get_by_label("User ID", exact=True).fill(user_id)
        button(page, "SUBMIT").click()
        expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
        page.wait_for_load_state("load")  # the whole page, scripts run: not a half-parsed one
        seen = [page.locator("main").inner_text()]
        page.get_by_label("Enter OTP", exact=True).fill("12345678")
        button(page, "SUBMIT OTP").click()
        expect(page.get_by_text("Invalid OTP", exact=False).first).to_be_visible()
        page.wait_for_load_state("load")
        seen.append(page.locator("main").inner_text())
        return seen

    mine = pages_for(email_user.user_id)
    assert str(WHO_CAN_RESET) in mine[0] and "Unlock/Reset OTP Device Registration" in mine[0]
    shot(page, "reset-code")
    assert not mail.outbox
    assert pages_for("B01234ZZ") == mine


# -- (6) expired password ------------------------------------------------------------------


def test_expired_password_must_be_changed_before_going_on(page: Page, app_user):
    user, app = app_user
    User.objects.filter(pk=user.pk).update(password_changed_at=clock.now() - timedelta(days=91))
    open_terminal_login(page)
    fill_login(page, user.user_id, GOOD_PASSWORD)
    # The app's code first: the password alone never changes it (docs/decisions.md,
    # "Expired password: the second factor before the change").
    enter_app_code(page, app.code())

    expect(heading(page, "Change Password")).to_be_visible()
    expect(page.get_by_text("Your password has expired", exact=False)).to_be_visible()
    page.goto("/terminal/")  # nothing else is reachable
    expect(heading(page, "User Login")).to_be_visible()
    page.go_back()
    expect(heading(page, "Change Password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Current password", exact=True).fill(GOOD_PASSWORD)
    shot(page, "expired-password")
    button(page, "Update").click()

    expect_logon_success(page, user.user_id)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert clock.now() - user.password_changed_at < timedelta(minutes=5)


# -- (7) smartcard -------------------------------------------------------------------------


def with_card(user: User) -> User:
    user.srn = srn_for(user.user_id)
    user.set_smartcard_password(DEMO_SMARTCARD_PASSWORD)
    user.certificate_expiry = CERTIFICATE_EXPIRY
    user.save()
    return user


def smartcard_logon(page: Page, srn: str, pin: str) -> None:
    page.goto("/")
    link(page, "Login with Smartcard - Online Functions and Overnight Report Download").click()
    expect(heading(page, "Login with Smartcard")).to_be_visible()
    page.get_by_label("SRN", exact=True).fill(srn)
    page.get_by_label("Smartcard Password", exact=True).fill(pin)
    button(page, "Logon").click()


def test_smartcard_logon_of_a_migrated_user(page: Page, participant):
    user = with_card(make_user(participant, "B0123404"))
    page.goto("/")
    link(page, "Login with Smartcard - Online Functions and Overnight Report Download").click()
    expect(heading(page, "Login with Smartcard")).to_be_visible()
    shot(page, "smartcard")
    smartcard_logon(page, user.srn, DEMO_SMARTCARD_PASSWORD)
    expect_logon_success(page, "B0123404")


def test_smartcard_logon_refused_for_a_user_created_after_the_launch(page: Page, participant):
    user = with_card(make_user(participant, "B0123405", created_after_launch=True))
    smartcard_logon(page, user.srn, DEMO_SMARTCARD_PASSWORD)
    expect(heading(page, "Login with Smartcard")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(str(SMARTCARD_FAILURE))
    page.goto("/terminal/")
    expect(heading(page, "User Login")).to_be_visible()


def test_smartcard_options_are_gone_after_decommissioning(page: Page, settings):
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = clock.today()
    for url in ["/", "/dms/"]:
        page.goto(url)
        expect(page.get_by_role("link", name=re.compile("Login with OTP")).first).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("Smartcard"))).to_have_count(0)
    response = page.goto("/login/smartcard/")
    assert response is not None and response.status == 404


# -- DMS -------------------------------------------------------------------------------------


def test_a_delegated_administrator_logs_in_to_dms(page: Page, participant):
    da, app = app_user_with_device(participant, "B01234X1", role=Role.DA_MAKER)
    page.goto("/dms/")
    expect(heading(page, "CCASS Security Management Functions (DMS)")).to_be_visible()
    expect(link(page, "Login with Smartcard – Security Management Functions")).to_be_visible()
    shot(page, "dms-landing")
    link(page, "Login with OTP – Security Management Functions").click()
    fill_login(page, da.user_id, GOOD_PASSWORD)
    enter_app_code(page, app.code())
    expect_logon_success(page, "B01234X1")
    assert page.url.endswith("/dms/login/success/")
    link(page, "Continue").click()
    expect(heading(page, "Security Management Functions")).to_be_visible()
    expect(page.get_by_text("Maintain User Profile")).to_be_visible()
    shot(page, "dms-home")
