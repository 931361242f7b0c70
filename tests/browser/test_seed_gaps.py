"""Issue 17's seed gaps in a real browser, each walked by the seeds' labels (SPEC.md; the
Information Package's §3.1, §4.1.2, §7, App. D.c and App. D.d): the HKEX contacts, eService
DA3 "Unlock DA Account" and its Client Connect notification, SCard 1 for a DA's smartcard,
every lock shown to a DA, the mandatory e-mail, the confirmations' wording, the app OTP's
message, and the seeds' labels of Authentication Settings and the DMS landing page.

Firm B01234 (HKSCC, CCASS): DA maker B01234X1, DA checkers B01234Y1 and B01234Z1, users.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from accounts import demo_data
from accounts.models import OtpChannel, Participant, Role, User
from ccass_portal import clock
from dms.models import ChangeRequest, EServiceRecord
from tests.factories import GOOD_PASSWORD, AuthenticatorApp, make_person, make_user

from .steps import button, enter_app_code, expect_logon_success, fill_login, heading, link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CCASS_CONTACT = ("2979 7111", "ClearingPS@hkex.com.hk")
CCMS_CONTACT = ("2979 7222", "ClearingPSD@hkex.com.hk")
CCASS_HOURS = "09:00 to 18:00 (Mondays to Fridays, excluding public holidays)"


@pytest.fixture
def firm(participant):
    """DA maker B01234X1, DA checkers B01234Y1 and B01234Z1 on the app, each with a smartcard."""
    people = {}
    for user_id, role in (("B01234X1", Role.DA_MAKER), ("B01234Y1", Role.DA_CHECKER), ("B01234Z1", Role.DA_CHECKER)):
        people[user_id] = make_person(participant, user_id, role=role, srn=demo_data.srn_for(user_id))
    return people


def dms_login(page: Page, da: User, app: AuthenticatorApp) -> None:
    page.goto("/dms/")
    link(page, "Login with OTP – Security Management Functions").click()
    fill_login(page, da.user_id, GOOD_PASSWORD)
    enter_app_code(page, app.code())
    expect_logon_success(page, da.user_id)
    link(page, "Continue").click()
    expect(heading(page, "Security Management Functions")).to_be_visible()


def dms_menu(page: Page, name: str) -> None:
    page.locator("#dms-menu").get_by_role("link", name=name, exact=True).click()


def open_profile(page: Page, function: str, user_id: str) -> None:
    """ "<function>" -> "User ID" -> "Submit" -> "<function> - Detail"."""
    dms_menu(page, function)
    page.get_by_role("textbox", name="User ID", exact=True).fill(user_id)
    button(page, "Submit").click()
    expect(heading(page, f"{function} - Detail")).to_be_visible()


def authorise(page: Page, checker_id: str, code: str) -> None:
    page.get_by_label("Checker ID", exact=True).fill(checker_id)
    page.get_by_label("Authorisation Code", exact=True).fill(code)
    button(page, "Confirm").click()


def operator_login(page: Page) -> None:
    operator, app = make_person(None, "HKEXOP01", is_staff=True)
    page.goto("/backoffice/login/")
    fill_login(page, operator.user_id, GOOD_PASSWORD)
    enter_app_code(page, app.code())
    link(page, "Continue").click()
    expect(heading(page, "HKEX back-office")).to_be_visible()


def contacts(page: Page):
    return page.locator(".hkex-contacts")


# -- 1. Contact (§7) -----------------------------------------------------------------------------


def test_1_landing_pages_show_both_terminals_contacts(page: Page):
    for url in ("/", "/dms/"):
        page.goto(url)
        block = contacts(page)
        for text in (*CCASS_CONTACT, *CCMS_CONTACT, CCASS_HOURS):
            expect(block).to_contain_text(text)


def test_1_a_locked_person_sees_their_terminals_contact_and_a_stranger_sees_the_same(
    browser: Browser, live_server, participant
):
    """The victim (locked) and a stranger who types a User ID of the same shape see the same
    block: which contact shows follows the typed User ID's shape (HK... is CCMS), never the
    account's state."""
    ccms = Participant.objects.create(
        participant_id="HKABC1", name="ABC FUTURES", clearing_house="HKCC", customer_code="ABC", max_users=10
    )
    make_user(participant, "B0123404", password=GOOD_PASSWORD, locked_at=clock.now())
    make_user(ccms, "HKABC101", password=GOOD_PASSWORD, locked_at=clock.now())
    seen = {}
    for user_id in ("B0123404", "B0123499", "HKABC101", "HKABC199"):
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.goto("/login/?service=online")
        fill_login(page, user_id, GOOD_PASSWORD)
        expect(heading(page, "User Login")).to_be_visible()
        page.wait_for_load_state("load")
        seen[user_id] = contacts(page).inner_text()
        context.close()
    assert seen["B0123404"] == seen["B0123499"] and seen["HKABC101"] == seen["HKABC199"]
    assert all(text in seen["B0123404"] for text in (*CCASS_CONTACT, CCASS_HOURS))
    assert not any(text in seen["B0123404"] for text in CCMS_CONTACT)
    assert all(text in seen["HKABC101"] for text in CCMS_CONTACT)
    assert not any(text in seen["HKABC101"] for text in CCASS_CONTACT)


