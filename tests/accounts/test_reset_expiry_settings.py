"""Self-service reset (SEC 8, 20), 90-day expiry (SEC 21) and AUTHENTICATION SETTINGS (App. D.d)."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from accounts.models import AuditEvent, OtpChannel
from ccass_portal import clock
from otp.models import AuthenticatorDevice
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD
from tests.logon_helpers import app_logon, is_logged_in, last_email_otp, password_step

pytestmark = pytest.mark.django_db


# -- self-service reset -------------------------------------------------------------------


def test_sec20_app_user_resets_with_user_id_and_app_code(client, app_user):
    user, app = app_user
    response = client.post("/reset/", {"user_id": user.user_id})
    assert response["Location"] == "/reset/otp/"
    page = client.get("/reset/otp/").content.decode()
    assert "ForgeRock Authenticator (OATH)" in page and "SUBMIT" in page
    assert client.post("/reset/otp/", {"otp": app.code()})["Location"] == "/reset/password/"
    client.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert not is_logged_in(client)  # never logs anyone in
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(subject=user, kind="password_reset").count() == 1


def test_reset_steps_cannot_be_skipped(client, app_user):
    user, _ = app_user
    client.post("/reset/", {"user_id": user.user_id})
    response = client.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/reset/"
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)


def test_sec20_wrong_reset_codes_count_towards_the_lockout(client, app_user):
    user, _ = app_user
    client.post("/reset/", {"user_id": user.user_id})
    for _ in range(3):
        response = client.post("/reset/otp/", {"otp": "000000"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert len(user.logon_failures) == 1


# SEC 8 (the same answers whoever the ID names, the queue down too) and the limits on
# requests: tests/accounts/test_reset_answers.py, which plays a stranger beside each kind of person.


# -- 90-day expiry ------------------------------------------------------------------------


def test_sec21_expired_password_forces_a_change_after_the_otp(client, app_user):
    # The OTP first, so that the password alone never changes it (docs/decisions.md,
    # "Expired password: the second factor before the change"); two actors in
    # tests/accounts/test_expired_password_second_factor.py.
    user, app = app_user
    user.password_changed_at = clock.now() - timedelta(days=90)
    user.save()
    response = password_step(client, user.user_id, GOOD_PASSWORD)
    assert response["Location"] == "/login/otp/"
    assert client.get("/login/expired/")["Location"] == "/login/"
    assert client.post("/login/otp/", {"otp": app.code()})["Location"] == "/login/expired/"
    page = client.get("/login/expired/").content.decode()
    assert "Update" in page and "expired" in page
    # limited to that one action: nothing else is reachable
    for url in ["/terminal/", "/login/otp/", "/password/", "/login/success/"]:
        assert client.get(url).status_code == 302
    # the current password is required
    response = client.post(
        "/login/expired/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "old_password": "Wrong(Pass)12345"},
    )
    assert response.status_code == 400 and b"current password is incorrect" in response.content
    response = client.post(
        "/login/expired/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "old_password": GOOD_PASSWORD}
    )
    assert response["Location"] == "/login/success/" and is_logged_in(client)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and user.password_changed_at > clock.now() - timedelta(minutes=1)


def test_expiry_boundary_and_warning_from_14_days(client, app_user):
    user, app = app_user
    with time_machine.travel("2024-01-01 09:00 +0800", tick=False) as traveller:
        user.password_changed_at = clock.now()
        user.save()
        traveller.shift(timedelta(days=76))  # 14 days left
        app_logon(client, user.user_id, GOOD_PASSWORD, app)
        assert b"Your password will expire in 14 days" in client.get("/login/success/").content
        client.post("/logout/")
        traveller.shift(timedelta(days=13, hours=23))
        assert app_logon(client, user.user_id, GOOD_PASSWORD, app)["Location"] == "/login/success/"
        traveller.shift(timedelta(hours=1))  # exactly 90 days: the forced change after the OTP
        assert app_logon(Client(), user.user_id, GOOD_PASSWORD, app)["Location"] == "/login/expired/"


def test_young_password_shows_no_warning(client, app_user):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    assert b"will expire" not in client.get("/login/success/").content


# -- Change Password and AUTHENTICATION SETTINGS --------------------------------------------


def test_change_password_new_twice_then_current(client, app_user):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    page = client.get("/password/").content.decode()
    assert all(
        label in page
        for label in [
            "Change Password",
            "New password",
            "Confirm new password",
            "Current password",
            "Update",
            "AUTHENTICATION SETTINGS",
        ]
    )
    bad = client.post(
        "/password/",
        {"new_password1": "short", "new_password2": "short", "old_password": GOOD_PASSWORD, "otp": app.code(1)},
    )
    assert bad.status_code == 400 and b"At least 16 characters" in bad.content
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    ok = client.post(
        "/password/",
        {
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "old_password": GOOD_PASSWORD,
            "otp": app.code(1),
        },
    )
    assert ok.status_code == 302
    assert is_logged_in(client)  # this session continues
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(subject=user, kind="password_changed").count() == 1


def test_sec18_password_change_and_device_removal_end_other_sessions(app_user):
    user, app = app_user
    mine, other = Client(), Client()
    app_logon(other, user.user_id, GOOD_PASSWORD, app)
    with time_machine.travel(timedelta(seconds=30)):
        app_logon(mine, user.user_id, GOOD_PASSWORD, app)
        mine.post(
            "/password/",
            {
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
                "old_password": GOOD_PASSWORD,
                "otp": app.code(1),
            },
        )
        assert is_logged_in(mine) and not is_logged_in(other)
    with time_machine.travel(timedelta(seconds=120)):  # past the step-up code just used
        app_logon(other, user.user_id, NEW_PASSWORD, app)
        mine.post(
            "/password/authentication-settings/",
            {"action": "delete", "delete-password": NEW_PASSWORD, "delete-otp": app.code(1)},
        )
        assert is_logged_in(mine) and not is_logged_in(other)


def test_delete_device_needs_the_password_and_next_logon_registers_again(client, app_user):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    page = client.get("/password/authentication-settings/").content.decode()
    assert "Delete" in page and "Multi-factor authentication using OATH" in page and "Save" in page
    response = client.post(
        "/password/authentication-settings/", {"action": "delete", "delete-password": "Wrong(Pass)12345"}
    )
    assert response.status_code == 400
    assert AuthenticatorDevice.objects.filter(user=user).exists()
    response = client.post(
        "/password/authentication-settings/",
        {"action": "delete", "delete-password": GOOD_PASSWORD, "delete-otp": app.code(1)},
    )
    assert response.status_code == 302
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(subject=user, kind="device_deleted").count() == 1
    client.post("/logout/")
    assert password_step(client, user.user_id, GOOD_PASSWORD)["Location"] == "/login/setup/"


def test_switch_off_oath_uses_email_otp_next_time(client, app_user, django_capture_on_commit_callbacks):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    response = client.post(
        "/password/authentication-settings/",
        {"action": "settings", "settings-password": GOOD_PASSWORD, "settings-otp": app.code(1)},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.otp_channel == OtpChannel.EMAIL and not AuthenticatorDevice.objects.filter(user=user).exists()
    client.post("/logout/")
    password_step(client, user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    assert client.post("/login/otp/", {"otp": last_email_otp()})["Location"] == "/login/success/"


def test_settings_need_a_full_session(client, app_user):
    user, _ = app_user
    password_step(client, user.user_id, GOOD_PASSWORD)  # half-logged-in
    assert client.get("/password/").status_code == 302
    assert (
        client.post(
            "/password/authentication-settings/", {"action": "delete", "delete-password": GOOD_PASSWORD}
        ).status_code
        == 302
    )
    assert AuthenticatorDevice.objects.filter(user=user).exists()
