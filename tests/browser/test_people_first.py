"""People first (issue 8, "Proof") in a real browser: the language switch, the e-mail OTP
countdowns (with and without JavaScript), keyboard-only logon with a visible focus, the
service-hours page, report download and isolation, the migration readiness dashboard
against seeded data, and the demo clock driving a real OTP expiry. The last test walks the
main screens in English and Traditional Chinese for docs/screenshots/ (UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from accounts.audit import Event
from accounts.logon import INVALID_OTP
from accounts.models import AuditEvent, OtpChannel, Participant, User
from ccass_portal import clock
from otp.models import AuthenticatorDevice
from terminal import overnight_reports
from terminal.models import OvernightReport
from tests.browser.helpers import shot, wait_for_otp_mail
from tests.factories import GOOD_PASSWORD, AuthenticatorApp, hashed, make_user

from .steps import button, enter_app_code, enter_email_otp, expect_logon_success, fill_login, heading, link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HK = ZoneInfo("Asia/Hong_Kong")
COUNTDOWN = re.compile(r"^\d+:\d\d$")


def enrol_app(user: User) -> AuthenticatorApp:
    """Give an existing profile a password and a confirmed authenticator app."""
    User.objects.filter(pk=user.pk).update(
        password=hashed(GOOD_PASSWORD),
        password_changed_at=clock.now(),
        otp_channel=OtpChannel.APP,
        twofa_set_up_at=clock.now(),
    )
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return AuthenticatorApp(device.base32_key)


def html_lang(page: Page) -> str:
    return page.locator("html").get_attribute("lang") or ""


# -- the language switch ---------------------------------------------------------------------


def test_language_switch_is_remembered_on_the_next_page(page: Page):
    page.goto("/")
    assert html_lang(page) == "en"
    expect(heading(page, "CCASS/CCMS Terminal")).to_be_visible()
    button(page, "繁體中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(button(page, "English")).to_be_visible()
    page.locator('a.landing-button[href="/login/?service=online"]').click()  # Login with OTP - Online Functions
    expect(page.locator("#id_user_id")).to_be_visible()
    assert html_lang(page) == "zh-Hant"
    expect(heading(page, "User Login")).to_have_count(0)  # the heading is in Chinese now
    button(page, "English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading(page, "User Login")).to_be_visible()
    page.goto("/dms/")
    assert html_lang(page) == "en"


# -- the e-mail OTP countdowns ----------------------------------------------------------------


def test_email_otp_countdowns_tick_each_second(page: Page, email_user):
    page.goto("/login/")
    fill_login(page, email_user.user_id, GOOD_PASSWORD)
    expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
    for box in ("#otp-valid", "#otp-next-request"):
        countdown = page.locator(f"{box} strong.countdown")
        first = countdown.inner_text()
        assert COUNTDOWN.match(first), first
        expect(countdown).not_to_have_text(first, timeout=3_000)  # it ticks down
        assert COUNTDOWN.match(countdown.inner_text())
        minutes, seconds = map(int, countdown.inner_text().split(":"))
        assert 0 < minutes * 60 + seconds < 5 * 60
    enter_email_otp(page, wait_for_otp_mail(email_user.email, 1))
    expect_logon_success(page, email_user.user_id)


def test_email_otp_page_works_without_javascript(browser: Browser, live_server, email_user):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/login/")
        fill_login(page, email_user.user_id, GOOD_PASSWORD)
        expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
        valid = page.locator("#otp-valid")
        expect(valid).to_contain_text("The OTP is valid until")
        served = valid.locator("strong.countdown").inner_text()
        assert COUNTDOWN.match(served) and served.startswith(("4:", "5:")), served
        expect(page.locator("#otp-next-request")).to_contain_text("You can request a new OTP at")
        page.wait_for_timeout(1_500)
        assert valid.locator("strong.countdown").inner_text() == served  # no script: the served text stays
        enter_email_otp(page, wait_for_otp_mail(email_user.email, 1))
        expect_logon_success(page, email_user.user_id)
    finally:
        context.close()


# -- keyboard only ----------------------------------------------------------------------------


def focused(page: Page) -> dict:
    return page.evaluate(
        """() => { const el = document.activeElement, style = getComputedStyle(el);
        return {id: el.id, tag: el.tagName, text: (el.innerText || '').trim(),
                outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth}; }"""
    )


def tab_to(page: Page, wanted, limit: int = 25) -> dict:
    """Press Tab until `wanted(focused)` holds; the focus must be visible there."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            assert now["outlineStyle"] != "none" and float(now["outlineWidth"].rstrip("px")) >= 2, now
            return now
    raise AssertionError(f"Tab never reached the element; last focus {focused(page)}")


