"""Lockout (§4.1.2, §4.2.2; SECURITY.md 1-6)."""

import os
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from accounts import lockout
from accounts.logon import GENERIC_FAILURE, LOCKED_MESSAGE
from accounts.models import AuditEvent, User
from ccass_portal import clock
from tests.concurrency import run_concurrently
from tests.factories import GOOD_PASSWORD, make_user
from tests.logon_helpers import app_logon, is_logged_in, password_step

pytestmark = pytest.mark.django_db


def fail_password(client, user_id="B0123403"):
    return password_step(client, user_id, "Wrong(Password)123x")


def fail_otp(client, user_id="B0123403"):
    password_step(client, user_id, GOOD_PASSWORD)
    return client.post("/login/otp/", {"otp": "000000"})


def test_sec04_five_failures_lock_and_the_right_password_no_longer_gets_in(client, app_user):
    user, app = app_user
    for _ in range(4):
        response = fail_password(client)
        assert response.status_code == 200 and str(GENERIC_FAILURE) in response.content.decode()
        assert str(LOCKED_MESSAGE) not in response.content.decode()
    user.refresh_from_db()
    assert not user.is_locked and len(user.logon_failures) == 4
    response = fail_password(client)  # the fifth locks, and still says what the others said
    assert str(LOCKED_MESSAGE) not in response.content.decode()
    user.refresh_from_db()
    assert user.is_locked
    assert AuditEvent.objects.filter(subject=user, kind="account_locked").count() == 1
    # From the next attempt on, even the right password and OTP do not get in (SECURITY.md 4),
    # and the page says the account is locked (the exact message, not the generic one).
    response = password_step(client, user.user_id, GOOD_PASSWORD)
    assert response.status_code == 200 and str(LOCKED_MESSAGE) in response.content.decode()
    assert str(GENERIC_FAILURE) not in response.content.decode()
    assert client.get("/login/otp/").status_code == 302
    assert not is_logged_in(client)


def test_sec02_counter_is_per_account_not_per_session_and_ids_are_normalised(app_user):
    user, _ = app_user
    for typed in ["b0123403", " B0123403 ", "B0123403", "b0123403 ", "\tB0123403"]:
        fail_password(Client(REMOTE_ADDR=f"10.0.0.{len(typed)}"), typed)  # a new session and address each time
    user.refresh_from_db()
    assert user.is_locked


def test_sec03_three_wrong_otps_count_as_one_failed_logon(client, app_user):
    user, _ = app_user
    for _ in range(2):
        fail_otp(client)
    user.refresh_from_db()
    assert user.otp_failures == 2 and user.logon_failures == []
    fail_otp(client)
    user.refresh_from_db()
    assert user.otp_failures == 0 and len(user.logon_failures) == 1


def test_sec03_four_password_failures_and_three_otp_failures_lock(client, app_user):
    user, _ = app_user
    for _ in range(4):
        fail_password(client)
    for _ in range(3):
        response = fail_otp(client)
    user.refresh_from_db()
    assert user.is_locked
    assert response.status_code == 302 and response["Location"] == "/login/"


def test_sec03_a_full_logon_resets_both_counts(client, app_user):
    user, app = app_user
    for _ in range(4):
        fail_password(client)
    for _ in range(2):
        fail_otp(client)
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    user.refresh_from_db()
    assert user.logon_failures == [] and user.otp_failures == 0
    client.post("/logout/")
    for _ in range(4):
        fail_password(client)
    user.refresh_from_db()
    assert not user.is_locked


def test_sec03_the_thirty_minute_window(app_user):
    user, _ = app_user
    with time_machine.travel("2024-03-01 10:00:00 +0800", tick=False) as traveller:
        for _ in range(4):
            lockout.record_logon_failure(user)
        traveller.shift(timedelta(minutes=30, seconds=1))  # all four are now 30 min + 1 s old
        lockout.record_logon_failure(user)
        user.refresh_from_db()
        assert not user.is_locked and len(user.logon_failures) == 1
    with time_machine.travel("2024-03-02 10:00:00 +0800", tick=False) as traveller:
        user.logon_failures = []
        user.save()
        for _ in range(4):
            lockout.record_logon_failure(user)
        traveller.shift(timedelta(minutes=29, seconds=59))  # still inside the window
        lockout.record_logon_failure(user)
        user.refresh_from_db()
        assert user.is_locked


def test_sec04_while_locked_nothing_is_counted(client, app_user):
    user, _ = app_user
    for _ in range(5):
        fail_password(client)
    user.refresh_from_db()
    locked_at = user.locked_at
    for _ in range(3):
        fail_password(client)
    user.refresh_from_db()
    assert user.locked_at == locked_at and user.logon_failures == []
    assert AuditEvent.objects.filter(subject=user, kind="account_locked").count() == 1
    assert AuditEvent.objects.filter(subject=user, kind="logon_failure", data__reason="locked").count() == 3


