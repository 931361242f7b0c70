"""Browser journeys (App. C) in Debian's Chromium against gunicorn of the native stack,
with the mail read from the SMTP sink the Celery worker delivered it to."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.factories import GOOD_PASSWORD, NEW_PASSWORD, AuthenticatorApp
from tests.native_stack import (
    OTP_HEADING,
    button,
    enter_otp,
    heading,
    log_in,
    open_login,
    reset_password_by_email,
    scan_qr,
    set_new_password,
)

pytestmark = [pytest.mark.stack, pytest.mark.browser]


def expect_logon_success(page: Page, user_id: str, first: bool) -> None:
    expect(heading(page, "Logon Success")).to_be_visible()
    last_access = page.locator(".last-access")
    expect(last_access).to_contain_text(user_id)
    expect(last_access).to_contain_text("first access" if first else "last access on")
    expect(button(page, "Logout")).to_be_visible()
    expect(page.get_by_role("link", name="Change Password", exact=True)).to_be_visible()


def test_first_time_logon_by_email_then_ongoing_logon(page: Page, native_stack):
    user_id, email = "B0123401", "b0123401@abc-securities.example"
    open_login(page)
    reset_password_by_email(page, native_stack, user_id, email, NEW_PASSWORD)
    log_in(page, user_id, NEW_PASSWORD)
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    button(page, "SKIP THIS STEP").click()
    expect(heading(page, "Warning")).to_be_visible()
    button(page, "ACCEPT").click()
    expect(heading(page, OTP_HEADING)).to_be_visible()
    enter_otp(page, native_stack.wait_for_otp(email, 2))
    expect_logon_success(page, user_id, first=True)
    button(page, "Logout").click()

    # Ongoing logon (App. C.3): User ID and password, then the e-mailed OTP.
    open_login(page)
    log_in(page, user_id, NEW_PASSWORD)
    expect(heading(page, OTP_HEADING)).to_be_visible()
    enter_otp(page, native_stack.wait_for_otp(email, 3))
    expect_logon_success(page, user_id, first=False)

    mails = native_stack.mails(to=email)
    assert len(mails) == 3 and len({m["body"] for m in mails}) == 3
    for mail in mails:  # no URL and no User ID in the mail (App. C step e)
        assert "http" not in mail["body"] and user_id not in mail["body"].upper()


def test_first_time_logon_by_app_then_ongoing_logon(page: Page, native_stack):
    user_id, email = "B0123402", "b0123402@abc-securities.example"
    open_login(page)
    reset_password_by_email(page, native_stack, user_id, email, NEW_PASSWORD)
    log_in(page, user_id, NEW_PASSWORD)
    button(page, "REGISTER DEVICE").click()
    uri = scan_qr(page)
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp" and user_id in parsed.path, uri
    app = AuthenticatorApp(parse_qs(parsed.query)["secret"][0])
    enter_otp(page, app.code(), submit="SUBMIT")
    expect_logon_success(page, user_id, first=True)
    button(page, "Logout").click()

    open_login(page)
    log_in(page, user_id, NEW_PASSWORD)
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    # The registration used this 30-second step's code, and a code works once; the next
    # step's code is within the one step of tolerance (a phone a little ahead shows it).
    enter_otp(page, app.code(offset_steps=1), submit="SUBMIT")
    expect_logon_success(page, user_id, first=False)
    assert len(native_stack.mails(to=email)) == 1  # only the reset's OTP went by mail


def test_lockout_after_five_wrong_passwords_even_the_right_one_is_refused(page: Page, native_stack):
    user_id = "B0123403"
    open_login(page)
    for _ in range(5):
        log_in(page, user_id, "Wrong(Password)1" + "x" * 4)
        expect(page.get_by_text("Unsuccessful logon", exact=False)).to_be_visible()
    log_in(page, user_id, GOOD_PASSWORD)
    expect(heading(page, "User Login")).to_be_visible()
    expect(page.get_by_text("This account is locked.", exact=False)).to_be_visible()  # issue 12, finding 5
    [(locked_at,)] = native_stack.sql("SELECT locked_at FROM accounts_user WHERE user_id = %s", [user_id])
    assert locked_at is not None
    kinds = native_stack.sql(
        "SELECT kind, data->>'reason' FROM accounts_auditevent WHERE subject_id = %s ORDER BY id", [user_id]
    )
    assert kinds.count(("logon_failure", "password")) == 5
    assert kinds.count(("account_locked", None)) == 1
    assert ("logon_failure", "locked") in kinds and ("logon_success", None) not in kinds


def test_self_service_reset_with_the_app_then_logon(page: Page, native_stack):
    user_id, app = "B0123404", native_stack.apps["B0123404"]
    open_login(page)
    page.get_by_role("link", name="Forgot/Reset your password? >").click()
    page.get_by_label("User ID", exact=True).fill(user_id)
    button(page, "SUBMIT").click()
    expect(heading(page, OTP_HEADING)).to_be_visible()  # one code page for everyone (issue 12, finding 6)
    enter_otp(page, app.code())
    set_new_password(page, NEW_PASSWORD)

    log_in(page, user_id, GOOD_PASSWORD)  # the old password is gone
    expect(page.get_by_text("Unsuccessful logon", exact=False)).to_be_visible()
    log_in(page, user_id, NEW_PASSWORD)
    enter_otp(page, app.code(offset_steps=1), submit="SUBMIT")  # the reset used this step's code
    expect_logon_success(page, user_id, first=True)
    assert native_stack.mails(to="b0123404@abc-securities.example") == []


# -- DMS (App. D.c): maker-checker changes, and "Unlock/Reset OTP Device Registration" ----------


def dms_logon(page: Page, user_id: str, app: AuthenticatorApp) -> None:
    """A DA's ongoing logon to DMS with the app, then to the DMS menu."""
    page.goto("/dms/")
    page.get_by_role("link", name="Login with OTP – Security Management Functions", exact=True).click()
    log_in(page, user_id, GOOD_PASSWORD)
    enter_otp(page, app.code(), submit="SUBMIT")
    expect_logon_success(page, user_id, first=True)
    page.get_by_role("link", name="Continue", exact=True).click()
    expect(heading(page, "Security Management Functions")).to_be_visible()


