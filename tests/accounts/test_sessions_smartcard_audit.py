"""Sessions (SEC 16-19, 26), smartcard logon (§4, §5), enumeration (SEC 7) and audit (SEC 15, 27)."""

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from accounts.hashers import PortalArgon2PasswordHasher
from accounts.logon import LOCKED_MESSAGE
from accounts.models import AuditEvent, OtpChannel, User
from ccass_portal import clock
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD, make_user
from tests.logon_helpers import app_logon, comparable_page, email_logon, is_logged_in, password_step
from tests.stack import ROOT

pytestmark = pytest.mark.django_db


# -- sessions -------------------------------------------------------------------------------


def test_sec16_session_key_rotates_at_each_step_and_keeps_no_password(client, app_user):
    user, app = app_user
    client.get("/login/")
    first = client.session.session_key
    password_step(client, user.user_id, GOOD_PASSWORD)
    second = client.session.session_key
    assert second != first
    # While the session between the two steps exists: no password in it, decoded or as stored.
    between = Session.objects.get(session_key=second)
    assert GOOD_PASSWORD not in str(between.get_decoded()) and GOOD_PASSWORD not in between.session_data
    for url in ["/terminal/", "/reports/", "/password/", "/dms/home/", "/login/success/"]:
        assert client.get(url).status_code == 302  # nothing protected between the steps
    client.post("/login/otp/", {"otp": app.code()})
    third = client.session.session_key
    assert third not in (first, second)
    for session in Session.objects.all():
        assert GOOD_PASSWORD not in str(session.get_decoded())


@pytest.mark.parametrize(
    "idle,ok", [(timedelta(minutes=14, seconds=59), True), (timedelta(minutes=15, seconds=1), False)]
)
def test_sec17_idle_timeout(client, app_user, idle, ok):
    user, app = app_user
    with time_machine.travel("2024-06-03 09:00 +0800", tick=False) as traveller:
        app_logon(client, user.user_id, GOOD_PASSWORD, app)
        traveller.shift(idle)
        assert is_logged_in(client) is ok


def test_sec17_absolute_timeout_even_when_active(client, app_user):
    user, app = app_user
    with time_machine.travel("2024-06-03 08:00 +0800", tick=False) as traveller:
        app_logon(client, user.user_id, GOOD_PASSWORD, app)
        for _ in range(12 * 6 - 1):  # a request every 10 minutes for 11 h 50 min
            traveller.shift(timedelta(minutes=10))
            assert is_logged_in(client)
        traveller.shift(timedelta(minutes=10, seconds=1))
        assert not is_logged_in(client)
    assert AuditEvent.objects.filter(subject=user, kind="session_expired", data__reason="absolute").count() == 1


def test_sec18_disabling_or_locking_ends_the_session(client, app_user):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    User.objects.filter(pk=user.pk).update(status=User.Status.DISABLED)
    assert not is_logged_in(client)
    User.objects.filter(pk=user.pk).update(status=User.Status.ENABLED, locked_at=clock.now())
    assert not is_logged_in(client)


def test_sec18_reset_ends_other_sessions(client, app_user):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    other = Client()
    other.post("/reset/", {"user_id": user.user_id})
    other.post("/reset/otp/", {"otp": app.code(offset_steps=1)})
    other.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert not is_logged_in(client)


