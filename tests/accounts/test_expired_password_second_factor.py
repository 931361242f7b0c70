"""The forced change of an expired password needs the second factor too (issue 12,
finding 1; docs/decisions.md, "Expired password: the second factor before the change").

Order: password -> OTP (app code or e-mail OTP, as for any logon) -> forced change -> logon
completes. Someone who knows only the password never reaches the change.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from accounts.models import AuditEvent, User
from ccass_portal import clock
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD
from tests.logon_helpers import is_logged_in, last_email_otp, password_step, post

pytestmark = pytest.mark.django_db

CHANGE = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "old_password": GOOD_PASSWORD}


def _expire(user) -> None:
    User.objects.filter(pk=user.pk).update(password_changed_at=clock.now() - timedelta(days=91))


def _notices(to):
    return [m for m in mail.outbox if to in m.to and "One Time Password" not in m.body]


def test_a_stranger_with_only_the_password_cannot_change_an_expired_one(app_user, django_capture_on_commit_callbacks):
    user, app = app_user
    _expire(user)
    attacker, person = Client(), Client()
    # The attacker knows the password, not the app: the next step is the OTP, not the change.
    assert password_step(attacker, user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    with django_capture_on_commit_callbacks(execute=True):
        response = attacker.post("/login/expired/", CHANGE)
    assert response.status_code == 302 and response["Location"] != "/login/success/"
    assert attacker.post("/login/otp/", {"otp": "000000"}).status_code == 400
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD) and not is_logged_in(attacker)
    assert not AuditEvent.objects.filter(subject=user, kind="password_changed").exists()
    assert _notices(user.email) == []

    # The person, with the password and the app's code, is asked to change it, then logs on.
    assert password_step(person, user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    assert person.post("/login/otp/", {"otp": app.code()})["Location"] == "/login/expired/"
    assert not is_logged_in(person)  # not before the change
    for url in ["/terminal/", "/password/", "/login/success/"]:
        assert person.get(url).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert person.post("/login/expired/", CHANGE)["Location"] == "/login/success/"
    assert is_logged_in(person) and not is_logged_in(attacker)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and clock.now() - user.password_changed_at < timedelta(minutes=1)
    assert AuditEvent.objects.filter(subject=user, kind="password_changed").count() == 1
    assert AuditEvent.objects.filter(subject=user, kind="logon_success").count() == 1
    assert len(_notices(user.email)) == 1


def test_an_email_otp_user_changes_an_expired_password_after_the_mailed_code(
    email_user, django_capture_on_commit_callbacks
):
    _expire(email_user)
    attacker, person = Client(), Client()
    response = password_step(attacker, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    assert response["Location"] == "/login/otp/"  # the code goes to the person's mailbox, not to the attacker
    assert attacker.post("/login/expired/", CHANGE).status_code == 302
    email_user.refresh_from_db()
    assert email_user.check_password(GOOD_PASSWORD)

    # The person starts within the 5 minutes and uses the code already in their mailbox.
    assert password_step(person, email_user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    code = last_email_otp(email_user.email)
    assert person.post("/login/otp/", {"otp": code})["Location"] == "/login/expired/"
    assert not is_logged_in(person)
    response = post(person, "/login/expired/", CHANGE, on_commit=django_capture_on_commit_callbacks)
    assert response["Location"] == "/login/success/" and is_logged_in(person)
    email_user.refresh_from_db()
    assert email_user.check_password(NEW_PASSWORD)
    assert len(_notices(email_user.email)) == 1


def test_a_wrong_current_password_on_the_change_counts_and_the_code_is_not_asked_again(app_user):
    user, app = app_user
    _expire(user)
    person = Client()
    password_step(person, user.user_id, GOOD_PASSWORD)
    assert person.post("/login/otp/", {"otp": app.code()})["Location"] == "/login/expired/"
    response = person.post("/login/expired/", {**CHANGE, "old_password": "Wrong(Pass)12345"})
    assert response.status_code == 400 and b"current password is incorrect" in response.content
    user.refresh_from_db()
    assert len(user.logon_failures) == 1 and user.check_password(GOOD_PASSWORD)
    assert person.post("/login/expired/", CHANGE)["Location"] == "/login/success/"
    user.refresh_from_db()
    assert user.logon_failures == [] and user.check_password(NEW_PASSWORD)