def test_keyboard_only_logon_with_a_visible_focus(page: Page, app_user):
    user, app = app_user
    page.goto("/login/")
    expect(heading(page, "User Login")).to_be_visible()
    tab_to(page, lambda f: f["id"] == "id_user_id")
    page.keyboard.type(user.user_id)
    tab_to(page, lambda f: f["id"] == "id_password")
    page.keyboard.type(GOOD_PASSWORD)
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "LOG IN")
    page.keyboard.press("Enter")
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    tab_to(page, lambda f: f["id"] == "id_otp")
    page.keyboard.type(app.code())
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "SUBMIT")
    page.keyboard.press("Enter")
    expect_logon_success(page, user.user_id)


# -- service hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at, url, service, resumes",
    [
        (datetime(2024, 12, 25, 10, 0, tzinfo=HK), "/login/", "CCASS/CCMS Terminal", "27-Dec-24 07:00"),  # Christmas
        (datetime(2024, 11, 23, 14, 0, tzinfo=HK), "/dms/login/", "DMS", "25-Nov-24 07:00"),  # Saturday afternoon
    ],
    ids=["terminal-on-christmas-day", "dms-on-saturday-afternoon"],
)
def test_service_closed_page_says_when_service_resumes(page: Page, settings, at, url, service, resumes):
    settings.PORTAL_ENFORCE_SERVICE_HOURS = True
    with time_machine.travel(at, tick=True):
        response = page.goto(url)
        assert response is not None and response.status == 503
        expect(page.get_by_role("heading", level=1)).to_contain_text("closed")
        expect(page.locator("h1")).to_contain_text(service)
        expect(page.locator("[data-resumes]")).to_contain_text(f"Service resumes at {resumes} (Hong Kong time)")
        expect(page.locator("#id_user_id")).to_have_count(0)
        page.goto(url.replace("login/", ""))  # the landing page stays open
        expect(page.locator("a.landing-button").first).to_be_visible()


# -- overnight reports ------------------------------------------------------------------------


def test_report_download_and_isolation(page: Page, participant, other_participant, app_user):
    user, app = app_user
    day = clock.today() - timedelta(days=1)
    ours = overnight_reports.generate_reports(participant=participant, business_date=day)
    theirs = overnight_reports.generate_reports(participant=other_participant, business_date=day)
    page.goto("/")
    link(page, "Login with OTP - Overnight Report Download").click()
    fill_login(page, user.user_id, GOOD_PASSWORD)
    enter_app_code(page, app.code())
    expect_logon_success(page, user.user_id)
    page.locator('a[href="/reports/"]').first.click()
    links = page.locator('a[href^="/reports/"][download]')
    expect(links).to_have_count(len(ours))
    for report in theirs:
        expect(page.locator(f'a[href="/reports/{report.pk}/"]')).to_have_count(0)
    with page.expect_download() as info:
        page.locator(f'a[href="/reports/{ours[0].pk}/"]').click()
    download = info.value
    assert download.suggested_filename == ours[0].filename
    content = open(download.path(), encoding="utf-8").read()
    assert content == ours[0].content and "Participant ID,B01234" in content
    response = page.goto(f"/reports/{theirs[0].pk}/")
    assert response is not None and response.status == 404
    assert OvernightReport.objects.filter(pk=theirs[0].pk).exists()


# -- the migration readiness dashboard ---------------------------------------------------------


def seeded_demo() -> None:
    """seed_demo's 4 firms, with a few B01234 profiles moved on: two by app, one by e-mail
    (the DA maker, who logs in), one without e-mail, one locked."""
    call_command("seed_demo", stdout=io.StringIO())
    User.objects.filter(user_id__in=["B0123401", "B0123402"]).update(
        otp_channel=OtpChannel.APP, twofa_set_up_at=clock.now()
    )
    User.objects.filter(user_id="B0123403").update(email="")
    User.objects.filter(user_id="B0123404").update(locked_at=clock.now())