def test_1_the_reset_code_page_says_who_may_reset_and_shows_the_contact(page: Page, participant):
    make_user(participant, "B0123402", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL)
    page.goto("/login/?service=online")
    link(page, "Forgot/Reset your password? >").click()
    expect(heading(page, "Input User ID")).to_be_visible()
    page.get_by_label("User ID", exact=True).fill("B0123402")
    button(page, "SUBMIT").click()
    # One page whoever the ID names (docs/decisions.md): it says who may reset, and whom to ask.
    expect(page.get_by_text("Self-service password reset is available only to", exact=False)).to_be_visible()
    for text in CCASS_CONTACT:
        expect(contacts(page)).to_contain_text(text)


def test_1_a_user_refused_by_dms_sees_their_terminals_contact(page: Page, participant):
    user, _app = make_person(participant, "B0123401")
    page.goto("/dms/login/")
    fill_login(page, user.user_id, GOOD_PASSWORD)
    expect(page.get_by_text("Only Delegated Administrators can use the Security Management Functions.")).to_be_visible()
    for text in CCASS_CONTACT:
        expect(contacts(page)).to_contain_text(text)


# -- 2. eService DA3 "Unlock DA Account" (App. D.c) ---------------------------------------------


def test_2_da3_unlock_da_account_notifies_the_client_connect_submitter(page: Page, participant, firm):
    checker = User.objects.get(user_id="B01234Z1")
    User.objects.filter(pk=checker.pk).update(locked_at=clock.now())
    operator_login(page)
    link(page, "Unlock, enable, disable, delete a DA, or reset a DA's OTP registration").click()
    page.get_by_label("Participant", exact=True).select_option(label="B01234 ABC SECURITIES")
    page.get_by_label("User ID", exact=True).fill("B01234Z1")
    page.get_by_label("Email", exact=True).fill("someone-else@abc-securities.example")
    page.get_by_label("Action", exact=True).select_option(label="Unlock DA Account")
    page.get_by_label("Client Connect submitter's e-mail", exact=True).fill("cc-admin@abc-securities.example")
    button(page, "Process").click()
    # the e-mail address must be the DA's registered one; nothing changes otherwise
    expect(page.locator("#id_email-error")).to_contain_text("registered e-mail address")
    assert User.objects.get(pk=checker.pk).is_locked and not mail.outbox

    page.get_by_label("Email", exact=True).fill(checker.email)
    button(page, "Process").click()
    record = EServiceRecord.objects.get()
    assert record.reference.startswith("DA3_000")
    confirmation = page.get_by_role("status")
    expect(confirmation).to_contain_text(record.reference)
    expect(confirmation).to_contain_text("B01234Z1")
    expect(confirmation).to_contain_text("B01234")
    expect(confirmation).to_contain_text("Unlock DA Account")
    after = User.objects.get(pk=checker.pk)
    assert not after.is_locked and not after.has_twofa and not after.has_usable_password()  # first-time logon next

    # The submitter's notice; the DA gets their own reset notice too (issue 12, finding 1).
    [notice] = [m for m in mail.outbox if m.to == ["cc-admin@abc-securities.example"]]
    assert [m.to for m in mail.outbox if m is not notice] == [[checker.email]]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2]
    assert notice.from_email.endswith(f"<noreply_connect@{domain}>") and "HKEX Client Connect" in notice.from_email
    assert notice.subject == (
        f"DA 3 - CCASS/ CCMS Delegated Administrator Application/ Maintenance Form ({record.reference} from B01234)"
    )
    body = notice.body
    for line in (
        "For reference: the eService is Completed",
        f"Reference Number\t{record.reference}",
        "Workflow Status\tCompleted",
        "Notification Type\tFor reference",
        "Just Processed By\tHKEX",
        "Require action from\tNil",
    ):
        assert line in body, body
    assert after.email not in body and "otp" not in body.lower()


