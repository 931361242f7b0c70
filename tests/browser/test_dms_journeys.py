"""DMS journeys in a real browser (issue 4, "Proof"): create with a checker on the same page,
change of e-mail, Unlock/Reset of a locked user followed by that user's first-time logon,
the self-check refusals, and the footer of the User Profile Listing.

Mirrors tests/dms/test_views.py (Django's test client) screen by screen, finding things by
the seeds' labels and the stable ids of docs/dms.md. Firm B01234: DA maker B01234X1, DA
checkers B01234Y1 and B01234Z1 (all on the authenticator app), business users.
"""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import OtpChannel, Role, User
from dms.models import ChangeRequest
from tests.browser.helpers import wait_for_otp_mail
from tests.dms.factories import Roster as Firm
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD, AuthenticatorApp, make_person, make_user

from .steps import (
    button,
    enter_app_code,
    enter_email_otp,
    expect_logon_success,
    fill_login,
    heading,
    link,
    new_password_twice,
    open_terminal_login,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUCCESS = "THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY"


@pytest.fixture
def firm(participant) -> Firm:
    """DA maker B01234X1, DA checkers B01234Y1 and B01234Z1 (app OTP), user B0123401."""
    maker, maker_app = make_person(participant, "B01234X1", role=Role.DA_MAKER)
    checker, checker_app = make_person(participant, "B01234Y1", role=Role.DA_CHECKER)
    checker2, checker2_app = make_person(participant, "B01234Z1", role=Role.DA_CHECKER)
    user = make_user(participant, "B0123401", password=GOOD_PASSWORD, channel=OtpChannel.APP)
    return Firm(maker, maker_app, checker, checker_app, checker2, checker2_app, user)


# -- steps ---------------------------------------------------------------------------------


def dms_login(page: Page, da: User, app: AuthenticatorApp) -> None:
    """/dms/ -> "Login with OTP – Security Management Functions" -> User ID, password, app code -> DMS home."""
    page.goto("/dms/")
    link(page, "Login with OTP – Security Management Functions").click()
    fill_login(page, da.user_id, GOOD_PASSWORD)
    enter_app_code(page, app.code())
    expect_logon_success(page, da.user_id)
    link(page, "Continue").click()
    expect(heading(page, "Security Management Functions")).to_be_visible()


def dms_menu(page: Page, name: str) -> None:
    page.locator("#dms-menu").get_by_role("link", name=name, exact=True).click()


def open_change(page: Page, user_id: str) -> None:
    """ "Change User Profile" -> "User ID" -> "Submit" -> the detail page of that profile."""
    dms_menu(page, "Change User Profile")
    # "User ID" is both the box and a "Search by" option: the box.
    page.get_by_role("textbox", name="User ID", exact=True).fill(user_id)
    button(page, "Submit").click()
    expect(heading(page, "Change User Profile - Detail")).to_be_visible()
    expect(page.locator("#subject-user-id")).to_have_text(user_id.upper())


def submitted_request(page: Page) -> ChangeRequest:
    """After "Create"/"Change": the confirmation page of the new (pending) request."""
    expect(page.locator("#request-status")).to_be_visible()
    expect(page.get_by_label("Checker ID", exact=True)).to_be_visible()
    expect(page.get_by_label("Authorisation Code", exact=True)).to_be_visible()
    request_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    return ChangeRequest.objects.get(pk=request_id)


def authorise(page: Page, checker_id: str, code: str) -> None:
    page.get_by_label("Checker ID", exact=True).fill(checker_id)
    page.get_by_label("Authorisation Code", exact=True).fill(code)
    button(page, "Confirm").click()


def expect_authorised(page: Page, success: str = SUCCESS) -> None:
    expect(page.locator("#dms-confirmation")).to_have_text(success)


# -- (1) Create with "Generate User ID" and the checker on the same page ---------------------------


def test_create_user_with_generated_id_and_checker_on_the_same_page(page: Page, firm: Firm):
    dms_login(page, firm.maker, firm.maker_app)
    dms_menu(page, "Create User Profile")
    expect(heading(page, "Create User Profile - Detail")).to_be_visible()
    page.get_by_label("Surname", exact=True).fill("wong")
    button(page, "Generate User ID").click()
    user_id_box = page.get_by_label("User ID", exact=True)
    expect(user_id_box).to_have_value("B0123402")  # B0123401 is taken
    expect(page.get_by_label("Surname", exact=True)).to_have_value("wong")  # what was typed stays
    page.get_by_label("Other Names", exact=True).fill("siu ming")
    page.get_by_label("Email", exact=True).fill("wong@abc.example")
    page.get_by_label("Enable From", exact=True).fill("01/07/24")
    page.get_by_role("radio", name="ENABLED", exact=True).check()
    button(page, "Create").click()

    cr = submitted_request(page)
    assert cr.kind == "CREATE" and cr.maker_id == firm.maker.user_id
    assert not User.objects.filter(user_id="B0123402").exists()  # preparing changes nothing
    authorise(page, firm.checker.user_id, firm.checker_app.code())

    expect_authorised(page, "THE ABOVE USER PROFILE IS CREATED SUCCESSFULLY")
    created = User.objects.get(user_id="B0123402")
    assert (created.surname, created.other_names, created.email) == ("WONG", "SIU MING", "wong@abc.example")
    assert str(created.enable_from) == "2024-07-01" and created.participant.participant_id == "B01234"
    assert created.role == Role.USER
    cr.refresh_from_db()
    assert cr.status == ChangeRequest.Status.APPROVED and cr.checker_id == firm.checker.user_id


# -- (2) Change e-mail --------------------------------------------------------------------------


def test_change_email_with_a_checker(page: Page, firm: Firm):
    dms_login(page, firm.maker, firm.maker_app)
    open_change(page, firm.user.user_id.lower())  # the prompt takes lower case too
    email = page.get_by_label("Email", exact=True)
    expect(email).to_have_value(firm.user.email)
    email.fill("abc@abc.com.hk")
    button(page, "Change").click()

    submitted_request(page)
    assert User.objects.get(pk=firm.user.pk).email == firm.user.email  # not yet
    authorise(page, firm.checker2.user_id, firm.checker2_app.code())

    expect_authorised(page)
    expect(page.locator("#request-values")).to_contain_text("abc@abc.com.hk")
    assert User.objects.get(pk=firm.user.pk).email == "abc@abc.com.hk"


# -- (3) Unlock/Reset of a locked user, then that user's first-time logon ---------------------------


def test_unlock_reset_of_a_locked_user_then_first_time_logon(page: Page, new_context, firm: Firm):
    from ccass_portal import clock

    User.objects.filter(pk=firm.user.pk).update(locked_at=clock.now())
    dms_login(page, firm.maker, firm.maker_app)
    open_change(page, firm.user.user_id)
    page.get_by_label("Unlock/Reset OTP Device Registration", exact=True).check()
    button(page, "Change").click()

    submitted_request(page)
    expect(page.locator("#request-values")).to_contain_text("Will Unlock/Reset OTP Device Registration")
    assert User.objects.get(pk=firm.user.pk).is_locked  # not yet
    authorise(page, firm.checker.user_id, firm.checker_app.code())
    expect_authorised(page)
    user = User.objects.get(pk=firm.user.pk)
    assert not user.is_locked and user.otp_channel == OtpChannel.NONE and not user.has_usable_password()

    # The user, in another browser: the next logon is a first-time logon.
    other = new_context().new_page()
    other.set_default_timeout(10_000)
    open_terminal_login(other)
    link(other, "Forgot/Reset your password? >").click()
    expect(heading(other, "Input User ID")).to_be_visible()
    other.get_by_label("User ID", exact=True).fill(user.user_id)
    button(other, "SUBMIT").click()
    enter_email_otp(other, wait_for_otp_mail(user.email, 1))
    expect(heading(other, "Reset Password")).to_be_visible()
    new_password_twice(other, NEW_PASSWORD)
    button(other, "SUBMIT").click()
    expect(other.get_by_text("Password changed successfully", exact=False)).to_be_visible()
    link(other, "Close").click()

    fill_login(other, user.user_id, NEW_PASSWORD)
    button(other, "SKIP THIS STEP").click()
    button(other, "ACCEPT").click()
    enter_email_otp(other, wait_for_otp_mail(user.email, 2))
    expect_logon_success(other, user.user_id)
    user.refresh_from_db()
    assert not user.is_locked and user.otp_channel == OtpChannel.EMAIL and user.has_twofa
    assert user.check_password(NEW_PASSWORD)


# -- (4) the self-check refusals ------------------------------------------------------------------


def test_maker_as_checker_and_checker_on_their_own_request_are_refused(page: Page, firm: Firm):
    from accounts.models import AuditEvent
    from dms.services import DmsEvent

    old_email = firm.checker.email
    dms_login(page, firm.maker, firm.maker_app)
    open_change(page, firm.checker.user_id)  # a request that concerns checker B01234Y1
    page.get_by_label("Email", exact=True).fill("new@abc.example")
    button(page, "Change").click()
    cr = submitted_request(page)

    # The maker's own ID as Checker ID (with the maker's valid code).
    authorise(page, firm.maker.user_id, firm.maker_app.code(offset_steps=1))
    expect(page.locator("#id_checker_id-error")).to_contain_text("maker of a request cannot authorise")
    expect(page.locator("#dms-confirmation")).to_have_count(0)

    # The checker whom the request concerns, with their own valid code.
    authorise(page, firm.checker.user_id, firm.checker_app.code())
    expect(page.locator("#id_checker_id-error")).to_contain_text("concerns themselves")
    expect(page.locator("#dms-confirmation")).to_have_count(0)
    expect(page.get_by_text(SUCCESS)).to_have_count(0)

    # Nothing changed; the request still waits for a proper checker.
    assert User.objects.get(pk=firm.checker.pk).email == old_email
    cr.refresh_from_db()
    assert cr.status == ChangeRequest.Status.PENDING and not cr.checker_id
    assert AuditEvent.objects.filter(kind=DmsEvent.AUTHORISATION_REFUSED).count() == 2
    page.reload()
    expect(page.locator("#request-status")).to_have_text(cr.get_status_display())


# -- (5) the User Profile Listing and its footer ------------------------------------------------


def test_user_profile_listing_shows_everyone_and_the_five_footer_lines(page: Page, firm: Firm, participant):
    make_user(participant, "B0123402", email="second@abc.example")
    make_user(participant, "B0123403", email="third@abc.example")
    everyone = User.objects.filter(participant=participant)
    assert everyone.count() == 6  # 3 DAs, 3 users
    dms_login(page, firm.maker, firm.maker_app)
    dms_menu(page, "User Profile Listing")
    expect(heading(page, "User Profile Listing")).to_be_visible()

    table = page.locator("#user-profile-listing")
    header = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    assert "User ID" in header and "Email" in header, header
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(6)
    uid_col, email_col = header.index("User ID"), header.index("Email")
    listed = {}
    for i in range(rows.count()):
        cells = [cell.strip() for cell in rows.nth(i).locator("td, th").all_inner_texts()]
        listed[cells[uid_col]] = cells[email_col]
    assert listed == {person.user_id: person.email for person in everyone}

    footer = page.locator("#listing-footer tr")
    lines = [
        tuple(cell.strip() for cell in footer.nth(i).locator("th, td").all_inner_texts()) for i in range(footer.count())
    ]
    assert lines == [
        ("MAX. NO. OF USERS", ": 20"),
        ("TOTAL NO. OF USERS", ": 6"),
        ("TOTAL NO. OF DELEGATED ADMINISTRATORS", ": 3"),
        ("TOTAL NO. OF USERS EXCEPT DELEGATED ADMINISTRATORS", ": 3"),
        ("*** END OF REPORT ***", ""),
    ]
    # The footer ends the page's report: it comes after the last row.
    last_row = rows.nth(5).bounding_box()
    first_footer = footer.nth(0).bounding_box()
    assert last_row and first_footer and first_footer["y"] > last_row["y"]
    assert not mail.outbox
