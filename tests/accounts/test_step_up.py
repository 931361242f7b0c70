"""Step-up and change notices (issue 12, finding 1; docs/security.md "Step-up and change notices").

Each test puts an attacker beside the victim: a second client holding a copy of the
victim's session cookie, who does not know the password (or knows it but not the app).
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.models import AuditEvent, OtpChannel, User
from otp.models import AuthenticatorDevice
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD
from tests.logon_helpers import app_logon, comparable_page, email_logon, is_logged_in, last_email_otp, password_step

pytestmark = pytest.mark.django_db

WRONG = "Wrong(Guess)12345x"
HISTORY = "Must differ from your last"
SETTINGS_URL = "/password/authentication-settings/"


def said(response) -> str:
    """The messages a page shows (field errors, the summary, notices), without help texts."""
    html = response.content.decode()
    return " ".join(re.findall(r'class="(?:field-error|message[^"]*)"[^>]*>(.*?)</(?:span|p)>', html))


def stolen(victim: Client) -> Client:
    """A second browser with a copy of the victim's session cookie, and nothing else."""
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = victim.cookies[settings.SESSION_COOKIE_NAME].value
    return thief


def change(client, *, new, current, otp="123456"):
    """Change Password with a step-up code (by default one the thief made up)."""
    return client.post("/password/", {"new_password1": new, "new_password2": new, "old_password": current, "otp": otp})


def test_a_session_holder_cannot_learn_the_password_from_the_history_message(app_user):
    user, app = app_user
    victim = Client()
    app_logon(victim, user.user_id, GOOD_PASSWORD, app)
    thief = stolen(victim)
    # The guess is typed as the new password; the current-password field holds anything.
    right_guess = change(thief, new=GOOD_PASSWORD, current=WRONG)
    wrong_guess = change(thief, new="Other(Guess)123456", current=WRONG)
    assert right_guess.status_code == wrong_guess.status_code == 400
    assert HISTORY not in said(right_guess)
    assert comparable_page(right_guess.content.decode()) == comparable_page(wrong_guess.content.decode())
    assert "The current password is incorrect." in right_guess.content.decode()
    user.refresh_from_db()
    assert len(user.logon_failures) == 2  # each guess counted


def test_the_expired_password_change_checks_the_current_password_first(client, app_user):
    from ccass_portal import clock

    user, app = app_user
    User.objects.filter(pk=user.pk).update(password_changed_at=clock.now() - timedelta(days=91))
    assert app_logon(client, user.user_id, GOOD_PASSWORD, app)["Location"] == "/login/expired/"
    response = client.post(
        "/login/expired/", {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD, "old_password": WRONG}
    )
    assert response.status_code == 400 and HISTORY not in said(response)
    mismatch = client.post(
        "/login/expired/", {"new_password1": NEW_PASSWORD, "new_password2": "x" + NEW_PASSWORD, "old_password": WRONG}
    )
    assert "do not match" not in said(mismatch)
    user.refresh_from_db()
    assert len(user.logon_failures) == 2


def test_a_session_holder_is_counted_and_locked_and_the_session_ends(app_user):
    user, app = app_user
    victim = Client()
    app_logon(victim, user.user_id, GOOD_PASSWORD, app)
    thief = stolen(victim)
    for _ in range(2):
        change(thief, new=NEW_PASSWORD, current=WRONG)
    for form in ("delete", "settings"):
        response = thief.post(SETTINGS_URL, {"action": form, f"{form}-password": WRONG, f"{form}-otp": "123456"})
        assert response.status_code == 400, form
    response = change(thief, new=NEW_PASSWORD, current=WRONG)  # the fifth
    assert response.status_code == 302 and response["Location"] == "/login/"
    user.refresh_from_db()
    assert user.is_locked
    assert not is_logged_in(victim) and not is_logged_in(thief)
    assert password_step(Client(), user.user_id, GOOD_PASSWORD).status_code == 200  # refused


def test_a_session_holder_who_knows_the_password_cannot_remove_the_app_without_a_code(app_user):
    user, app = app_user
    victim = Client()
    app_logon(victim, user.user_id, GOOD_PASSWORD, app)
    thief = stolen(victim)
    no_code = thief.post(SETTINGS_URL, {"action": "delete", "delete-password": GOOD_PASSWORD})
    assert no_code.status_code == 400
    switch = thief.post(SETTINGS_URL, {"action": "settings", "settings-password": GOOD_PASSWORD})
    assert switch.status_code == 400
    for _ in range(3):
        wrong = thief.post(SETTINGS_URL, {"action": "delete", "delete-password": GOOD_PASSWORD, "delete-otp": "000000"})
        assert wrong.status_code == 400 and "Invalid OTP" in wrong.content.decode()
    password_change = thief.post(
        "/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "old_password": GOOD_PASSWORD}
    )
    assert password_change.status_code == 400
    user.refresh_from_db()
    assert AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
    assert user.otp_channel == OtpChannel.APP and user.check_password(GOOD_PASSWORD)
    assert len(user.logon_failures) == 1  # the three wrong codes counted as one failed logon
    # The person, with the app's code, can.
    assert (
        victim.post(
            SETTINGS_URL, {"action": "delete", "delete-password": GOOD_PASSWORD, "delete-otp": app.code(1)}
        ).status_code
        == 302
    )
    assert not AuthenticatorDevice.objects.filter(user=user).exists()