def test_2_da3_add_da_confirmation_names_the_participant_id(page: Page, participant, firm):
    operator_login(page)
    link(page, "Add Delegated Administrator").click()
    page.get_by_label("Participant", exact=True).select_option(label="B01234 ABC SECURITIES")
    page.get_by_label("Role", exact=True).select_option(label="DA checker")
    page.get_by_label("Surname", exact=True).fill("LAM")
    page.get_by_label("Email", exact=True).fill("lam@abc-securities.example")
    button(page, "Process").click()
    expect(page.get_by_role("status")).to_contain_text("added to B01234")


# -- 3. A DA's smartcard password: HKEX through eService SCard 1 (§4.1.2) -------------------------


def test_3_dms_offers_no_smartcard_reset_for_a_da_and_scard1_resets_it(page: Page, participant, firm):
    maker, maker_app = firm["B01234X1"]
    make_user(participant, "B0123401", srn=demo_data.srn_for("B0123401"))
    dms_login(page, maker, maker_app)
    open_profile(page, "Change User Profile", "B01234Z1")
    expect(page.get_by_label("Reset Smartcard Password", exact=True)).to_have_count(0)
    open_profile(page, "Change User Profile", "B0123401")
    expect(page.get_by_label("Reset Smartcard Password", exact=True)).to_be_visible()  # a user's: the DA's job
    button(page, "Logout").click()

    operator_login(page)
    link(page, "eService SCard 1 - Smartcard Maintenance for DA").click()
    page.get_by_label("Participant", exact=True).select_option(label="B01234 ABC SECURITIES")
    page.get_by_label("DA User ID", exact=True).fill("B0123401")  # a user, not a DA
    page.get_by_label("Reset Smartcard Password", exact=True).fill("13579135")
    button(page, "Process").click()
    expect(page.locator("#id_user_id-error")).to_contain_text("has no Delegated Administrator B0123401")
    page.get_by_label("DA User ID", exact=True).fill("B01234Z1")
    page.get_by_label("Reset Smartcard Password", exact=True).fill("13579135")
    button(page, "Process").click()
    expect(page.get_by_role("status")).to_contain_text("B01234Z1")
    assert User.objects.get(user_id="B01234Z1").check_smartcard_password("13579135")
    assert EServiceRecord.objects.get().service == "SCARD1"


# -- 4. A DA sees every lock (App. D.c) -----------------------------------------------------------


