"""AUTHENTICATION SETTINGS: a person's passkeys (issue 18; docs/security.md, "Passkeys").
Listed with name, creation date and last use; renamed; added and removed only after the
step-up (the current password and a code of the current factor)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.audit import Event
from accounts.models import AuditEvent
from otp.models import AuthenticatorDevice
from otp.passkeys import passkeys_of
from tests.logon_helpers import strong_login
from tests.passkey_authenticator import SoftAuthenticator, enrol_credential

PASSWORD = "Correct(Horse)9battery"
PAGE = "/password/authentication-settings/"


@pytest.fixture
def holder(app_user):
    user, app = app_user
    _, passkey = enrol_credential(user, name="Office laptop")
    client = strong_login(Client(), user, device=AuthenticatorDevice.objects.get(user=user))
    return user, app, passkey, client


def test_the_page_lists_each_passkey_with_name_creation_and_last_use(holder):
    user, _, _, client = holder
    enrol_credential(user, name="Phone")
    page = client.get(PAGE).content.decode()
    assert "Office laptop" in page and "Phone" in page
    assert "Created" in page and "Last used" in page and "Never" in page
    assert "ADD PASSKEY" in page


def test_rename(holder):
    user, _, passkey, client = holder
    response = client.post(PAGE, {"action": "rename-passkey", "passkey": passkey.pk, "rename-passkey-name": "Desk"})
    assert response.status_code == 302
    passkey.refresh_from_db()
    assert passkey.name == "Desk"
    assert AuditEvent.objects.filter(subject=user, kind=Event.PASSKEY_RENAMED).count() == 1


def test_a_blank_name_is_refused_beside_the_field(holder):
    _, _, passkey, client = holder
    response = client.post(PAGE, {"action": "rename-passkey", "passkey": passkey.pk, "rename-passkey-name": "  "})
    assert response.status_code == 400 and "field-error" in response.content.decode()
    passkey.refresh_from_db()
    assert passkey.name == "Office laptop"


def test_nobody_renames_or_removes_another_persons_passkey(holder, email_user):
    """A person of the same firm names the other's passkey id in their own session."""
    _, app, _, _ = holder
    _, theirs = enrol_credential(email_user, name="Theirs")
    user, _, _, _ = holder
    victim_session = strong_login(Client(), user, device=AuthenticatorDevice.objects.get(user=user))
    response = victim_session.post(
        PAGE, {"action": "rename-passkey", "passkey": theirs.pk, "rename-passkey-name": "Mine now"}
    )
    assert response.status_code == 400 and "not registered for you" in response.content.decode()
    response = victim_session.post(
        PAGE,
        {
            "action": "remove-passkey",
            "passkey": theirs.pk,
            "remove-passkey-password": PASSWORD,
            "remove-passkey-otp": app.code(),
        },
    )
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_removal_needs_the_step_up(holder):
    user, app, passkey, client = holder
    response = client.post(
        PAGE,
        {
            "action": "remove-passkey",
            "passkey": passkey.pk,
            "remove-passkey-password": "Wrong(Horse)9battery",
            "remove-passkey-otp": app.code(),
        },
    )
    assert response.status_code == 400
    assert passkeys_of(user).count() == 1
    user.refresh_from_db()
    assert len(user.logon_failures) == 1  # a wrong password counts (accounts.step_up)

    response = client.post(
        PAGE,
        {
            "action": "remove-passkey",
            "passkey": passkey.pk,
            "remove-passkey-password": PASSWORD,
            "remove-passkey-otp": app.code(),
        },
    )
    assert response.status_code == 302
    assert passkeys_of(user).count() == 0
    assert AuditEvent.objects.filter(subject=user, kind=Event.PASSKEY_REMOVED).count() == 1
    assert client.get(PAGE).status_code == 200  # this session stays


def test_a_stolen_session_cookie_cannot_remove_or_add_a_passkey(holder):
    """The thief holds the victim's session but not the password."""
    user, _, passkey, client = holder
    thief = Client()
    thief.cookies = client.cookies
    for action in ("remove-passkey", "add-passkey"):
        response = thief.post(PAGE, {"action": action, "passkey": passkey.pk, f"{action}-password": "guess"})
        assert response.status_code == 400
    assert passkeys_of(user).count() == 1
    assert thief.get(f"{PAGE}passkey/").status_code == 302
    assert thief.post(f"{PAGE}passkey/begin/").status_code == 403


def test_adding_a_passkey_after_the_step_up(holder, django_capture_on_commit_callbacks):
    user, app, _, client = holder
    assert client.post(f"{PAGE}passkey/begin/").status_code == 403  # no step-up yet
    response = client.post(
        PAGE, {"action": "add-passkey", "add-passkey-password": PASSWORD, "add-passkey-otp": app.code()}
    )
    assert response["Location"] == f"{PAGE}passkey/"
    assert 'id="passkey-register-button"' in client.get(f"{PAGE}passkey/").content.decode()
    options = client.post(f"{PAGE}passkey/begin/").json()
    assert len(options["excludeCredentials"]) == 1  # the passkey already held
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            f"{PAGE}passkey/complete/",
            json.dumps(SoftAuthenticator().register(options)),
            content_type="application/json",
        )
    assert response.status_code == 200 and response.json()["redirect_url"] == PAGE
    assert queued  # the person is told by e-mail
    assert passkeys_of(user).count() == 2
    assert AuditEvent.objects.filter(subject=user, kind=Event.PASSKEY_REGISTERED).count() == 1
    # One step-up, one passkey.
    assert client.post(f"{PAGE}passkey/begin/").status_code == 403


def test_switched_off_the_page_is_the_seeds(holder, settings):
    settings.PORTAL_PASSKEYS = False
    _, _, passkey, client = holder
    assert "passkey" not in client.get(PAGE).content.decode().lower()
    response = client.post(PAGE, {"action": "rename-passkey", "passkey": passkey.pk, "rename-passkey-name": "x"})
    assert response.status_code == 400
    passkey.refresh_from_db()
    assert passkey.name == "Office laptop"
    for path in ("passkey/", "passkey/begin/", "passkey/complete/", "passkey/cancel/"):
        assert client.post(f"{PAGE}{path}").status_code == 404
