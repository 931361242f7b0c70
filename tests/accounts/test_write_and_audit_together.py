"""A change and its audit row are written in one transaction (issue 16 item 7;
docs/security.md: every security event writes one audit row). The audit write is made
to fail by a real database constraint, not by replacing our code: the change must not
be left behind without its row."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client

from accounts.models import AuditEvent, User
from ccass_portal import clock
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD, make_user
from tests.logon_helpers import app_logon

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def audit_refuses(kind: str):
    """The database refuses audit rows of `kind` (PostgreSQL CHECK constraint), while inside."""
    table = AuditEvent._meta.db_table
    with connection.schema_editor() as editor:  # DDL takes no bound parameters: the kind written as a literal
        editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT test_refuse_kind CHECK (kind <> {editor.quote_value(kind)}) NOT VALID"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT test_refuse_kind")


def test_a_smartcard_logon_whose_audit_row_fails_leaves_no_trace(postgres, participant, settings):
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)
    user = make_user(
        participant, "B0123401", srn="0101423031323334", certificate_expiry=clock.now() + timedelta(days=365)
    )
    user.set_smartcard_password("246810")
    user.logon_failures = [clock.now().timestamp()]
    user.save()
    browser = Client(raise_request_exception=False)
    with audit_refuses("smartcard_logon_success"):
        response = browser.post("/login/smartcard/", {"srn": user.srn, "smartcard_password": "246810"})
    assert response.status_code == 500
    user = User.objects.get(pk=user.pk)
    assert user.last_access_at is None and user.last_login is None
    assert len(user.logon_failures) == 1  # not cleared by a logon that was never recorded
    assert browser.get("/terminal/").status_code == 302


def test_a_password_change_whose_audit_row_fails_keeps_the_old_password(postgres, participant):
    from otp.models import AuthenticatorDevice
    from tests.factories import AuthenticatorApp

    user = make_user(participant, "B0123403", password=GOOD_PASSWORD, channel="APP")
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    app = AuthenticatorApp(device.base32_key)
    browser = Client(raise_request_exception=False)
    app_logon(browser, user.user_id, GOOD_PASSWORD, app)
    with audit_refuses("password_changed"):
        response = browser.post(
            "/password/",
            {
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
                "old_password": GOOD_PASSWORD,
                "otp": app.code(1),
            },
        )
    assert response.status_code == 500
    user = User.objects.get(pk=user.pk)
    assert user.check_password(GOOD_PASSWORD) and not user.check_password(NEW_PASSWORD)