def test_4_a_lock_before_2fa_set_up_shows_in_enquire_and_change(page: Page, participant, firm):
    maker, maker_app = firm["B01234X1"]
    make_user(participant, "B0123404", srn=demo_data.srn_for("B0123404"), locked_at=clock.now())  # no 2FA yet
    dms_login(page, maker, maker_app)
    open_profile(page, "Enquire User Profile", "B0123404")
    expect(page.locator("#profile-locked")).to_have_text("Yes")
    expect(page.locator("#profile-otp-enabled")).to_have_text("No")
    open_profile(page, "Change User Profile", "B0123404")
    expect(page.locator("#change-locked")).to_contain_text("Yes")
    expect(page.get_by_label("Unlock/Reset OTP Device Registration", exact=True)).to_be_visible()
    expect(page.locator("#change-otp-enabled")).to_have_text("No")


# -- 5. E-mail is mandatory on Change as on Create (§3.1) -----------------------------------------


def test_5_change_refuses_a_blank_email(page: Page, participant, firm):
    maker, maker_app = firm["B01234X1"]
    make_user(participant, "B0123401")
    dms_login(page, maker, maker_app)
    open_profile(page, "Change User Profile", "B0123401")
    page.get_by_label("Email", exact=True).fill("")
    button(page, "Change").click()
    expect(page.locator("#id_email-error")).to_be_visible()
    expect(heading(page, "Change User Profile - Detail")).to_be_visible()
    assert not ChangeRequest.objects.exists()


# -- 6. Create and Delete say what happened ------------------------------------------------------


def test_6_create_and_delete_confirmations(page: Page, participant, firm):
    maker, maker_app = firm["B01234X1"]
    _checker, checker_app = firm["B01234Y1"]
    _checker2, checker2_app = firm["B01234Z1"]  # a code is good once: the second checker deletes
    make_user(participant, "B0123401")
    dms_login(page, maker, maker_app)
    dms_menu(page, "Create User Profile")
    page.get_by_label("Surname", exact=True).fill("WONG")
    button(page, "Generate User ID").click()
    page.get_by_label("Email", exact=True).fill("wong@abc-securities.example")
    button(page, "Create").click()
    authorise(page, "B01234Y1", checker_app.code())
    expect(page.locator("#dms-confirmation")).to_have_text("THE ABOVE USER PROFILE IS CREATED SUCCESSFULLY")

    open_profile(page, "Delete User Profile", "B0123401")
    button(page, "Delete").click()
    authorise(page, "B01234Z1", checker2_app.code())
    expect(page.locator("#dms-confirmation")).to_have_text("THE ABOVE USER PROFILE IS DELETED SUCCESSFULLY")


# -- 7. The app OTP page offers no "request a new one" ------------------------------------------


def test_7_app_otp_wrong_code_does_not_offer_a_new_one(page: Page, app_user):
    user, app = app_user
    page.goto("/login/?service=online")
    fill_login(page, user.user_id, GOOD_PASSWORD)
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    wrong = "000000" if app.code() != "000000" else "111111"
    page.get_by_label("Enter OTP", exact=True).fill(wrong)
    button(page, "SUBMIT").click()
    error = page.locator("#id_otp-error")
    expect(error).to_be_visible()
    expect(error).not_to_contain_text("request a new one")
    expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_have_count(0)


# -- 8. Authentication Settings: the seed's label (App. D.d e) -----------------------------------


def test_8_authentication_settings_label(page: Page, app_user):
    user, app = app_user
    page.goto("/login/?service=online")
    fill_login(page, user.user_id, GOOD_PASSWORD)
    enter_app_code(page, app.code())
    link(page, "Change Password").click()
    page.goto("/password/authentication-settings/")
    expect(page.get_by_label("Multi-factor authentication using OATH enable", exact=True)).to_be_visible()


# -- 9. The DMS landing page's wording ---------------------------------------------------------


def test_9_dms_landing_options_are_siblings(page: Page):
    page.goto("/dms/")
    expect(link(page, "Login with Smartcard – Security Management Functions")).to_be_visible()
    expect(link(page, "Login with OTP – Security Management Functions")).to_be_visible()