def _production_settings(expression: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    env["DJANGO_SECRET_KEY"] = "p" * 50
    result = subprocess.run(
        [sys.executable, "-c", f"import ccass_portal.settings as s; print({expression})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_sec19_cookies_are_secure_httponly_samesite_in_production():
    assert (
        _production_settings(
            "s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY"
        )
        == "True True Lax True True"
    )


def test_sec19_session_cookie_flags_on_the_wire(client, app_user, settings):
    # The cookie flags as production sets them (read from ccass_portal.settings without the test
    # settings), not a value this test chose: a production default turned off fails here.
    names = ["SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE"]
    production = json.loads(_production_settings(f"__import__('json').dumps({{n: getattr(s, n) for n in {names!r}}})"))
    for name in names:
        setattr(settings, name, production[name])
    user, app = app_user
    response = app_logon(client, user.user_id, GOOD_PASSWORD, app)
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


STATE_CHANGES = [
    ("/login/", {"user_id": "B0123403", "password": GOOD_PASSWORD}),
    ("/login/otp/", {"action": "request"}),
    ("/reset/", {"user_id": "B0123403"}),
    ("/logout/", {}),
    ("/dms/login/", {"user_id": "B01234X1", "password": GOOD_PASSWORD}),
    ("/login/smartcard/", {"srn": "X", "smartcard_password": "123456"}),
]


@pytest.mark.parametrize("url,data", STATE_CHANGES)
def test_sec19_csrf_on_every_state_change(app_user, url, data):
    client = Client(enforce_csrf_checks=True)
    assert client.post(url, data).status_code == 403


def test_sec26_admin_needs_2fa_and_staff(client, app_user, participant):
    user, app = app_user
    operator = make_user(None, "HKEXOPS9", password=GOOD_PASSWORD, is_staff=True, is_superuser=True)
    from otp.models import AuthenticatorDevice
    from tests.factories import AuthenticatorApp

    device = AuthenticatorDevice.new_for(operator)
    device.confirmed = True
    device.save()
    operator.otp_channel = OtpChannel.APP
    operator.twofa_set_up_at = clock.now()
    operator.save()
    # The 2FA half: staff who have only passed the password step, or hold a session that was
    # never OTP-verified, do not reach the admin.
    assert password_step(client, operator.user_id, GOOD_PASSWORD, prefix="/backoffice").status_code == 302
    assert client.get("/admin/").status_code == 302
    unverified = Client()
    unverified.force_login(operator)  # logged in, staff, but no verified device in the session
    assert unverified.get("/admin/").status_code == 302
    response = client.post("/backoffice/login/otp/", {"otp": AuthenticatorApp(device.base32_key).code()})
    assert response["Location"] == "/backoffice/login/success/"
    assert client.get("/admin/").status_code == 200
    # The staff half:
    # A business user with a full 2FA session is not an operator.
    other = Client()
    app_logon(other, user.user_id, GOOD_PASSWORD, app)
    assert other.get("/admin/").status_code == 302


# -- smartcard ----------------------------------------------------------------------------


@pytest.fixture
def card_user(participant, settings):
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)
    user = make_user(
        participant, "B0123401", srn="0101423031323334", certificate_expiry=clock.now() + timedelta(days=365)
    )
    user.set_smartcard_password("246810")
    user.save()
    return user


def smartcard(client, srn="0101423031323334", pin="246810"):
    return client.post("/login/smartcard/", {"srn": srn, "smartcard_password": pin})


def test_smartcard_logon_of_a_migrated_user(client, card_user):
    page = client.get("/login/smartcard/").content.decode()
    assert "SRN" in page and "Smartcard Password" in page
    response = smartcard(client)
    assert response["Location"] == "/login/success/"
    assert is_logged_in(client)
    assert AuditEvent.objects.filter(subject=card_user, kind="smartcard_logon_success").count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"created_after_launch": True},
        {"locked_at": "now"},
        {"certificate_expiry": "past"},
        {"status": User.Status.DISABLED},
    ],
)
def test_smartcard_refusals(client, card_user, change):
    for field, value in change.items():
        setattr(
            card_user,
            field,
            clock.now() if value == "now" else clock.now() - timedelta(seconds=1) if value == "past" else value,
        )
    card_user.save()
    response = smartcard(client)
    assert response.status_code == 200 and b"Unsuccessful smartcard logon" in response.content
    assert not is_logged_in(client)


def test_wrong_smartcard_password_counts_towards_the_lockout(client, card_user):
    for _ in range(5):
        smartcard(client, pin="135790")
    card_user.refresh_from_db()
    assert card_user.is_locked
    assert b"Unsuccessful" in smartcard(client).content


def test_smartcard_session_ends_at_decommissioning(client, card_user, settings):
    smartcard(client)
    assert is_logged_in(client)
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = clock.today()
    assert not is_logged_in(client)


def test_unknown_srn_or_a_profile_without_a_card_is_refused_not_an_error(client, card_user, participant):
    response = smartcard(client, srn="NO-SUCH-CARD")
    assert response.status_code == 200 and b"Unsuccessful smartcard logon" in response.content
    no_card = make_user(participant, "B0123409", srn="0101NOPASSWORD00")  # a card with no password set
    response = smartcard(client, srn=no_card.srn)
    assert response.status_code == 200 and b"Unsuccessful smartcard logon" in response.content


@pytest.mark.parametrize("pin", ["12345", "123456789", "12a456", ""])
def test_smartcard_password_must_be_6_to_8_digits(client, card_user, pin):
    response = smartcard(client, pin=pin)
    assert response.status_code == 400 and b"field-error" in response.content
    card_user.refresh_from_db()
    assert card_user.logon_failures == []


# -- one card, one person (issue 12 finding 3; docs/security.md "Smartcard") ---------------------


@pytest.fixture
def seeded_cards(settings):
    """The demo firms as seed_demo makes them: every account of a firm holds a card."""
    import io

    from django.core.management import call_command

    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)
    call_command("seed_demo", stdout=io.StringIO())
    return {user.user_id: user.srn for user in User.objects.exclude(srn="")}


def logged_on_as(client) -> str | None:
    return client.session.get("_auth_user_id")


