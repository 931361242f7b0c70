"""axe-core on the passkey pages (issue 18), as on every other page (tests/a11y/test_axe.py):
the passkey step, the first-time choice and registration page, AUTHENTICATION SETTINGS with a
passkey listed, and the reset code page with its passkey; English and Traditional Chinese, on a
phone and a desktop."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser

from accounts.models import OtpChannel
from tests.a11y.test_axe import AXE, VIEWPORTS, axe_violations
from tests.passkey_authenticator import enrol_credential

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Correct(Horse)9battery"


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_passkey_pages_have_no_accessibility_violation(
    browser: Browser, live_server, settings, app_user, email_user, language, viewport
):
    assert AXE.exists(), "run `npm ci` (make test does)"
    settings.PORTAL_PASSKEYS = True
    holder, app = app_user
    enrol_credential(holder, name="Office laptop")
    email_user.otp_channel = OtpChannel.NONE
    email_user.twofa_set_up_at = None
    email_user.save(update_fields=["otp_channel", "twofa_set_up_at"])
    phone = viewport == "phone"
    report = {}
    for person in (holder, email_user):
        context = browser.new_context(
            base_url=live_server.url, viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone, bypass_csp=True
        )
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page = context.new_page()
        try:
            page.goto("/login/")
            page.locator("#id_user_id").fill(person.user_id)
            page.locator("#id_password").fill(PASSWORD)
            page.locator("main form button[type=submit]").first.click()
            if person is holder:
                page.wait_for_url("**/login/passkey/")
                report["passkey step"] = axe_violations(page)
                page.locator("button[value=fallback]").click()
                page.locator("input[name=otp]").fill(app.code())
                page.locator("main form button[type=submit]").first.click()
                page.wait_for_url("**/login/success/")
                page.goto("/password/authentication-settings/")
                report["authentication settings with a passkey"] = axe_violations(page)
                context.clear_cookies()
                context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
                page.goto("/reset/")
                page.locator("#id_user_id").fill(holder.user_id)
                page.locator("main form button[type=submit]").first.click()
                page.wait_for_url("**/reset/otp/")
                report["reset code page with a passkey"] = axe_violations(page)
            else:
                page.wait_for_url("**/login/setup/")
                report["first-time choice with a passkey"] = axe_violations(page)
                page.locator("button[value=passkey]").click()
                page.wait_for_url("**/login/setup/passkey/")
                report["register a passkey"] = axe_violations(page)
        finally:
            context.close()
    assert len(report) == 5, sorted(report)
    failures = {label: found for label, found in report.items() if found}
    assert not failures, "\n".join(
        f"{label}: {json.dumps(found, ensure_ascii=False)}" for label, found in failures.items()
    )
