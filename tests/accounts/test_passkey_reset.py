"""Self-service reset with a passkey (issue 18; accounts.reset.provable_factor): a passkey
holder may reset, proved by a passkey on the one code page, and the page, the options and
the answers stay the same whoever the typed User ID names."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts import reset
from accounts.audit import Event
from accounts.models import AuditEvent
from ccass_portal import clock
from tests.passkey_authenticator import SoftAuthenticator, enrol_credential

NEW = "Another#Strong7passphrase"


def start(client, user_id):
    assert client.post("/reset/", {"user_id": user_id})["Location"] == "/reset/otp/"
    return client.post("/reset/passkey/begin/").json()


def answer(client, response):
    return client.post("/reset/passkey/complete/", json.dumps(response), content_type="application/json")


@pytest.fixture
def holder(email_user):
    """An e-mail OTP user (not eligible by the seeds' rule) who holds a passkey."""
    authenticator, _ = enrol_credential(email_user)
    return email_user, authenticator


def test_a_passkey_holder_may_reset_with_the_passkey(client, holder):
    user, authenticator = holder
    assert reset.provable_factor(user).key == "passkey"
    options = start(client, user.user_id)
    page = client.get("/reset/otp/").content.decode()
    assert 'id="passkey-verification-button"' in page and "Or use your passkey" in page
    response = answer(client, authenticator.assert_(options))
    assert response.status_code == 200 and response.json()["redirect_url"] == "/reset/password/"
    response = client.post("/reset/password/", {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert AuditEvent.objects.filter(subject=user, kind=Event.PASSWORD_RESET).count() == 1


def test_the_options_and_answers_are_the_same_whoever_the_id_names(holder, app_user):
    """A stranger types IDs: a passkey holder, an app user, and one that names nobody. The options
    name no credential, and an answer from the stranger's own passkey gets the same reply."""
    user, _ = holder
    stranger_key = SoftAuthenticator()
    seen = []
    for user_id in (user.user_id, app_user[0].user_id, "B0123499"):
        client = Client()
        options = start(client, user_id)
        assert options.get("allowCredentials", []) == []
        shape = sorted(options)
        response = answer(client, stranger_key.assert_(options))
        seen.append((shape, response.status_code, response.json()))
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][1] == 400


def test_anothers_passkey_counts_as_a_wrong_code_against_the_named_person(holder, app_user):
    user, _ = holder
    other, _ = app_user
    attacker_key, _ = enrol_credential(other)
    client = Client()
    options = start(client, user.user_id)
    assert answer(client, attacker_key.assert_(options)).status_code == 400
    user.refresh_from_db()
    assert user.otp_failures == 1
    assert client.get("/reset/password/").status_code == 302  # not past the code page


def test_a_cancelled_ceremony_counts_like_a_wrong_code(client, holder):
    user, _ = holder
    start(client, user.user_id)
    assert client.post("/reset/passkey/cancel/").status_code == 400
    assert client.post("/reset/passkey/cancel/").status_code == 400  # no ceremony open: nothing more
    user.refresh_from_db()
    assert user.otp_failures == 1


def test_a_locked_holder_cannot_reset(client, holder):
    user, authenticator = holder
    user.locked_at = clock.now()
    user.save(update_fields=["locked_at"])
    options = start(client, user.user_id)
    assert answer(client, authenticator.assert_(options)).status_code == 400
    assert client.get("/reset/password/").status_code == 302


def test_switched_off_the_code_page_is_the_seeds(client, holder, settings):
    settings.PORTAL_PASSKEYS = False
    user, _ = holder
    assert reset.provable_factor(user) is None  # an e-mail OTP user, as the seeds say
    client.post("/reset/", {"user_id": user.user_id})
    assert "passkey" not in client.get("/reset/otp/").content.decode().lower()
    for path in ("begin", "complete", "cancel"):
        assert client.post(f"/reset/passkey/{path}/").status_code == 404