def change_profile(page: Page, user_id: str, checker_id: str, checker: AuthenticatorApp, change) -> None:
    """ "Change User Profile": User ID -> Submit -> the change -> "Change" -> the checker's
    "Checker ID" and "Authorisation Code" (the checker's app code) -> "Confirm"."""
    page.get_by_role("link", name="Change User Profile", exact=True).click()
    page.get_by_role("textbox", name="User ID", exact=True).fill(user_id)
    button(page, "Submit").click()
    expect(page.locator("#subject-user-id")).to_have_text(user_id)
    change()
    button(page, "Change").click()
    page.get_by_label("Checker ID", exact=True).fill(checker_id)
    page.get_by_label("Authorisation Code", exact=True).fill(checker.code())
    button(page, "Confirm").click()
    expect(page.get_by_text("THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY", exact=True)).to_be_visible()


def test_dms_change_with_a_checker(page: Page, native_stack):
    maker, checker, subject = "B01234X1", "B01234Y1", "B0123405"
    dms_logon(page, maker, native_stack.apps[maker])
    change_profile(
        page,
        subject,
        checker,
        native_stack.apps[checker],
        lambda: page.get_by_label("Surname", exact=True).fill("CHANGED"),
    )
    assert native_stack.sql("SELECT surname FROM accounts_user WHERE user_id = %s", [subject]) == [("CHANGED",)]
    [(kind, maker_id, checker_id)] = native_stack.sql(
        "SELECT kind, maker_id, checker_id FROM dms_changerequest WHERE subject_user_id = %s AND status = 'APPROVED'",
        [subject],
    )
    assert (kind, maker_id, checker_id) == ("CHANGE", maker, checker)


def test_dms_unlock_reset_then_first_time_logon(page: Page, native_stack):
    maker, checker, subject, email = "BNK999X1", "BNK999Y1", "BNK99901", "bnk99901@demo-bank.example"
    open_login(page)
    for _ in range(5):  # the user locks the account
        log_in(page, subject, "Wrong(Password)12345")
    log_in(page, subject, GOOD_PASSWORD)
    expect(page.get_by_text("This account is locked.", exact=False)).to_be_visible()  # issue 12, finding 5

    dms_logon(page, maker, native_stack.apps[maker])
    change_profile(
        page,
        subject,
        checker,
        native_stack.apps[checker],
        lambda: page.get_by_label("Unlock/Reset OTP Device Registration", exact=True).check(),
    )
    [(locked_at, channel)] = native_stack.sql(
        "SELECT locked_at, otp_channel FROM accounts_user WHERE user_id = %s", [subject]
    )
    assert locked_at is None and channel == ""
    button(page, "Logout").click()

    # The next logon is the whole first-time logon (App. C.1).
    open_login(page)
    reset_password_by_email(page, native_stack, subject, email, NEW_PASSWORD)
    log_in(page, subject, NEW_PASSWORD)
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    button(page, "SKIP THIS STEP").click()
    button(page, "ACCEPT").click()
    enter_otp(page, native_stack.wait_for_otp(email, 2))
    expect_logon_success(page, subject, first=True)
