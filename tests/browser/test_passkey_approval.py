"""A DMS checker approves a change from their own session with a passkey, in Chromium with
a virtual authenticator (the DevTools protocol's WebAuthn domain; issue 18, docs/dms.md
"Passkey approval"). The credential is provisioned twice from one key pair: in the virtual
authenticator (WebAuthn.addCredential) and as the checker's credential row."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import AuditEvent, Role, User
from dms import profiles, services
from dms.models import ChangeRequest
from otp import passkeys
from tests.factories import GOOD_PASSWORD, AuthenticatorApp, make_person
from tests.passkey_authenticator import enrol_credential

from .steps import button, enter_app_code, expect_logon_success, fill_login, heading, link
from .webauthn import VirtualAuthenticator

SUCCESS = "THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(participant, settings, live_server):
    """A firm with a pending change of a user's surname, and its checker's passkey."""
    settings.PORTAL_PASSKEYS = True
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]  # http://localhost:PORT
    maker, _ = make_person(participant, "B01234X1", role=Role.DA_MAKER)
    checker, checker_app = make_person(participant, "B01234Y1", role=Role.DA_CHECKER)
    make_person(participant, "B01234Z1", role=Role.DA_CHECKER)
    user, _ = make_person(participant, "B0123401")
    payload = {k: v for k, v in profiles.snapshot(user).items() if k in profiles.PROFILE_FIELDS}
    cr = services.prepare_request(
        maker=maker,
        kind=ChangeRequest.Kind.CHANGE,
        subject_user_id=user.user_id,
        payload={**payload, "surname": "LEE"},
    )
    authenticator, row = enrol_credential(checker, name="Desk key")
    return checker, checker_app, cr, authenticator, row


def checker_at_their_desk(page: Page, checker: User, app: AuthenticatorApp, *, passkey_logon: bool = True) -> None:
    """The checker logs on to DMS: a passkey holder is offered the passkey first (USE PASSKEY),
    or falls back to the app (USE ANOTHER METHOD)."""
    page.goto("/dms/")
    link(page, "Login with OTP – Security Management Functions").click()
    fill_login(page, checker.user_id, GOOD_PASSWORD)
    if passkey_logon:
        button(page, "USE PASSKEY").click()
    else:
        button(page, "USE ANOTHER METHOD").click()
        enter_app_code(page, app.code())
    expect_logon_success(page, checker.user_id)
    link(page, "Continue").click()
    page.locator("#dms-menu").get_by_role("link", name="Pending Requests", exact=True).click()
    expect(heading(page, "Pending Requests")).to_be_visible()


@pytest.fixture
def chromium_page(browser: Browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_checker_approves_a_dms_change_from_their_own_session_with_a_passkey(chromium_page: Page, desk):
    page = chromium_page
    checker, app, cr, credential, row = desk
    virtual = VirtualAuthenticator(page)
    virtual.add(credential)
    checker_at_their_desk(page, checker, app)

    page.locator(f"#decide-{cr.pk}").click()
    expect(page.locator("#request-values")).to_contain_text("LEE")  # what is approved
    button(page, "Approve with passkey").click()
    expect(page.locator("#passkey-decision")).to_be_visible()
    page.locator("#use-passkey").click()

    expect(page.locator("#dms-confirmation")).to_have_text(SUCCESS)
    assert page.url.endswith(f"/dms/requests/{cr.pk}/")
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeRequest.Status.APPROVED
    assert User.objects.get(user_id="B0123401").surname == "LEE"
    event = AuditEvent.objects.get(kind="dms_request_authorised")
    assert event.actor_id == checker.pk and event.data["factor"] == "passkey"
    row.refresh_from_db()
    assert row.last_used_at is not None and row.sign_count >= 1
    assert [c["signCount"] for c in virtual.credentials()] == [row.sign_count]  # the browser's key signed it


def test_a_refused_ceremony_decides_nothing_and_counts_as_a_wrong_code(chromium_page: Page, desk):
    """The person at the desk cannot pass user verification: the browser refuses the
    ceremony, the page says so, the request stays pending and one wrong code is counted."""
    page = chromium_page
    checker, app, cr, credential, _row = desk
    virtual = VirtualAuthenticator(page)
    virtual.add(credential)
    virtual.user_verifies(False)
    checker_at_their_desk(page, checker, app, passkey_logon=False)

    page.locator(f"#decide-{cr.pk}").click()
    button(page, "Approve with passkey").click()
    page.locator("#use-passkey").click()

    # Chromium's virtual authenticator either refuses the ceremony or answers without the UV flag
    # (the server refuses it): either way the page says the passkey was not accepted.
    refusals = [
        str(passkeys.PasskeyError(failure).reason)
        for failure in (passkeys.PasskeyFailure.CANCELLED, passkeys.PasskeyFailure.INVALID)
    ]
    expect(page.locator("#passkey-error")).to_have_text(re.compile("|".join(map(re.escape, refusals))))
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeRequest.Status.PENDING
    assert User.objects.get(pk=checker.pk).otp_failures == 1
    assert AuditEvent.objects.filter(kind="otp_failure", data__factor="passkey", data__request_id=cr.pk).count() == 1


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_passkey_desk_pages_have_no_accessibility_violation(browser: Browser, live_server, desk, language):
    """axe-core (as tests/a11y/test_axe.py runs it) on the checker's desk: Pending Requests, the
    decision page, its reason error, the ceremony page and a refused ceremony, phone and desktop."""
    from tests.a11y.test_axe import VIEWPORTS, axe_violations

    checker, app, cr, credential, _row = desk
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)  # axe is injected
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    virtual = VirtualAuthenticator(page)
    virtual.add(credential)
    report = {}
    try:
        page.goto("/dms/login/")  # by ids: the labels are in the page's language
        page.locator("#id_user_id").fill(checker.user_id)
        page.locator("#id_password").fill(GOOD_PASSWORD)
        page.locator("button.primary").click()
        page.locator("button.primary").first.click()  # USE PASSKEY
        page.wait_for_url("**/login/success/")
        for name, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            page.goto("/dms/requests/")
            report[f"pending {name}"] = axe_violations(page)
            page.goto(f"/dms/requests/{cr.pk}/passkey/")
            report[f"decision {name}"] = axe_violations(page)
            page.locator("#reject").click()  # no reason: the error next to the field
            report[f"reason error {name}"] = axe_violations(page)
            page.locator("#approve").click()
            report[f"ceremony {name}"] = axe_violations(page)
        virtual.user_verifies(False)
        page.locator("#use-passkey").click()
        page.locator("#passkey-error").wait_for()
        report["refused ceremony"] = axe_violations(page)
    finally:
        context.close()
    assert {label: found for label, found in report.items() if found} == {}