def test_demo_cards_have_distinct_srns(seeded_cards):
    from accounts.demo_data import srn_for

    assert len(seeded_cards) == 23 and len(set(seeded_cards.values())) == len(seeded_cards)
    assert all(len(srn) <= 16 and srn == srn_for(user_id) for user_id, srn in seeded_cards.items())
    readme = (ROOT / "README.md").read_text()  # "Demo accounts" lists each card
    assert all(f"`{user_id}` | `{srn}`" in readme for user_id, srn in seeded_cards.items())


def test_an_srn_belongs_to_one_person(participant):
    from django.db import IntegrityError, transaction

    make_user(participant, "B0123401", srn="4230313233343031")
    make_user(participant, "B0123402")  # no card: any number of profiles may have none
    make_user(participant, "B0123403")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user(participant, "B0123404", srn="4230313233343031")


def test_each_card_logs_on_only_its_own_person(seeded_cards):
    # Two actors of one firm: the attacker holds card B0123405, the victim B0123401 holds their own.
    attacker, victim = Client(), Client()
    response = attacker.post("/login/smartcard/", {"srn": seeded_cards["B0123405"], "smartcard_password": "246810"})
    assert response["Location"] == "/login/success/" and logged_on_as(attacker) == "B0123405"
    victim.post("/login/smartcard/", {"srn": seeded_cards["B0123401"], "smartcard_password": "246810"})
    assert logged_on_as(victim) == "B0123401"
    for user_id in ("B0123402", "BNK99901", "HKABC101", "HKABC201"):
        other = Client()
        other.post("/login/smartcard/", {"srn": seeded_cards[user_id], "smartcard_password": "246810"})
        assert logged_on_as(other) == user_id


def test_wrong_pins_count_against_the_cards_own_person_only(seeded_cards):
    attacker, victim = Client(), Client()
    for _ in range(5):
        attacker.post("/login/smartcard/", {"srn": seeded_cards["B0123405"], "smartcard_password": "135790"})
    assert User.objects.get(pk="B0123405").is_locked
    others = User.objects.filter(participant__participant_id="B01234").exclude(pk="B0123405")
    assert all(not u.is_locked and u.logon_failures == [] for u in others)
    victim.post("/login/smartcard/", {"srn": seeded_cards["B0123401"], "smartcard_password": "246810"})
    assert logged_on_as(victim) == "B0123401"


def test_a_da_logs_on_to_dms_by_smartcard(seeded_cards):
    # App. A: a DA's e-mail registration starts from a smartcard logon to DMS.
    da, user = Client(), Client()
    response = da.post("/dms/login/smartcard/", {"srn": seeded_cards["B01234X1"], "smartcard_password": "246810"})
    assert response["Location"] == "/dms/login/success/" and logged_on_as(da) == "B01234X1"
    assert is_logged_in(da, "/dms")
    # A business user's card still opens no DMS session, and a DA's card no one else's.
    response = user.post("/dms/login/smartcard/", {"srn": seeded_cards["B0123401"], "smartcard_password": "246810"})
    assert response.status_code == 200 and logged_on_as(user) is None
    assert (
        AuditEvent.objects.filter(kind="smartcard_logon_success").values_list("subject_label", flat=True).get()
        == "B01234X1"
    )


# -- SEC 7: the same answer, and one hash, for unknown, disabled, locked and wrong password --------


class CountingHasher(PortalArgon2PasswordHasher):
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)

    def verify(self, password, encoded):
        CountingHasher.calls += 1
        return super().verify(password, encoded)


def test_sec07_same_page_same_status_one_hash_each(participant, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]  # caches clear on change
    make_user(participant, "B0123402", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL)
    make_user(participant, "B0123404", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL, status=User.Status.DISABLED)
    make_user(participant, "B0123405", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL, locked_at=clock.now())
    for _ in range(5):  # an ID that names nobody, locked like a person (issue 12, finding 5)
        Client().post("/login/", {"user_id": "B0123498", "password": "Wrong(Password)12x"})
    groups = {
        "not locked": {
            "unknown": ("B0123499", GOOD_PASSWORD),
            "disabled": ("B0123404", GOOD_PASSWORD),
            "wrong password": ("B0123402", "Wrong(Password)12x"),
        },
        "locked": {
            "locked (right password)": ("B0123405", GOOD_PASSWORD),
            "locked (wrong password)": ("B0123405", "Wrong(Password)12x"),
            "unknown, after 5 failures": ("B0123498", GOOD_PASSWORD),
        },
    }
    for group, cases in groups.items():
        answers = {}
        for name, (user_id, password) in cases.items():
            CountingHasher.calls = 0
            response = Client().post("/login/", {"user_id": user_id, "password": password})
            assert CountingHasher.calls == 1, f"{name}: {CountingHasher.calls} hashes"
            answers[name] = (response.status_code, comparable_page(response.content.decode(), user_id))
        assert len(set(answers.values())) == 1, (group, answers.keys())
        assert (str(LOCKED_MESSAGE) in next(iter(answers.values()))[1]) == (group == "locked")


