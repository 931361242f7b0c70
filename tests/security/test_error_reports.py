"""docs/security.md, check 15: no password, OTP, Authorisation Code, smartcard password or session key
in a 500 page, in the error report mailed to ADMINS, or in the logs, when a request carrying one fails.

The failure is real: the database refuses the audit row (an integrity error, not an outage, which
would get the 503 "busy" page) the service writes once it has checked the
secret (`connection.execute_wrapper`, Django's own hook around every query), so the request dies
inside the product's code path with the secret in the POST body, the cookies and the call stack.
The report is Django's (AdminEmailHandler, as production sends it once ADMINS is set)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import date

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test import Client

from accounts.models import AuditEvent, User
from dms.models import ChangeRequest
from tests.dms.factories import log_in
from tests.dms.test_views import form_data
from tests.factories import GOOD_PASSWORD, make_user
from tests.logon_helpers import password_step

pytestmark = pytest.mark.django_db
AUDIT_TABLE = AuditEvent._meta.db_table


@pytest.fixture
def reporting(settings, caplog):
    """Error reports on, as an operator would configure them; the page is the production 500."""
    settings.ADMINS = [("Operations", "ops@portal.example")]
    settings.DEBUG = False
    caplog.set_level(logging.INFO)
    return caplog


@contextmanager
def audit_row_refused():
    """The database refuses to write an audit row (and so the request fails after the secret
    was checked). The error names nothing of the request."""

    def refuse(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and AUDIT_TABLE in sql:
            raise IntegrityError("the audit row was refused")  # a fault, not an outage (an outage is the 503 page)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


def failing(client: Client) -> Client:
    """The same browser (cookies and all), answering with the 500 page instead of raising."""
    client.raise_request_exception = False
    return client


def everything_reported(response, caplog) -> str:
    assert response.status_code == 500, response.status_code
    reports = [m for m in mail.outbox if "ops@portal.example" in m.to]
    assert reports, "no error report was mailed to ADMINS"
    parts = [response.content.decode(errors="replace"), caplog.text]
    for report in reports:
        parts += [report.subject, report.body, *(str(content) for content, _ in report.alternatives)]
    return "\n".join(parts)


def assert_no_secret(text: str, **secrets: str) -> None:
    leaked = [name for name, value in secrets.items() if value and value in text]
    assert not leaked, f"{leaked} found in the 500 page, error report or logs"


def test_sec15_a_failing_password_step_reports_no_password(client, app_user, reporting):
    user, _ = app_user
    typed = "Nearly(MyPassword)12"  # a wrong password is still one of the person's secrets
    with audit_row_refused():
        response = failing(client).post("/login/", {"user_id": user.user_id, "password": typed})
    assert_no_secret(everything_reported(response, reporting), password=typed)


def test_sec15_a_failing_otp_step_reports_no_code_and_no_session_key(client, app_user, reporting):
    user, app = app_user
    password_step(client, user.user_id, GOOD_PASSWORD)
    code = app.code()
    with audit_row_refused():
        response = failing(client).post("/login/otp/", {"otp": code})
    session_key = client.cookies["sessionid"].value
    assert_no_secret(everything_reported(response, reporting), code=code, session_key=session_key)


def test_sec15_a_failing_dms_authorisation_reports_no_code_and_no_session_key(roster, reporting):
    maker = log_in(Client(), roster.maker, roster.maker_app)
    prepared = maker.post(f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, surname="WONG"))
    assert prepared.status_code == 302, prepared.content.decode()[:2000]
    code = roster.checker_app.code()
    with audit_row_refused():
        response = failing(maker).post(
            prepared["Location"],
            {"action": "confirm", "checker_id": roster.checker.user_id, "authorisation_code": code},
        )
    text = everything_reported(response, reporting)
    assert_no_secret(text, authorisation_code=code, session_key=maker.cookies["sessionid"].value)
    assert ChangeRequest.objects.get().status == ChangeRequest.Status.PENDING  # the failure changed nothing


def test_sec15_a_failing_smartcard_password_reset_reports_no_smartcard_password(roster, reporting, settings):
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2099, 1, 1)
    card_user = make_user(roster.maker.participant, "B0123402", srn="0101101200012AB2")
    maker = log_in(Client(), roster.maker, roster.maker_app)
    with audit_row_refused():
        response = failing(maker).post(
            f"/dms/profiles/{card_user.user_id}/change/", form_data(card_user, smartcard_password="13572468")
        )
    text = everything_reported(response, reporting)
    assert_no_secret(text, smartcard_password="13572468", session_key=maker.cookies["sessionid"].value)
    assert not ChangeRequest.objects.exists()
    assert not User.objects.get(pk=card_user.pk).check_smartcard_password("13572468")
