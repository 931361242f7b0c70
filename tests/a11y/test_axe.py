"""axe-core on every page, in English and Traditional Chinese: no serious or critical violation
(issue 8, item 2). axe-core comes from npm (package.json, `npm ci` in `make test`) and is injected
into Debian's Chromium by Playwright; pages are served by the live server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from accounts.models import OtpChannel, Role
from otp.models import AuthenticatorDevice
from tests.conftest import GOOD_PASSWORD, AuthenticatorApp, make_user

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def enrolled(participant, user_id, **extra):
    user = make_user(participant, user_id, password=GOOD_PASSWORD, channel=OtpChannel.APP, **extra)
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return user, AuthenticatorApp(device.base32_key)


def log_in(page: Page, base: str, prefix: str, user, app, offset: int = 0):
    page.goto(f"{base}{prefix}/login/")
    page.locator("#id_user_id").fill(user.user_id)
    page.locator("#id_password").fill(GOOD_PASSWORD)
    page.locator("button.primary").click()
    page.locator("#id_otp").fill(app.code(offset))
    page.locator("button.primary").click()
    page.wait_for_url("**/login/success/")


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_every_page_has_no_serious_accessibility_violation(page: Page, live_server, participant, language):
    assert AXE.exists(), "run `npm ci` (make test does)"
    base = live_server.url
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    user, app = enrolled(participant, "B0123401")
    da, da_app = enrolled(participant, "B01234X1", role=Role.DA_MAKER)
    enrolled(participant, "B01234Y1", role=Role.DA_CHECKER)
    enrolled(participant, "B01234Z1", role=Role.DA_CHECKER)
    make_user(participant, "B0123402")  # not yet set up
    report = {}

    def check(label: str):
        report[label] = axe_violations(page)

    anonymous = ["/", "/dms/", "/sso/", "/login/", "/dms/login/", "/backoffice/login/", "/reset/", "/login/smartcard/",
                 "/dms/login/smartcard/", "/demo/outbox/", "/demo/clock/"]
    for url in anonymous:
        page.goto(base + url)
        check(url)
    # a form with errors (the summary at the top, tied to the fields)
    page.goto(base + "/login/")
    page.locator("button.primary").click()
    check("/login/ with errors")
    page.goto(base + "/reset/")
    page.locator("#id_user_id").fill("B0123499")
    page.locator("button.primary").click()
    check("/reset/ refused")
    # first-time setup pages
    page.goto(base + "/login/")
    page.locator("#id_user_id").fill("B0123402")
    page.locator("#id_password").fill("x")
    page.locator("button.primary").click()
    check("/login/ refused")
    # terminal pages
    log_in(page, base, "", user, app)
    check("/login/success/")
    for url in ["/terminal/", "/terminal/functions/general-enquiries/", "/reports/", "/password/",
                "/password/authentication-settings/"]:
        page.goto(base + url)
        check(url)
    page.locator("form.inline button").click()  # Logout
    # DMS pages
    log_in(page, base, "/dms", da, da_app, offset=1)
    check("/dms/login/success/")
    for url in ["/dms/home/", "/dms/profiles/create/", "/dms/profiles/change/", "/dms/profiles/enquire/",
                "/dms/profiles/delete/", "/dms/profiles/B0123401/change/", "/dms/profiles/B0123401/enquire/",
                "/dms/requests/", "/dms/listings/user-profiles/", "/dms/reports/", "/dms/reports/requests/",
                "/dms/reports/2fa-readiness/", "/dms/reports/migration-readiness/"]:
        page.goto(base + url)
        check(url)
    page.locator("form.inline button").click()  # Logout
    # back-office pages of an HKEX operator
    operator, operator_app = enrolled(None, "HKEXOP01", is_staff=True)
    log_in(page, base, "/backoffice", operator, operator_app)
    for url in ["/backoffice/home/", "/backoffice/migration-readiness/", "/backoffice/da3/da-action/",
                "/backoffice/scard1/"]:
        page.goto(base + url)
        check(url)
    failures = {label: found for label, found in report.items() if found}
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)
