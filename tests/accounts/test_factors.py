"""The factor registry (issue 16 item 3; docs/architecture.md, "Adding a factor"): each entry's
attributes and behaviour against real devices and real mail, which factor each kind of person
has, and the rule that only the registry interprets the stored OTP channel."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pyotp
import pytest
from django.core import mail

from accounts import factors
from accounts.models import OtpChannel, User
from otp import services as otp_services
from otp.models import AuthenticatorDevice, EmailOtpDevice
from tests.logon_helpers import last_email_otp

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

SIGN_IN, STEP_UP = otp_services.Purpose.SIGN_IN, otp_services.Purpose.STEP_UP


@pytest.fixture
def card_available(settings):
    """Smartcards not yet decommissioned (the parallel run, §5)."""
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)


def _card_user(participant, user_id="B0123405", **extra) -> User:
    """Migrated from the card: an SRN and its password, no 2FA yet."""
    user = User(user_id=user_id, participant=participant, email=f"{user_id.lower()}@abc.example", srn=f"SRN{user_id}")
    for name, value in extra.items():
        setattr(user, name, value)
    user.set_unusable_password()
    user.set_smartcard_password("123456")
    user.save()
    return user


# -- the entries ------------------------------------------------------------------------


def test_the_registry_lists_app_email_and_smartcard_in_that_order():
    # The passkey (accounts.passkeys, issue 18) is an entry beside them, not a stored choice.
    assert list(factors.REGISTRY) == ["app", "email", "smartcard", "passkey"]
    assert [f.key for f in factors.second_factors()] == ["app", "email"]
    assert factors.factor("app") is factors.REGISTRY["app"]


def test_the_attributes_of_each_entry(settings):
    app, email, card = factors.factor("app"), factors.factor("email"), factors.factor("smartcard")
    # Lengths come from what the codes are made with: django-otp's TOTP default and the setting.
    assert app.code_digits == AuthenticatorDevice._meta.get_field("digits").default == 6
    assert email.code_digits == settings.OTP_EMAIL_TOKEN_LENGTH == 8
    settings.OTP_EMAIL_TOKEN_LENGTH = 7
    assert email.code_digits == 7
    assert card.code_digits is None
    # Self-service reset only for people whose OTP comes from the app (§4.1.2, §4.2.2).
    assert (app.allows_self_service_reset, email.allows_self_service_reset, card.allows_self_service_reset) == (
        True,
        False,
        False,
    )
    assert (app.gives_authorisation_code, email.gives_authorisation_code, card.gives_authorisation_code) == (
        True,
        True,
        False,
    )
    assert (app.is_second_factor, email.is_second_factor, card.is_second_factor) == (True, True, False)
    assert (app.sends_code, email.sends_code) == (False, True)
    # Labels are the existing translated ones, as DMS's "OTP Enabled" showed them.
    assert str(app.label) == str(OtpChannel.APP.label) and str(email.label) == str(OtpChannel.EMAIL.label)
    assert str(app.readiness_label) == "OTP by mobile application"
    assert str(email.readiness_label) == "OTP by e-mail"


def test_the_app_entry_verifies_the_code_of_the_persons_phone_once(app_user):
    user, phone = app_user
    app = factors.factor("app")
    assert app.challenge(user, purpose=SIGN_IN) is None and not mail.outbox  # nothing to send
    assert not app.verify(user, "000000" if phone.code() != "000000" else "111111", purpose=SIGN_IN)
    code = phone.code()
    check = app.check(user, code, purpose=SIGN_IN)
    assert check.ok and isinstance(check.device, AuthenticatorDevice)
    again = app.check(user, code, purpose=SIGN_IN)
    assert not again.ok and again.replay  # a code is used once (SECURITY.md 9)


def test_the_app_entry_enrols_only_once_the_first_code_is_entered(new_user):
    app = factors.factor("app")
    device = app.start_enrolment(new_user)
    new_user.refresh_from_db()
    assert not app.enrolled(new_user) and factors.second_factor_of(new_user) is None
    phone = pyotp.TOTP(device.base32_key)
    assert not app.confirm_enrolment(new_user, "12345").ok
    assert app.confirm_enrolment(new_user, phone.now()).ok
    new_user.refresh_from_db()
    assert new_user.has_twofa and app.enrolled(new_user)
    assert factors.second_factor_of(new_user) is app


def test_the_email_entry_mails_a_code_for_its_purpose_only(email_user, django_capture_on_commit_callbacks):
    email = factors.factor("email")
    with django_capture_on_commit_callbacks(execute=True):
        assert email.challenge(email_user, purpose=STEP_UP).sent
    code = last_email_otp(email_user.email)
    assert len(code) == email.code_digits
    assert not email.verify(email_user, code, purpose=SIGN_IN)  # codes are per purpose
    check = email.check(email_user, code, purpose=STEP_UP)
    assert check.ok and isinstance(check.device, EmailOtpDevice)
    assert not email.verify(email_user, code, purpose=STEP_UP)  # and used once


def test_removing_the_email_entry_withdraws_the_outstanding_code(email_user, django_capture_on_commit_callbacks):
    email = factors.factor("email")
    with django_capture_on_commit_callbacks(execute=True):
        email.challenge(email_user, purpose=SIGN_IN)
    code = last_email_otp(email_user.email)
    email.remove(email_user)
    assert not email.verify(email_user, code, purpose=SIGN_IN)


def test_removing_the_app_entry_deletes_the_registration(app_user):
    user, phone = app_user
    factors.factor("app").remove(user)
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert not factors.factor("app").verify(user, phone.code(), purpose=SIGN_IN)


def test_the_smartcard_is_held_until_decommissioning_and_is_never_a_second_factor(participant, settings):
    card = factors.factor("smartcard")
    holder = _card_user(participant)
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)
    assert card.enrolled(holder) and card.verify(holder, "123456", purpose=None)
    assert not card.verify(holder, "654321", purpose=None)
    assert factors.factors_of(holder) == [card]
    assert factors.second_factor_of(holder) is None  # a card logon is a logon of its own
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2000, 1, 1)
    assert not card.enrolled(holder) and factors.factors_of(holder) == []
    card.remove(holder)
    holder.refresh_from_db()
    assert not holder.check_smartcard_password("123456")


def test_a_profile_made_after_the_launch_holds_no_card(participant, card_available):
    late = _card_user(participant, "B0123406", created_after_launch=True)
    assert factors.factors_of(late) == []


# -- which factor each kind of person has ------------------------------------------------


def test_second_factor_and_factors_of_each_kind_of_person(participant, new_user, email_user, app_user, card_available):
    app, email, card = factors.factor("app"), factors.factor("email"), factors.factor("smartcard")
    user, _ = app_user
    assert factors.second_factor_of(None) is None
    # First time: nothing yet; the e-mail OTP is what proves them.
    assert factors.second_factor_of(new_user) is None and factors.factors_of(new_user) == []
    assert factors.first_time_factor() is email
    assert factors.second_factor_of(email_user) is email and factors.factors_of(email_user) == [email]
    assert factors.second_factor_of(user) is app and factors.factors_of(user) == [app]
    # The app chosen but its registration gone (deleted in this session): no second factor.
    AuthenticatorDevice.objects.filter(user=user).delete()
    assert factors.second_factor_of(user) is None and factors.chosen_factor_of(user) is app
    # On the card and already on e-mail OTP: both held, the OTP step asks for the e-mail code.
    both = _card_user(participant, "B0123407", otp_channel=OtpChannel.EMAIL, twofa_set_up_at=email_user.twofa_set_up_at)
    assert factors.factors_of(both) == [email, card] and factors.second_factor_of(both) is email


def test_by_channel_reads_every_stored_value():
    assert factors.by_channel(OtpChannel.APP) is factors.factor("app")
    assert factors.by_channel(OtpChannel.EMAIL) is factors.factor("email")
    assert factors.by_channel(OtpChannel.NONE) is None


def test_the_readiness_filters_count_people_by_their_factor(
    participant, new_user, email_user, app_user, card_available
):
    _card_user(participant)
    counted = {
        f.key: set(User.objects.filter(f.in_use()).values_list("user_id", flat=True)) for f in factors.REGISTRY.values()
    }
    assert counted == {"app": {"B0123403"}, "email": {"B0123402"}, "smartcard": {"B0123405"}, "passkey": set()}


def test_a_registered_factor_joins_the_registry_and_leaves_it():
    class Stand(factors.AppFactor):
        key = "stand-in"

    try:
        entry = factors.register(Stand())
        assert factors.factor("stand-in") is entry and entry in factors.second_factors()
    finally:
        factors.REGISTRY.pop("stand-in")
    assert "stand-in" not in factors.REGISTRY


# -- the rule stays in one place ----------------------------------------------------------

CHANNEL_DECISION = re.compile(r"OtpChannel\.|otp_channel\s*[!=]=|get_otp_channel_display|otp_channel\s*=\s*")
ALLOWED = {"accounts/factors.py", "accounts/models.py"}
# Code that writes people's rows directly to set up a scene (tests, the load-test seeder), and
# what is not the product.
SEEDERS = ("tests", "bench", "node_modules", "docs", "staticfiles")


def test_only_the_registry_interprets_the_stored_otp_channel():
    """No `OtpChannel.` member, no comparison with or assignment of `otp_channel`, outside
    the registry, the model and migrations (issue 16 item 3)."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):  # symlinks (.venv, node_modules) not followed
        here = Path(folder)
        subfolders[:] = [
            name for name in subfolders if not name.startswith(".") and name not in SEEDERS and name != "migrations"
        ]
        for name in sorted(files):
            rel = (here / name).relative_to(ROOT).as_posix()
            if not name.endswith((".py", ".html")) or rel in ALLOWED:
                continue
            for number, line in enumerate((here / name).read_text(encoding="utf-8").splitlines(), 1):
                if CHANNEL_DECISION.search(line):
                    found.append(f"{rel}:{number}: {line.strip()}")
    assert found == [], "decide the factor in accounts/factors.py:\n" + "\n".join(found)