def figure(page: Page, label: str) -> str:
    row = page.locator("#dashboard-figures tr").filter(has=page.get_by_role("rowheader", name=label, exact=True))
    return row.locator("td").inner_text().strip()


def test_dashboard_numbers_against_seeded_data(page: Page):
    seeded_demo()
    da_app = enrol_app(User.objects.get(user_id="B01234X1"))
    page.goto("/dms/login/")
    fill_login(page, "B01234X1", GOOD_PASSWORD)
    enter_app_code(page, da_app.code())
    expect_logon_success(page, "B01234X1")
    link(page, "Continue").click()
    page.get_by_role("navigation", name="Security Management Functions").get_by_role(
        "link", name="Migration Readiness Dashboard"
    ).click()
    expect(heading(page, "Migration readiness dashboard")).to_be_visible()
    expected = {
        "Profiles": "8",
        "E-mail registered": "7",
        "Without a registered e-mail address": "1",
        "2FA set up": "3",
        "OTP by mobile application": "3",
        "OTP by e-mail": "0",
        "2FA not yet set up": "5",
        "Smartcard only (no 2FA, card still valid)": "5",
        "Locked": "1",
        "DA makers (enabled)": "1",
        "DA checkers (enabled)": "2",
    }
    assert {label: figure(page, label) for label in expected} == expected
    expect(page.locator("#roster-compliance td")).to_contain_text("Yes")
    expect(page.locator("#chart-twofa svg title").first).to_have_text("2FA set up and OTP channel")
    expect(page.locator("#chart-twofa-data")).to_contain_text("Smartcard only (no 2FA, card still valid)")
    expect(page.locator("#checklist-1")).to_contain_text("Not yet (from the data)")
    expect(page.locator("#checklist-12")).to_contain_text("Not yet (from the data)")
    expect(page.locator("#checklist-2")).to_contain_text("Participant's own to-do")
    expect(page.locator(".checklist li")).to_have_count(15)
    expect(page.get_by_text("DEMO DESIGNATED BANK")).to_have_count(0)
    with page.expect_download() as info:
        page.locator("#dashboard-csv").click()
    assert info.value.suggested_filename == "migration-readiness-B01234.csv"
    assert "Profiles,8" in open(info.value.path(), encoding="utf-8").read()
    response = page.goto("/backoffice/migration-readiness/")
    assert response is not None and response.status == 403


def test_operator_dashboard_one_row_per_firm(page: Page):
    seeded_demo()
    operator = make_user(None, "HKEXOP01", is_staff=True)
    app = enrol_app(operator)
    page.goto("/backoffice/login/")
    fill_login(page, operator.user_id, GOOD_PASSWORD)
    enter_app_code(page, app.code())
    link(page, "Continue").click()
    link(page, "Migration readiness dashboard").click()
    firms = page.locator("#dashboard-firms tbody tr")
    expect(firms).to_have_count(Participant.objects.count())
    b01234 = firms.filter(has=page.get_by_role("rowheader", name="B01234", exact=True))
    assert b01234.locator("td").all_inner_texts()[1:5] == ["8", "7", "2", "2"]
    totals = page.locator("#dashboard-totals").locator("th, td").all_inner_texts()
    assert totals[0] == "Total" and totals[2] == "23" and totals[4] == "2" and totals[-1] == "4 of 4"


# -- the demo clock ---------------------------------------------------------------------------


@pytest.fixture
def demo_clock(settings):
    settings.PORTAL_DEMO = True
    clock.forget_demo_offset()
    yield
    clock.forget_demo_offset()


def test_demo_clock_makes_a_received_email_otp_expire(page: Page, email_user, demo_clock):
    page.goto("/login/")
    fill_login(page, email_user.user_id, GOOD_PASSWORD)
    expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
    code = wait_for_otp_mail(email_user.email, 1)
    page.goto("/demo/clock/")
    button(page, "+5 minutes").click()
    expect(page.locator("[data-simulated-time]")).to_be_visible()
    expect(page.get_by_text("The demo clock runs", exact=False)).to_be_visible()
    page.goto("/login/otp/")
    expect(page.locator("#otp-valid")).to_have_count(0)  # no code is valid any more
    expect(page.locator("#otp-next-request")).to_have_text("You can request a new OTP now.")
    enter_email_otp(page, code)
    expect(page.get_by_text(str(INVALID_OTP)).first).to_be_visible()
    expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
    # The expired code logged nobody in and counted as one wrong OTP (docs/security.md, check 3).
    assert User.objects.get(pk=email_user.pk).otp_failures == 1
    assert not AuditEvent.objects.filter(subject=email_user, kind=Event.LOGON_SUCCESS).exists()
    assert AuditEvent.objects.filter(subject=email_user, kind=Event.OTP_FAILURE).count() == 1
    page.goto("/terminal/")
    assert "/terminal/" not in page.url, page.url


