"""Every page a participant's user, a DA and an HKEX operator can reach, visited in one browser page
through the real logon (issue 20, item 2): the accessibility and phone tests walk the same tour."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page

from accounts.models import OtpChannel, Role
from dms import services
from dms.models import ChangeRequest
from otp.models import AuthenticatorDevice
from tests.factories import GOOD_PASSWORD, AuthenticatorApp, make_user

ANONYMOUS = [
    "/",
    "/dms/",
    "/sso/",
    "/login/",
    "/dms/login/",
    "/backoffice/login/",
    "/reset/",
    "/login/smartcard/",
    "/dms/login/smartcard/",
    "/demo/outbox/",
    "/demo/clock/",
]
TERMINAL = [
    "/terminal/",
    "/terminal/functions/general-enquiries/",
    "/reports/",
    "/password/",
    "/password/authentication-settings/",
]
DMS = [
    "/dms/home/",
    "/dms/profiles/create/",
    "/dms/profiles/change/",
    "/dms/profiles/enquire/",
    "/dms/profiles/delete/",
    "/dms/profiles/B0123401/change/",
    "/dms/profiles/B0123401/enquire/",
    "/dms/profiles/B0123401/delete/",
    "/dms/requests/",
    "/dms/listings/user-profiles/",
    "/dms/reports/",
    "/dms/reports/requests/",
    "/dms/reports/2fa-readiness/",
    "/dms/reports/migration-readiness/",
]
BACKOFFICE = [
    "/backoffice/home/",
    "/backoffice/da3/add-da/",
    "/backoffice/da3/da-action/",
    "/backoffice/da3/assign-role/",
    "/backoffice/da4/",
    "/backoffice/processed/",
    "/backoffice/migration-readiness/",
    "/backoffice/scard1/",
]


def enrolled(participant, user_id, **extra) -> tuple:
    user = make_user(participant, user_id, password=GOOD_PASSWORD, channel=OtpChannel.APP, **extra)
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return user, AuthenticatorApp(device.base32_key)


def log_in(page: Page, base: str, prefix: str, user, app, offset: int = 0) -> None:
    page.goto(f"{base}{prefix}/login/")
    page.locator("#id_user_id").fill(user.user_id)
    page.locator("#id_password").fill(GOOD_PASSWORD)
    page.locator("button.primary").click()
    page.locator("#id_otp").fill(app.code(offset))
    page.locator("button.primary").click()
    page.wait_for_url("**/login/success/")


@dataclass
class People:
    user: tuple
    maker: tuple
    operator: tuple
    pending: ChangeRequest


def people(participant) -> People:
    """A firm with a compliant roster, a user, one not yet set up, one on e-mail OTP,
    a pending request, and an HKEX operator."""
    user = enrolled(participant, "B0123401")
    maker = enrolled(participant, "B01234X1", role=Role.DA_MAKER)
    enrolled(participant, "B01234Y1", role=Role.DA_CHECKER)
    enrolled(participant, "B01234Z1", role=Role.DA_CHECKER)
    make_user(participant, "B0123402")  # not yet set up
    make_user(participant, "B0123403", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL)
    pending = services.prepare_request(maker=maker[0], kind=ChangeRequest.Kind.DELETE, subject_user_id="B0123402")
    operator = enrolled(None, "HKEXOP01", is_staff=True)
    return People(user=user, maker=maker, operator=operator, pending=pending)


def tour(page: Page, base: str, who: People, visit: Callable[[str], None]) -> None:
    """Open every page; `visit(label)` checks the page now shown."""

    def go(url: str) -> None:
        page.goto(base + url)
        visit(url)

    for url in ANONYMOUS:
        go(url)
    page.goto(base + "/login/")  # a form with errors (the summary at the top, tied to the fields)
    page.locator("button.primary").click()
    visit("/login/ with errors")
    page.goto(base + "/reset/")
    page.locator("#id_user_id").fill("B0123499")
    page.locator("button.primary").click()
    visit("/reset/ refused")
    page.goto(base + "/login/")
    page.locator("#id_user_id").fill("B0123402")
    page.locator("#id_password").fill("x")
    page.locator("button.primary").click()
    visit("/login/ refused")
    page.goto(base + "/login/")  # the e-mail OTP page with its countdowns and two forms
    page.locator("#id_user_id").fill("B0123403")
    page.locator("#id_password").fill(GOOD_PASSWORD)
    page.locator("button.primary").click()
    page.wait_for_url("**/login/otp/")
    visit("/login/otp/")
    page.context.clear_cookies(name="sessionid")
    # a participant's user on the Terminal
    log_in(page, base, "", *who.user)
    visit("/login/success/")
    for url in TERMINAL:
        go(url)
    page.locator("form.inline button").click()  # Logout
    # a DA maker in DMS
    log_in(page, base, "/dms", *who.maker, offset=1)
    visit("/dms/login/success/")
    for url in [*DMS, f"/dms/requests/{who.pending.pk}/"]:
        go(url)
    page.locator("form.inline button").click()
    # an HKEX operator in the back-office
    log_in(page, base, "/backoffice", *who.operator)
    visit("/backoffice/login/success/")
    for url in BACKOFFICE:
        go(url)
    page.locator("form.inline button").click()
