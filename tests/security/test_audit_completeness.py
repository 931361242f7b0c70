"""Audit completeness (issue 6, item 5; SECURITY.md 27): every event kind of the logon
and DMS writes exactly one audit row per event, and no row (nor the log) holds a secret.

Every kind the code defines (accounts.audit.Event, dms.services.DmsEvent,
dms.backoffice.BackofficeEvent) must have a scenario here: a new kind fails the guard test.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts import lockout
from accounts.audit import Event
from accounts.models import AuditEvent, OtpChannel, Role
from accounts.services import reset_registration
from ccass_portal import clock
from dms import backoffice
from dms.backoffice import BackofficeEvent
from dms.models import ChangeRequest
from dms.services import DmsEvent, DmsRefusal, authorise_request, prepare_request, reject_request, withdraw_request
from otp.models import AuthenticatorDevice
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD, AuthenticatorApp, make_user
from tests.logon_helpers import app_logon, password_step, strong_login
from tests.passkey_authenticator import SoftAuthenticator, enrol_credential

pytestmark = pytest.mark.django_db
WRONG = "Wrong(Password)12x"


def kinds_of(cls) -> set[str]:
    return {v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)}


class World:
    """People for the scenarios, and every secret they use."""

    def __init__(self, participant, on_commit):
        self.participant = participant
        self.on_commit = on_commit
        self.secrets = {GOOD_PASSWORD, NEW_PASSWORD, WRONG, "246810"}
        self.n = 0

    def person(self, role=Role.USER, channel=OtpChannel.APP, **extra):
        self.n += 1
        suffix = {
            Role.USER: f"{self.n:02d}",
            Role.DA_MAKER: f"X{self.n % 9 + 1}",
            Role.DA_CHECKER: f"Y{self.n % 9 + 1}",
        }[role]
        user = make_user(
            self.participant, "B01234" + suffix, role=role, password=GOOD_PASSWORD, channel=channel, **extra
        )
        app = None
        if channel == OtpChannel.APP:
            device = AuthenticatorDevice.new_for(user)
            device.confirmed = True
            device.save()
            app = AuthenticatorApp(device.base32_key)
        return user, app

    def code(self, app, offset=0):
        value = app.code(offset)
        self.secrets.add(value)
        return value

    def note_mail(self):
        for message in mail.outbox:
            self.secrets.update(re.findall(r"\d{8}", message.body))


def _logon(w: World):
    user, app = w.person()
    app_logon(Client(), user.user_id, GOOD_PASSWORD, app)


def _logon_failure(w):
    user, _ = w.person()
    password_step(Client(), user.user_id, WRONG)


def _otp_failure(w):
    user, _ = w.person()
    client = Client()
    password_step(client, user.user_id, GOOD_PASSWORD)
    client.post("/login/otp/", {"otp": "000000"})


def _otp_replay(w):
    user, app = w.person()
    client = Client()
    code = w.code(app)
    password_step(client, user.user_id, GOOD_PASSWORD)
    client.post("/login/otp/", {"otp": code})
    client.post("/logout/")
    password_step(client, user.user_id, GOOD_PASSWORD)
    client.post("/login/otp/", {"otp": code})


def _otp_sent(w):
    user, _ = w.person(channel=OtpChannel.EMAIL)
    password_step(Client(), user.user_id, GOOD_PASSWORD, on_commit=w.on_commit)
    w.note_mail()


def _locked(w):
    user, _ = w.person()
    client = Client()
    for _ in range(5):
        password_step(client, user.user_id, WRONG)


def _unlocked(w):
    user, _ = w.person(locked_at=clock.now())
    lockout.lift_lock(user)


def _device_registered(w):
    user, _ = w.person(channel=OtpChannel.NONE)
    client = Client()
    password_step(client, user.user_id, GOOD_PASSWORD)
    client.post("/login/setup/", {"action": "register"})
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    client.post("/login/setup/register/", {"otp": w.code(AuthenticatorApp(device.base32_key))})


def _device_deleted(w):
    user, app = w.person()
    client = Client()
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    client.post(
        "/password/authentication-settings/",
        {"action": "delete", "delete-password": GOOD_PASSWORD, "delete-otp": w.code(app, 1)},
    )


def _channel_email(w):
    user, app = w.person()
    client = Client()
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    client.post(
        "/password/authentication-settings/",
        {"action": "settings", "settings-password": GOOD_PASSWORD, "settings-otp": w.code(app, 1)},
    )


def _password_changed(w):
    user, app = w.person()
    client = Client()
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    client.post(
        "/password/",
        {
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "old_password": GOOD_PASSWORD,
            "otp": w.code(app, 1),
        },
    )


def _password_reset(w):
    user, app = w.person()
    client = Client()
    client.post("/reset/", {"user_id": user.user_id})
    client.post("/reset/otp/", {"otp": w.code(app)})
    client.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def _reset_refused(w):
    Client().post("/reset/", {"user_id": "B0123499"})


def _card(w):
    user, _ = w.person(srn=f"0101CARD{w.n:08d}", certificate_expiry=clock.now() + timedelta(days=30))
    user.set_smartcard_password("246810")
    user.save()
    return user


def _smartcard_success(w):
    user = _card(w)
    Client().post("/login/smartcard/", {"srn": user.srn, "smartcard_password": "246810"})


def _smartcard_failure(w):
    user = _card(w)
    user.created_after_launch = True
    user.save()
    Client().post("/login/smartcard/", {"srn": user.srn, "smartcard_password": "246810"})


def _logout(w):
    user, app = w.person()
    client = Client()
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    client.post("/logout/")


def _session_expired(w):
    user, app = w.person()
    client = Client()
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    with time_machine.travel(timedelta(minutes=16)):
        client.get("/terminal/")


def _registration_reset(w):
    user, _ = w.person()
    reset_registration(user)


def _report_downloaded(w):
    from terminal.overnight_reports import generate_reports

    user, app = w.person()
    [report, *_] = generate_reports(participant=w.participant, business_date=date(2024, 3, 1))
    client = strong_login(Client(), user, AuthenticatorDevice.objects.get(user=user))
    client.get(f"/reports/{report.pk}/")


def _demo_clock_moved(w):
    Client().post("/demo/clock/", {"action": "forward_5m"})


def _dms_people(w):
    maker, _ = w.person(Role.DA_MAKER)
    checker, checker_app = w.person(Role.DA_CHECKER)
    w.person(Role.DA_CHECKER)
    subject, _ = w.person()
    return maker, checker, checker_app, subject


def _prepared(w):
    maker, _, _, subject = _dms_people(w)
    return prepare_request(maker=maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=subject.user_id)


def _authorised(w):
    maker, checker, checker_app, subject = _dms_people(w)
    cr = prepare_request(maker=maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=subject.user_id)
    authorise_request(cr.pk, participant_id=w.participant.pk, checker_id=checker.user_id, code=w.code(checker_app))


def _rejected(w):
    maker, checker, _, subject = _dms_people(w)
    cr = prepare_request(maker=maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=subject.user_id)
    reject_request(cr.pk, checker=checker, reason="Wrong person")


def _withdrawn(w):
    maker, _, _, subject = _dms_people(w)
    cr = prepare_request(maker=maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=subject.user_id)
    withdraw_request(cr.pk, maker=maker)


def _authorisation_refused(w):
    maker, _, _, subject = _dms_people(w)
    cr = prepare_request(maker=maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=subject.user_id)
    with pytest.raises(DmsRefusal):
        authorise_request(cr.pk, participant_id=w.participant.pk, checker_id=maker.user_id, code="123456")


def _operator(w):
    operator = make_user(None, f"HKEXOP{w.n:02d}", password=GOOD_PASSWORD, is_staff=True)
    w.n += 1
    return operator


def _da3(w):
    backoffice.add_da(
        operator=_operator(w),
        participant=w.participant,
        role=Role.DA_CHECKER,
        surname="LEE",
        other_names="NEW DA",
        email="new.da@abc-securities.example",
    )


def _scard1(w):
    da, _app = w.person(Role.DA_CHECKER, srn="0101101200012AB2")
    w.secrets.add("13579135")
    backoffice.reset_da_smartcard_password(
        operator=_operator(w), participant=w.participant, user_id=da.user_id, smartcard_password="13579135"
    )


def _da4(w):
    backoffice.grant_accounts(operator=_operator(w), participant=w.participant, accounts=2)


def _passkey_registered(w):
    user, _ = w.person(channel=OtpChannel.NONE)
    client = Client()
    password_step(client, user.user_id, GOOD_PASSWORD)
    client.post("/login/setup/", {"action": "passkey"})
    options = client.post("/login/setup/passkey/begin/").json()
    answer = SoftAuthenticator().register(options)
    client.post("/login/setup/passkey/complete/", json.dumps(answer), content_type="application/json")


def _passkey_used(w):
    user, _ = w.person()
    authenticator, _ = enrol_credential(user)
    client = Client()
    password_step(client, user.user_id, GOOD_PASSWORD)
    answer = authenticator.assert_(client.post("/login/passkey/begin/").json())
    client.post("/login/passkey/complete/", json.dumps(answer), content_type="application/json")


def _passkey_settings(w, action: str, **fields):
    """A logged-on person with a passkey posts `action` on AUTHENTICATION SETTINGS."""
    user, app = w.person()
    client = Client()
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    _, passkey = enrol_credential(user)
    fields = {key: value(app) if callable(value) else value for key, value in fields.items()}
    client.post("/password/authentication-settings/", {"action": action, "passkey": passkey.pk, **fields})


def _passkey_renamed(w):
    _passkey_settings(w, "rename-passkey", **{"rename-passkey-name": "Desk"})


def _passkey_removed(w):
    _passkey_settings(
        w,
        "remove-passkey",
        **{"remove-passkey-password": GOOD_PASSWORD, "remove-passkey-otp": lambda app: w.code(app, 1)},
    )


SCENARIOS = {
    Event.PASSKEY_REGISTERED: _passkey_registered,
    Event.PASSKEY_USED: _passkey_used,
    Event.PASSKEY_RENAMED: _passkey_renamed,
    Event.PASSKEY_REMOVED: _passkey_removed,
    Event.LOGON_SUCCESS: _logon,
    Event.LOGON_FAILURE: _logon_failure,
    Event.OTP_FAILURE: _otp_failure,
    Event.OTP_REPLAY: _otp_replay,
    Event.OTP_SENT: _otp_sent,
    Event.ACCOUNT_LOCKED: _locked,
    Event.ACCOUNT_UNLOCKED: _unlocked,
    Event.DEVICE_REGISTERED: _device_registered,
    Event.DEVICE_DELETED: _device_deleted,
    Event.OTP_CHANNEL_EMAIL: _channel_email,
    Event.PASSWORD_CHANGED: _password_changed,
    Event.PASSWORD_RESET: _password_reset,
    Event.RESET_REFUSED: _reset_refused,
    Event.SMARTCARD_LOGON_SUCCESS: _smartcard_success,
    Event.SMARTCARD_LOGON_FAILURE: _smartcard_failure,
    Event.LOGOUT: _logout,
    Event.SESSION_EXPIRED: _session_expired,
    Event.REGISTRATION_RESET: _registration_reset,
    Event.REPORT_DOWNLOADED: _report_downloaded,
    Event.DEMO_CLOCK_MOVED: _demo_clock_moved,
    DmsEvent.REQUEST_PREPARED: _prepared,
    DmsEvent.REQUEST_AUTHORISED: _authorised,
    DmsEvent.REQUEST_REJECTED: _rejected,
    DmsEvent.REQUEST_WITHDRAWN: _withdrawn,
    DmsEvent.AUTHORISATION_REFUSED: _authorisation_refused,
    BackofficeEvent.DA3_PROCESSED: _da3,
    BackofficeEvent.DA4_PROCESSED: _da4,
    BackofficeEvent.SCARD1_PROCESSED: _scard1,
}


def test_every_event_kind_has_a_scenario():
    defined = kinds_of(Event) | kinds_of(DmsEvent) | kinds_of(BackofficeEvent)
    assert defined == set(SCENARIOS), defined ^ set(SCENARIOS)


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_sec27_one_row_per_event_and_no_secret(kind, participant, settings, django_capture_on_commit_callbacks, caplog):
    caplog.set_level(logging.DEBUG)
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)
    world = World(participant, django_capture_on_commit_callbacks)
    before = AuditEvent.objects.filter(kind=kind).count()
    SCENARIOS[kind](world)
    assert AuditEvent.objects.filter(kind=kind).count() - before == 1
    world.note_mail()
    rows = " ".join(f"{e.actor_label} {e.subject_label} {e.data}" for e in AuditEvent.objects.all())
    for secret in world.secrets:
        assert secret not in rows, f"{kind}: a secret in an audit row"
        assert secret not in caplog.text, f"{kind}: a secret in the log"