def test_sec06_asking_for_a_new_email_otp_does_not_reset_the_otp_count(
    client, email_user, django_capture_on_commit_callbacks
):
    from tests.logon_helpers import post

    password_step(client, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    client.post("/login/otp/", {"otp": "00000000"})
    client.post("/login/otp/", {"otp": "00000000"})
    with time_machine.travel(timedelta(minutes=6)):
        post(client, "/login/otp/", {"action": "request"}, django_capture_on_commit_callbacks)
        client.post("/login/otp/", {"otp": "00000000"})
    email_user.refresh_from_db()
    assert len(email_user.logon_failures) == 1 and email_user.otp_failures == 0


def test_lift_lock_lets_the_person_in_again(client, app_user):
    user, app = app_user
    for _ in range(5):
        fail_password(client)
    lockout.lift_lock(user)
    assert AuditEvent.objects.filter(subject=user, kind="account_unlocked").count() == 1
    response = app_logon(client, user.user_id, GOOD_PASSWORD, app)
    assert response["Location"] == "/login/success/"


def test_sec05_lock_holds_on_every_path(client, app_user, participant, settings):
    """SECURITY.md 5: password, smartcard, self-service reset, DMS (the checker's code: tests/dms)."""
    from datetime import date

    user, app = app_user
    user.srn = "0101B0123403CARD"
    user.set_smartcard_password("246810")
    user.save()
    for _ in range(5):
        fail_password(client)
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2999, 1, 1)
    response = client.post("/login/smartcard/", {"srn": user.srn, "smartcard_password": "246810"})
    assert b"Unsuccessful smartcard logon" in response.content and not is_logged_in(client)
    # The reset answers as for anyone (issue 12, finding 6), and even the app's right code gets nowhere.
    assert client.post("/reset/", {"user_id": user.user_id})["Location"] == "/reset/otp/"
    assert client.post("/reset/otp/", {"otp": app.code()}).status_code == 400
    assert client.get("/reset/password/")["Location"] == "/reset/"
    assert password_step(client, user.user_id, GOOD_PASSWORD, prefix="/dms").status_code == 200
    assert client.get("/dms/home/").status_code == 302


def test_sec05_lock_holds_on_the_expired_password_change(client, app_user):
    user, app = app_user
    user.password_changed_at = clock.now() - timedelta(days=91)
    user.save()
    assert app_logon(client, user.user_id, GOOD_PASSWORD, app)["Location"] == "/login/expired/"
    for _ in range(5):  # meanwhile someone elsewhere locks the account
        fail_password(Client())
    response = client.post(
        "/login/expired/",
        {
            "new_password1": "Another#Strong7passphrase",
            "new_password2": "Another#Strong7passphrase",
            "old_password": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/login/"
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD) and not is_logged_in(client)


def test_sec05_lock_holds_on_the_backoffice_and_django_admin(participant):
    from otp.models import AuthenticatorDevice
    from tests.logon_helpers import strong_login

    operator = make_user(None, "HKEXOPS9", password=GOOD_PASSWORD, channel="APP", is_staff=True, is_superuser=True)
    device = AuthenticatorDevice.new_for(operator)
    device.confirmed = True
    device.save()
    session = strong_login(Client(), operator, device)
    assert session.get("/admin/").status_code == 200
    for _ in range(5):
        password_step(Client(), operator.user_id, "Wrong(Password)123x", prefix="/backoffice")
    operator.refresh_from_db()
    assert operator.is_locked
    assert session.get("/admin/").status_code == 302  # the open session loses the admin at once
    assert session.get("/backoffice/home/").status_code == 302
    response = password_step(Client(), operator.user_id, GOOD_PASSWORD, prefix="/backoffice")
    assert response.status_code == 200 and str(LOCKED_MESSAGE) in response.content.decode()


def _hammer(url_data, n):
    run_concurrently(n, lambda: Client().post(*url_data))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sec01_fifty_concurrent_wrong_passwords_lock_exactly_once(postgres, participant):
    user = make_user(participant, "B0123403", password=GOOD_PASSWORD)
    _hammer(("/login/", {"user_id": "B0123403", "password": "Wrong(Password)123x"}), 50)
    user.refresh_from_db()
    assert user.is_locked
    failures = AuditEvent.objects.filter(subject=user, kind="logon_failure")
    assert failures.exclude(data__reason="locked").count() == 5  # at most 5 counted
    assert AuditEvent.objects.filter(subject=user, kind="account_locked").count() == 1


@pytest.mark.embedded
@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the SQLite variant of SEC 1")
@pytest.mark.django_db(transaction=True)
def test_sec01_concurrent_wrong_passwords_on_sqlite_immediate_transactions(participant):
    user = make_user(participant, "B0123403", password=GOOD_PASSWORD)
    _hammer(("/login/", {"user_id": "B0123403", "password": "Wrong(Password)123x"}), 12)
    user.refresh_from_db()
    assert user.is_locked
    assert AuditEvent.objects.filter(subject=user, kind="logon_failure").exclude(data__reason="locked").count() == 5
    assert AuditEvent.objects.filter(subject=user, kind="account_locked").count() == 1


def test_sec05_a_lock_that_lands_just_before_the_logon_completes_wins(app_user, rf):
    """complete_logon() clears the counts only on an unlocked row, in the same UPDATE that stamps
    the access: a lock taken after the OTP step read the person (a concurrent attacker's fifth
    failure) still stops the logon, and nothing of the logon is written."""
    from django.contrib.auth import SESSION_KEY

    from accounts import logon
    from accounts.sessions import SessionStore

    user, _ = app_user  # the in-memory row, as the OTP step read it: not locked
    User.objects.filter(pk=user.pk).update(locked_at=clock.now(), logon_failures=["x"] * 5)
    request = rf.post("/login/otp/")
    request.session = SessionStore()
    assert logon.complete_logon(request, user, device=None, method="2fa", service="online") is False
    assert SESSION_KEY not in request.session
    user.refresh_from_db()
    assert user.is_locked and user.last_login is None and user.last_access_at is None
    assert len(user.logon_failures) == 5
    assert not AuditEvent.objects.filter(subject=user, kind="logon_success").exists()