# -- screenshots in both languages ------------------------------------------------------------


@pytest.mark.parametrize("language, suffix", [("en", "en"), ("zh-hant", "zh")])
def test_main_screens_in_both_languages(page: Page, live_server, settings, language, suffix):
    """Landing, login, e-mail OTP with its countdowns, register device, logon success, Online
    Functions, Change Password, DMS home, Create User Profile, the dashboard and the demo clock,
    as docs/screenshots/<name>-<en|zh>.png."""
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    lang = "zh-Hant" if suffix == "zh" else "en"
    seeded_demo()
    firm = Participant.objects.get(participant_id="B01234")

    page.goto("/")
    assert html_lang(page) == lang
    shot(page, f"landing-{suffix}")
    page.goto("/login/")
    shot(page, f"login-{suffix}")

    # e-mail OTP page, its countdowns ticking
    by_email = make_user(firm, "B0123406", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL)
    page.locator("#id_user_id").fill(by_email.user_id)
    page.locator("#id_password").fill(GOOD_PASSWORD)
    page.locator("button.primary").click()
    expect(page.locator("#otp-valid strong.countdown")).to_have_text(COUNTDOWN)
    shot(page, f"email-otp-{suffix}")
    page.locator("#id_otp").fill(wait_for_otp_mail(by_email.email, 1))
    page.locator("button.primary").click()
    page.wait_for_url("**/login/success/")
    page.locator("form.inline button").click()  # Logout

    # first logon after the password reset: register the app, then logon success
    newcomer = make_user(firm, "B0123407", password=GOOD_PASSWORD)
    page.goto("/login/")
    page.locator("#id_user_id").fill(newcomer.user_id)
    page.locator("#id_password").fill(GOOD_PASSWORD)
    page.locator("button.primary").click()
    page.locator('button[value="register"]').click()
    key = page.locator(".manual-key code").inner_text().replace(" ", "")
    shot(page, f"register-device-{suffix}")
    page.locator("#id_otp").fill(AuthenticatorApp(key).code())
    page.locator("button.primary").click()
    page.wait_for_url("**/login/success/")
    assert html_lang(page) == lang
    shot(page, f"logon-success-{suffix}")
    page.goto("/terminal/")
    expect(page.locator("#functions-simulated")).to_be_visible()
    shot(page, f"online-functions-{suffix}")
    page.goto("/password/")
    shot(page, f"change-password-{suffix}")
    page.locator("form.inline button").click()

    # DMS home and the dashboard of the DA maker
    da_app = enrol_app(User.objects.get(user_id="B01234X1"))
    page.goto("/dms/login/")
    page.locator("#id_user_id").fill("B01234X1")
    page.locator("#id_password").fill(GOOD_PASSWORD)
    page.locator("button.primary").click()
    page.locator("#id_otp").fill(da_app.code())
    page.locator("button.primary").click()
    page.wait_for_url("**/login/success/")
    page.goto("/dms/home/")
    expect(page.locator("#dms-menu")).to_be_visible()
    shot(page, f"dms-home-{suffix}")
    page.goto("/dms/profiles/create/")
    expect(page.locator("#field-user_groups")).to_be_visible()
    shot(page, f"dms-create-{suffix}")
    page.goto("/dms/home/")
    page.locator('#dms-menu a[href="/dms/reports/migration-readiness/"]').click()
    expect(page.locator(".checklist li")).to_have_count(15)
    assert html_lang(page) == lang
    shot(page, f"dashboard-{suffix}")

    # the demo clock page (demo mode)
    settings.PORTAL_DEMO = True
    page.goto("/demo/clock/")
    assert html_lang(page) == lang
    shot(page, f"demo-clock-{suffix}")
