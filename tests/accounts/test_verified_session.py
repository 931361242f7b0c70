"""A logged-in request reads the person and the device that verified the session in one statement
(accounts.middleware.VerifiedPersonMiddleware, issue 19), and the answer stays exactly Django's and
django-otp's: a device deleted, disabled or not the person's since does not count, and a session
whose person changed password, left or was disabled ends (docs/security.md, checks 16 and 18).

Two clients each time: the person's session, and someone else acting on the person's records
meanwhile (the ORM stands for the DA or operator, so that only the device check is exercised,
not the security stamp a service would also rotate)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import User
from ccass_portal import clock
from otp.models import AuthenticatorDevice
from tests.factories import GOOD_PASSWORD, make_person
from tests.logon_helpers import app_logon, is_logged_in

pytestmark = pytest.mark.embedded  # PostgreSQL and SQLite


@pytest.fixture
def victim(app_user):
    user, app = app_user
    client = Client()
    assert app_logon(client, user.user_id, GOOD_PASSWORD, app)["Location"] == "/login/success/"
    assert is_logged_in(client)
    return user, client


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: no test savepoints
@pytest.mark.usefixtures("no_demo_clock")
def test_a_logged_in_page_reads_the_person_and_the_device_in_one_statement(victim, django_assert_num_queries):
    user, client = victim
    with django_assert_num_queries(2):  # the session; the person and the verified device (one join)
        assert client.get("/login/success/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["deleted", "disabled"])
def test_a_device_deleted_or_disabled_since_no_longer_verifies_the_session(victim, change):
    user, client = victim
    devices = AuthenticatorDevice.objects.filter(user=user)
    if change == "deleted":
        devices.delete()
    else:
        devices.update(confirmed=False)
    assert client.get("/login/success/").status_code == 302
    assert not is_logged_in(client)
    if change == "disabled":
        devices.update(confirmed=True)  # confirmed again: the session forgot the device (django-otp)
        assert not is_logged_in(client)
        assert DEVICE_ID_SESSION_KEY not in client.session


@pytest.mark.django_db
def test_another_persons_device_named_in_the_session_does_not_verify_it(victim, participant):
    user, client = victim
    other, _ = make_person(participant, "B0123499")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = AuthenticatorDevice.objects.get(user=other).persistent_id
    session.save()
    assert not is_logged_in(client)


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["password", "stamp", "soft_deleted", "inactive"])
def test_a_session_whose_person_changed_meanwhile_ends(victim, change):
    user, client = victim
    key = client.session.session_key
    if change == "password":
        user.set_password("Another(Pass)98765")
        user.save(update_fields=["password"])
    elif change == "stamp":
        user.rotate_security_stamp()
        user.save(update_fields=["security_stamp"])
    elif change == "soft_deleted":
        User.all_objects.filter(pk=user.pk).update(deleted_at=clock.now() - timedelta(seconds=1))
    else:
        User.all_objects.filter(pk=user.pk).update(is_active=False)
    assert not is_logged_in(client)
    if change in ("password", "stamp"):  # Django flushes a session whose hash no longer matches
        assert not Session.objects.filter(session_key=key).exists()