def test_a_replayed_step_up_code_is_refused_and_counted(app_user):
    user, app = app_user
    victim = Client()
    app_logon(victim, user.user_id, GOOD_PASSWORD, app)
    used = app.code()  # the code the logon just used
    response = change(stolen(victim), new=NEW_PASSWORD, current=GOOD_PASSWORD, otp=used)
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD) and user.otp_failures == 1
    assert AuditEvent.objects.filter(subject=user, kind="otp_replay").count() == 1


def _notices(to):
    return [m for m in mail.outbox if to in m.to and "One Time Password" not in m.body]


def test_the_person_is_told_by_mail_of_each_change(app_user, django_capture_on_commit_callbacks):
    user, app = app_user
    victim = Client()
    app_logon(victim, user.user_id, GOOD_PASSWORD, app)
    with django_capture_on_commit_callbacks(execute=True):
        assert change(victim, new=NEW_PASSWORD, current=GOOD_PASSWORD, otp=app.code(1)).status_code == 302
    [notice] = _notices(user.email)
    assert "password" in notice.body and "密碼" in notice.body
    assert user.user_id not in notice.body + notice.subject and not re.search(r"https?://|www\.", notice.body)
    with time_machine.travel(timedelta(seconds=60)), django_capture_on_commit_callbacks(execute=True):
        victim.post(SETTINGS_URL, {"action": "settings", "settings-password": NEW_PASSWORD, "settings-otp": app.code()})
    assert len(_notices(user.email)) == 2 and "e-mail" in _notices(user.email)[-1].body
    assert AuditEvent.objects.filter(subject=user, kind="password_changed").count() == 1
    assert AuditEvent.objects.filter(subject=user, kind="otp_channel_email").count() == 1


def test_an_email_otp_user_proves_a_change_with_an_otp_requested_on_the_page(
    email_user, django_capture_on_commit_callbacks
):
    victim = Client()
    email_logon(victim, email_user.user_id, GOOD_PASSWORD, django_capture_on_commit_callbacks)
    page = victim.get("/password/").content.decode()
    assert "REQUEST OTP" in page and "Enter OTP" in page
    thief = stolen(victim)
    assert change(thief, new=NEW_PASSWORD, current=GOOD_PASSWORD, otp="12345678").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        victim.post("/password/", {"action": "request"})
    code = last_email_otp(email_user.email)
    with django_capture_on_commit_callbacks(execute=True):
        response = change(victim, new=NEW_PASSWORD, current=GOOD_PASSWORD, otp=code)
    assert response.status_code == 302
    email_user.refresh_from_db()
    assert email_user.check_password(NEW_PASSWORD)
    assert len(_notices(email_user.email)) == 1
    assert AuditEvent.objects.filter(subject=email_user, kind="otp_sent", data__purpose="step_up").count() == 1


def test_a_self_service_reset_is_told_by_mail_too(client, app_user, django_capture_on_commit_callbacks):
    user, app = app_user
    client.post("/reset/", {"user_id": user.user_id})
    client.post("/reset/otp/", {"otp": app.code()})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    [notice] = _notices(user.email)
    assert "Forgot/Reset your password?" in notice.body and user.user_id not in notice.body


def test_request_otp_on_a_step_up_page_sends_nothing_to_an_app_user(app_user, django_capture_on_commit_callbacks):
    user, app = app_user
    victim = Client()
    app_logon(victim, user.user_id, GOOD_PASSWORD, app)
    with django_capture_on_commit_callbacks(execute=True):
        assert stolen(victim).post(SETTINGS_URL, {"action": "request"}).status_code == 302
    assert mail.outbox == []


def test_a_change_made_with_a_stolen_session_is_told_to_the_victim(app_user, django_capture_on_commit_callbacks):
    """A thief who also phished the password and a fresh app code can change the password;
    the person then learns of it from the notice in their own mailbox."""
    user, app = app_user
    victim = Client()
    app_logon(victim, user.user_id, GOOD_PASSWORD, app)
    thief = stolen(victim)
    with django_capture_on_commit_callbacks(execute=True):
        assert change(thief, new=NEW_PASSWORD, current=GOOD_PASSWORD, otp=app.code(1)).status_code == 302
    [notice] = _notices(user.email)
    assert notice.to == [user.email] and "password" in notice.body
    assert not is_logged_in(Client()) and AuditEvent.objects.filter(subject=user, kind="password_changed").count() == 1


@pytest.mark.django_db(transaction=True)  # on_commit runs as in production
def test_a_broker_that_refuses_the_notice_does_not_undo_or_break_the_change(app_user):
    from accounts.tasks import send_change_notice

    user, app = app_user
    victim = Client()
    app_logon(victim, user.user_id, GOOD_PASSWORD, app)
    original = send_change_notice.apply_async
    send_change_notice.apply_async = lambda *a, **k: (_ for _ in ()).throw(ConnectionRefusedError("broker down"))
    try:
        response = change(victim, new=NEW_PASSWORD, current=GOOD_PASSWORD, otp=app.code(1))
    finally:
        send_change_notice.apply_async = original
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and _notices(user.email) == []