# -- SEC 15 and 27: the audit trail and the logs keep no secret ------------------------------


def test_sec15_sec27_audit_rows_and_logs_hold_no_secret(
    client, app_user, email_user, django_capture_on_commit_callbacks, caplog
):
    import logging

    caplog.set_level(logging.DEBUG)
    user, app = app_user
    secrets_used = {GOOD_PASSWORD, NEW_PASSWORD, "Wrong(Password)12x"}
    code = app.code()
    secrets_used.add(code)
    password_step(client, user.user_id, "Wrong(Password)12x")
    password_step(client, user.user_id, GOOD_PASSWORD)
    client.post("/login/otp/", {"otp": "123456"})
    client.post("/login/otp/", {"otp": code})
    step_up_code = app.code(1)
    secrets_used.add(step_up_code)
    client.post(
        "/password/",
        {
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "old_password": GOOD_PASSWORD,
            "otp": step_up_code,
        },
    )
    other = Client()
    email_logon(other, email_user.user_id, GOOD_PASSWORD, django_capture_on_commit_callbacks)
    secrets_used.update(re.findall(r"\d{8}", mail.outbox[-1].body))
    kinds = set(AuditEvent.objects.values_list("kind", flat=True))
    assert {"logon_failure", "otp_failure", "logon_success", "password_changed", "otp_sent"} <= kinds
    rows = " ".join(f"{e.kind} {e.actor_label} {e.subject_label} {e.data}" for e in AuditEvent.objects.all())
    logs = caplog.text
    for secret in secrets_used:
        assert secret not in rows and secret not in logs
    for event in AuditEvent.objects.exclude(kind__in=["otp_sent"]):
        assert event.source_ip == "127.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_an_existing_demo_database_gets_distinct_srns_on_migrate():
    # A demo database seeded before the fix holds one SRN per firm: migrate gives each demo card its
    # own, and clears an SRN that several other profiles share (it identifies none of them).
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("accounts", "0001_initial")], [("accounts", "0003_srn_one_person")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("accounts", "User")
        for user_id in ("B0123401", "B0123402", "B01234X1"):
            old.objects.create(user_id=user_id, surname="CHAN", srn=("0101" + user_id.encode().hex().upper())[:16])
        for user_id in ("B0123403", "B0123404"):
            old.objects.create(user_id=user_id, surname="CHAN", srn="SHAREDCARD")
        old.objects.create(user_id="B0123405", surname="CHAN", srn="OWNCARD")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        srns = dict(User.all_objects.values_list("user_id", "srn"))
        assert srns == {
            "B0123401": "4230313233343031",
            "B0123402": "4230313233343032",
            "B01234X1": "4230313233345831",
            "B0123403": "",
            "B0123404": "",
            "B0123405": "OWNCARD",
        }
    finally:
        # Back to the whole schema, or every later test on this database sees tables that were
        # migrated away (the order of the tests is random).
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_smartcard_refusals_are_one_page_and_one_hash_whatever_the_card(participant, settings):
    # An attacker without the card learns nothing from the answer: unknown SRN, wrong PIN, or the right
    # PIN of a card that may not log on (locked, 2FA-only, disabled, the wrong portal) all look alike.
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)
    expiry = clock.now() + timedelta(days=365)
    cards = {
        "B0123401": {},
        "B0123402": {"locked_at": clock.now()},
        "B0123403": {"created_after_launch": True},
        "B0123404": {"status": User.Status.DISABLED},
    }
    for user_id, extra in cards.items():
        user = make_user(participant, user_id, srn=f"CARD{user_id}", certificate_expiry=expiry, **extra)
        user.set_smartcard_password("246810")
        user.save()
    for prefix, cases in {
        "": {
            "unknown SRN": ("NO-SUCH-CARD", "246810"),
            "wrong PIN": ("CARDB0123401", "135790"),
            "locked, right PIN": ("CARDB0123402", "246810"),
            "2FA only, right PIN": ("CARDB0123403", "246810"),
            "disabled, right PIN": ("CARDB0123404", "246810"),
        },
        "/dms": {"unknown SRN": ("NO-SUCH-CARD", "246810"), "a user's card, right PIN": ("CARDB0123401", "246810")},
    }.items():
        answers = {}
        for name, (srn, pin) in cases.items():
            CountingHasher.calls = 0
            response = Client().post(f"{prefix}/login/smartcard/", {"srn": srn, "smartcard_password": pin})
            assert CountingHasher.calls == 1, f"{name}: {CountingHasher.calls} hashes"
            answers[name] = (response.status_code, comparable_page(response.content.decode(), srn))
        assert len(set(answers.values())) == 1, answers.keys()
    assert not User.objects.get(pk="B0123401").is_locked  # one wrong PIN: one failure, no more
