"""Issue 16 item 2: one function per rule, where its domain lives (docs/architecture.md,
"Where each rule lives"). Each test puts the rule where it could drift: a setting an
operator tunes, or two callers that used to decide it apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from accounts import logon
from ccass_portal import clock
from tests.factories import GOOD_PASSWORD, make_user
from tests.logon_helpers import app_logon, password_step

pytestmark = pytest.mark.django_db


# -- the password expiry warning reads PORTAL_PASSWORD_EXPIRY_WARNING_DAYS ------------------


def _success_page_after(client, user, app, *, days_old: int) -> str:
    with time_machine.travel("2024-01-01 09:00 +0800", tick=False) as traveller:
        user.password_changed_at = clock.now()
        user.save(update_fields=["password_changed_at"])
        traveller.shift(timedelta(days=days_old))
        app_logon(client, user.user_id, GOOD_PASSWORD, app)
        return client.get("/login/success/").content.decode()


def test_the_expiry_warning_starts_when_the_setting_says(client, app_user, settings):
    user, app = app_user
    settings.PORTAL_PASSWORD_EXPIRY_WARNING_DAYS = 20
    # 19 days left: inside a 20-day warning, outside the default 14.
    assert "Your password will expire in 19 days" in _success_page_after(client, user, app, days_old=71)


def test_a_shorter_warning_setting_keeps_quiet_earlier(client, app_user, settings):
    user, app = app_user
    settings.PORTAL_PASSWORD_EXPIRY_WARNING_DAYS = 7
    # 10 days left: inside the default 14, outside a 7-day warning.
    assert "will expire" not in _success_page_after(client, user, app, days_old=80)


# -- the lockout numbers in the logon messages read the lockout settings ----------------------


def test_the_unsuccessful_logon_message_names_the_configured_lockout(client, app_user, settings):
    user, _ = app_user
    settings.PORTAL_LOCKOUT_FAILURES = 3
    settings.PORTAL_LOCKOUT_WINDOW = 15 * 60
    page = password_step(client, user.user_id, "Wrong(Pass)12345").content.decode()
    assert "after 3 consecutive unsuccessful attempts within 15 minutes" in page
    assert "after 5 consecutive" not in page


def test_the_default_message_is_the_seed_wording(app_user):
    assert "Access is locked after 5 consecutive unsuccessful attempts within 30 minutes;" in str(logon.GENERIC_FAILURE)


# -- the next step after the password: one rule for the logon and the forced change ----------


@pytest.mark.parametrize(
    "channel, confirmed_app, step",
    [
        ("app", True, logon.Step.OTP_APP),
        ("app", False, logon.Step.SETUP),  # an app never confirmed proves nothing: set up again
        ("email", False, logon.Step.OTP_EMAIL),
        ("", False, logon.Step.SETUP),
    ],
)
def test_the_step_after_the_password_is_the_same_whether_or_not_it_expired(participant, channel, confirmed_app, step):
    from accounts.models import OtpChannel
    from otp.models import AuthenticatorDevice
    from tests.factories import make_user

    channel = {"app": OtpChannel.APP, "email": OtpChannel.EMAIL, "": OtpChannel.NONE}[channel]
    fresh = make_user(participant, "B0123404", password=GOOD_PASSWORD, channel=channel)
    expired = make_user(participant, "B0123405", password=GOOD_PASSWORD, channel=channel)
    expired.password_changed_at = clock.now() - timedelta(days=91)
    expired.save(update_fields=["password_changed_at"])
    for user in (fresh, expired):
        device = AuthenticatorDevice.new_for(user)
        device.confirmed = confirmed_app
        device.save()

    # The forced change comes after the OTP (docs/decisions.md, "Expired password: the second
    # factor before the change"), so an expired password leads to the same next step, marked.
    on_time, late = Client(), Client()
    password_step(on_time, fresh.user_id, GOOD_PASSWORD)
    password_step(late, expired.user_id, GOOD_PASSWORD)
    assert on_time.session[logon.ATTEMPT_KEY]["step"] == step and not on_time.session[logon.ATTEMPT_KEY]["expired"]
    assert late.session[logon.ATTEMPT_KEY]["step"] == step and late.session[logon.ATTEMPT_KEY]["expired"]


# -- audit event kinds: one class ---------------------------------------------------------------


def _kind_classes() -> list[str]:
    """Every product class that declares audit kinds (UPPER_CASE = "string" in a class named *Event)."""
    import ast

    from tests.test_architecture import ROOT, module_name, product_files

    found = []
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Event"):
                constants = [
                    statement
                    for statement in node.body
                    if isinstance(statement, ast.Assign)
                    and all(isinstance(t, ast.Name) and t.id.isupper() for t in statement.targets)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                ]
                if constants:
                    found.append(f"{module_name(path)}.{node.name}")
    assert ROOT.exists()
    return found


def test_every_audit_kind_is_declared_in_one_class():
    assert _kind_classes() == ["accounts.audit.Event"]


def test_no_two_audit_kinds_share_a_value():
    from accounts.audit import Event

    kinds = {name: value for name, value in vars(Event).items() if name.isupper()}
    assert len(set(kinds.values())) == len(kinds)
    assert {"dms_request_authorised", "eservice_da3_processed", "logon_success"} <= set(kinds.values())


# -- OTP lengths: the e-mailed code's length is the setting it is made with ----------------------


def test_an_email_otp_of_the_configured_length_is_accepted(
    client, email_user, settings, django_capture_on_commit_callbacks
):
    import re

    from django.core import mail

    settings.OTP_EMAIL_TOKEN_LENGTH = 9
    response = password_step(client, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    assert response["Location"] == "/login/otp/"
    code = re.search(r"(\d+)\s*$", mail.outbox[-1].body).group(1)
    assert len(code) == 9
    assert "The OTP is 9 digits." in client.post("/login/otp/", {"otp": "12345678"}).content.decode()
    assert client.post("/login/otp/", {"otp": code})["Location"] == "/login/success/"


# -- a card that still logs on: one rule, as a predicate and as a query ---------------------


def test_a_card_logs_on_by_one_rule_everywhere_it_is_asked(participant, settings):
    """The smartcard logon, the readiness figures (a query) and the DMS smartcard reset (a
    predicate) used to disagree on an expired certificate: now one rule in accounts/policies.py."""
    from accounts import factors, policies
    from accounts.models import User
    from dms.rules import smartcard_reset_offered

    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = clock.today() + timedelta(days=30)
    people = {
        "B0123401": {"srn": "CARD01"},
        "B0123402": {"srn": "CARD02", "certificate_expiry": clock.now() - timedelta(seconds=1)},
        "B0123403": {"srn": "CARD03", "certificate_expiry": clock.now() + timedelta(days=1)},
        "B0123404": {"srn": "CARD04", "created_after_launch": True},
        "B0123405": {},
    }
    made = {uid: make_user(participant, uid, **extra) for uid, extra in people.items()}
    by_query = set(User.objects.filter(policies.cards_that_log_on()).values_list("user_id", flat=True))
    by_predicate = {uid for uid, user in made.items() if policies.card_logs_on(user)}
    assert by_query == by_predicate == {"B0123401", "B0123403"}
    assert {uid for uid, u in made.items() if factors.factor("smartcard").enrolled(u)} == by_predicate
    assert {uid for uid, u in made.items() if smartcard_reset_offered(u)} == by_predicate

    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = clock.today()
    assert not User.objects.filter(policies.cards_that_log_on()).exists()
    assert not any(policies.card_logs_on(user) for user in made.values())