# -- the attacker picks no factor: the server's choice is the person's ----------------------


def test_a_password_holder_cannot_turn_an_app_users_otp_step_into_an_email_one(
    app_user, django_capture_on_commit_callbacks
):
    """A stranger who has the victim's password (and not the phone) asks for an e-mailed code, skips to
    the e-mail set-up, or sends an 8-digit code: the factor is the registry's answer for the person, so
    nothing is mailed and nothing logs on; the victim beside them still logs on with the app."""
    from django.test import Client

    from tests.logon_helpers import otp_mails, password_step, post

    user, phone = app_user
    user.set_password("Victim(Pass)2024!")
    user.save()
    stranger, victim = Client(), Client()
    assert password_step(stranger, user.user_id, "Victim(Pass)2024!")["Location"] == "/login/otp/"
    assert post(stranger, "/login/otp/", {"action": "request"}, django_capture_on_commit_callbacks).status_code == 404
    assert post(stranger, "/login/setup/skip/", {}, django_capture_on_commit_callbacks)["Location"] == "/login/"
    refused = stranger.post("/login/otp/", {"otp": "12345678"})
    assert refused.status_code == 400 and "The OTP is 6 digits." in refused.content.decode()
    assert otp_mails() == [] and stranger.get("/terminal/").status_code != 200
    password_step(victim, user.user_id, "Victim(Pass)2024!")
    assert victim.post("/login/otp/", {"otp": phone.code()})["Location"] == "/login/success/"


def test_whether_the_app_is_enrolled_is_one_statement_that_reads_no_secret(app_user):
    """The password step asks it of every person (step_after_password): an EXISTS, not the device's
    row with its sealed secret (issue 19, "Statements per logon"); an unconfirmed one does not count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, _ = app_user
    app = factors.factor("app")
    for confirmed in (True, False):
        AuthenticatorDevice.objects.filter(user=user).update(confirmed=confirmed)
        with CaptureQueriesContext(connection) as queries:
            assert app.enrolled(user) is confirmed
        sql = queries.captured_queries[0]["sql"]
        assert len(queries.captured_queries) == 1 and "sealed_key" not in sql and '"key"' not in sql
