"""Logon with a passkey (issue 18; docs/security.md, "Passkeys"): offered first after the
password, fallback to the other factor, a failed or cancelled ceremony counts like a wrong
OTP, another origin is refused, and with PORTAL_PASSKEYS off the portal is the seeds'."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.audit import Event
from accounts.models import AuditEvent, OtpChannel
from tests.logon_helpers import comparable_page, password_step
from tests.passkey_authenticator import SoftAuthenticator, enrol_credential

PASSWORD = "Correct(Horse)9battery"  # the fixtures' GOOD_PASSWORD
RELAY = "http://hkex-ccass.example"


@pytest.fixture
def holder(app_user):
    """An app user who also holds a passkey; returns (user, app, authenticator)."""
    user, app = app_user
    authenticator, _ = enrol_credential(user)
    return user, app, authenticator


def begin(client, prefix=""):
    response = client.post(f"{prefix}/login/passkey/begin/")
    assert response.status_code == 200, response.content
    return response.json()


def complete(client, answer, prefix=""):
    return client.post(f"{prefix}/login/passkey/complete/", json.dumps(answer), content_type="application/json")


def passkey_logon(client, user, authenticator, **kwargs):
    response = password_step(client, user.user_id, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/login/passkey/", response
    return complete(client, authenticator.assert_(begin(client), **kwargs))


def failures(user):
    user.refresh_from_db()
    return len(user.logon_failures), user.otp_failures


def kinds(user):
    return list(AuditEvent.objects.filter(subject=user).order_by("id").values_list("kind", flat=True))


# -- offered first, and the logon completes as the OTP step does -------------------------------


def test_a_passkey_holder_is_offered_the_passkey_after_the_password(client, holder):
    user, _, _ = holder
    response = password_step(client, user.user_id, PASSWORD)
    assert response["Location"] == "/login/passkey/"
    page = client.get("/login/passkey/").content.decode()
    assert 'id="passkey-verification-button"' in page and "USE ANOTHER METHOD" in page
    assert "django_otp_webauthn/otp_webauthn_auth.js" in page and "js/passkeys.js" in page
    assert "This browser cannot use passkeys" in page  # shown when the browser has no WebAuthn


def test_passkey_logon_completes_like_the_otp_step(client, holder):
    user, _, authenticator = holder
    password_step(client, user.user_id, PASSWORD)
    key_before = client.session.session_key
    options = begin(client)
    assert options["userVerification"] == "required" and len(options["allowCredentials"]) == 1
    response = complete(client, authenticator.assert_(options))
    assert response.status_code == 200 and response.json()["redirect_url"] == "/login/success/"
    assert client.session.session_key != key_before  # rotated at completion (SECURITY.md 16)
    assert client.get("/login/success/").status_code == 200
    assert client.session["auth_method"] == "2fa"
    assert kinds(user)[-2:] == [Event.PASSKEY_USED, Event.LOGON_SUCCESS]
    assert failures(user) == (0, 0)


def test_an_expired_password_is_changed_after_the_passkey(client, holder, settings):
    from datetime import timedelta

    from ccass_portal import clock

    user, _, authenticator = holder
    user.password_changed_at = clock.now() - timedelta(days=settings.PORTAL_PASSWORD_MAX_AGE_DAYS + 1)
    user.save(update_fields=["password_changed_at"])
    response = passkey_logon(client, user, authenticator)
    assert response.json()["redirect_url"] == "/login/expired/"
    assert client.get("/login/success/").status_code == 302  # not logged in before the change


def test_the_holder_may_fall_back_to_the_app(client, holder):
    user, app, _ = holder
    password_step(client, user.user_id, PASSWORD)
    begin(client)
    response = client.post("/login/passkey/", {"action": "fallback"})
    assert response["Location"] == "/login/otp/"
    assert client.post("/login/otp/", {"otp": app.code()})["Location"] == "/login/success/"
    # The passkey ceremony opened before the fallback is gone.
    assert client.post("/login/passkey/begin/").status_code == 403


def test_a_passkey_only_holder_falls_back_to_the_email_otp(client, email_user, django_capture_on_commit_callbacks):
    from tests.logon_helpers import last_email_otp

    enrol_credential(email_user)
    password_step(client, email_user.user_id, PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/login/passkey/", {"action": "fallback"})
    assert response["Location"] == "/login/otp/"
    assert client.post("/login/otp/", {"otp": last_email_otp(email_user.email)})["Location"] == "/login/success/"


# -- failures count like wrong OTPs ---------------------------------------------------------


def test_three_cancelled_ceremonies_are_one_failed_logon(client, holder):
    user, _, _ = holder
    password_step(client, user.user_id, PASSWORD)
    for expected in [(0, 1), (0, 2), (1, 0)]:
        begin(client)
        response = client.post("/login/passkey/cancel/")
        assert response.status_code == 400 and "cancelled" in response.json()["detail"]
        assert failures(user) == expected
    rows = AuditEvent.objects.filter(subject=user, kind=Event.OTP_FAILURE)
    assert [row.data.get("factor") for row in rows] == ["passkey"] * 3


def test_a_cancel_without_an_open_ceremony_counts_nothing(client, holder):
    user, _, authenticator = holder
    password_step(client, user.user_id, PASSWORD)
    client.post("/login/passkey/cancel/")
    client.post("/login/passkey/cancel/")
    assert failures(user) == (0, 0)


def test_a_relay_pages_answer_is_refused_says_why_and_counts(client, holder):
    user, _, authenticator = holder
    response = passkey_logon(client, user, authenticator, origin=RELAY)
    assert response.status_code == 400
    assert "made for another web site" in response.json()["detail"]
    assert failures(user) == (0, 1)
    assert AuditEvent.objects.filter(subject=user, kind=Event.OTP_FAILURE).last().data["reason"] == "wrong_origin"
    assert client.get("/login/success/").status_code == 302


def test_the_reason_is_translated(client, holder):
    user, _, authenticator = holder
    client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/"})
    response = passkey_logon(client, user, authenticator, origin=RELAY)
    assert "另一網站" in response.json()["detail"]


def test_failures_lock_the_account_and_end_the_attempt(client, holder, settings):
    user, _, authenticator = holder
    policy_failures = settings.PORTAL_LOCKOUT_FAILURES
    per_logon = settings.PORTAL_OTP_FAILURES_PER_LOGON_FAILURE
    response = None
    for _ in range(policy_failures):
        assert password_step(client, user.user_id, PASSWORD)["Location"] == "/login/passkey/"
        for _ in range(per_logon):
            begin(client)
            response = client.post("/login/passkey/cancel/")
    assert response.status_code == 403 and response.json()["redirect_url"] == "/login/"
    user.refresh_from_db()
    assert user.is_locked


@pytest.mark.parametrize("body", ["", "not json", "[]", '{"id": 1}'])
def test_bad_answers_are_refused_with_a_message_not_a_500(client, holder, body):
    user, _, _ = holder
    password_step(client, user.user_id, PASSWORD)
    begin(client)
    response = client.post("/login/passkey/complete/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]
    assert failures(user) == (0, 1)


def test_an_answer_is_spent_once(client, holder):
    user, _, authenticator = holder
    password_step(client, user.user_id, PASSWORD)
    answer = authenticator.assert_(begin(client))
    assert complete(client, answer).status_code == 200
    # Replayed in a new attempt: its challenge is not this attempt's.
    password_step(client, user.user_id, PASSWORD)
    begin(client)
    assert complete(client, answer).status_code == 400


# -- the attacker beside the victim ----------------------------------------------------------


def test_before_the_password_nobody_learns_who_holds_a_passkey(holder, email_user):
    """A stranger who knows only User IDs: the wrong-password answers are the same."""
    user, _, _ = holder
    pages = []
    for user_id in (user.user_id, email_user.user_id):
        response = password_step(Client(), user_id, "Wrong(Horse)9battery")
        pages.append((response.status_code, comparable_page(response.content.decode(), user_id)))
    assert pages[0] == pages[1]
    stranger = Client()
    for path in ("/login/passkey/", "/login/passkey/begin/", "/login/passkey/complete/", "/login/passkey/cancel/"):
        response = stranger.post(path)
        assert response.status_code in (302, 403)
        assert "allowCredentials" not in response.content.decode()


def test_another_session_cannot_use_the_victims_ceremony(holder, email_user):
    """The attacker has their own logon attempt (their own password) and the victim's signed
    answer: it proves nothing in the attacker's session, and nothing is counted against the victim."""
    user, _, authenticator = holder
    victim, attacker = Client(), Client()
    password_step(victim, user.user_id, PASSWORD)
    answer = authenticator.assert_(begin(victim))
    enrol_credential(email_user)
    password_step(attacker, email_user.user_id, PASSWORD)
    begin(attacker)
    response = complete(attacker, answer)
    assert response.status_code == 400
    assert attacker.get("/login/success/").status_code == 302
    assert failures(user) == (0, 0)
    # The victim still finishes with their own answer.
    assert complete(victim, answer).status_code == 200


def test_a_stolen_session_cookie_before_the_password_has_no_ceremony(holder):
    user, _, authenticator = holder
    thief = Client()
    answer = authenticator.assert_({"challenge": "AAAA", "allowCredentials": []})
    assert complete(thief, answer).status_code == 403
    assert failures(user) == (0, 0)


# -- first-time logon: a passkey beside REGISTER DEVICE and SKIP THIS STEP -------------------------


@pytest.fixture
def first_timer(email_user):
    email_user.otp_channel = OtpChannel.NONE
    email_user.twofa_set_up_at = None
    email_user.save(update_fields=["otp_channel", "twofa_set_up_at"])
    return email_user


def test_first_time_logon_can_register_a_passkey(client, first_timer):
    assert password_step(client, first_timer.user_id, PASSWORD)["Location"] == "/login/setup/"
    page = client.get("/login/setup/").content.decode()
    assert "REGISTER DEVICE" in page and "SKIP THIS STEP" in page and "USE A PASSKEY" in page
    assert client.post("/login/setup/", {"action": "passkey"})["Location"] == "/login/setup/passkey/"
    assert 'id="passkey-register-button"' in client.get("/login/setup/passkey/").content.decode()
    options = client.post("/login/setup/passkey/begin/").json()
    assert options["authenticatorSelection"]["userVerification"] == "required"
    authenticator = SoftAuthenticator()
    response = client.post(
        "/login/setup/passkey/complete/", json.dumps(authenticator.register(options)), content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["redirect_url"] == "/login/success/"
    first_timer.refresh_from_db()
    assert first_timer.otp_channel == OtpChannel.EMAIL and first_timer.twofa_set_up_at is not None
    assert Event.PASSKEY_REGISTERED in kinds(first_timer)
    # Next logon: the passkey is offered first.
    other = Client()
    assert password_step(other, first_timer.user_id, PASSWORD)["Location"] == "/login/passkey/"
    assert complete(other, authenticator.assert_(begin(other))).status_code == 200


def test_a_registration_from_another_origin_is_refused(client, first_timer):
    password_step(client, first_timer.user_id, PASSWORD)
    client.post("/login/setup/", {"action": "passkey"})
    options = client.post("/login/setup/passkey/begin/").json()
    answer = SoftAuthenticator(origin=RELAY).register(options)
    response = client.post("/login/setup/passkey/complete/", json.dumps(answer), content_type="application/json")
    assert response.status_code == 400 and "another web site" in response.json()["detail"]
    assert not first_timer.webauthncredential_set.exists()


# -- switched off: the seeds' portal ------------------------------------------------------------


def test_switched_off_a_holder_gets_the_seeds_otp_step_and_no_passkey_urls(client, holder, settings):
    settings.PORTAL_PASSKEYS = False
    user, app, _ = holder
    assert password_step(client, user.user_id, PASSWORD)["Location"] == "/login/otp/"
    assert "passkey" not in client.get("/login/otp/").content.decode().lower()
    for path in (
        "/login/passkey/",
        "/login/passkey/begin/",
        "/login/passkey/complete/",
        "/login/passkey/cancel/",
        "/login/setup/passkey/",
        "/login/setup/passkey/begin/",
        "/login/setup/passkey/complete/",
    ):
        assert client.post(path).status_code == 404, path
    assert client.post("/login/otp/", {"otp": app.code()})["Location"] == "/login/success/"


def test_switched_off_first_time_logon_offers_only_the_seeds_options(client, first_timer, settings):
    settings.PORTAL_PASSKEYS = False
    password_step(client, first_timer.user_id, PASSWORD)
    page = client.get("/login/setup/").content.decode()
    assert "REGISTER DEVICE" in page and "SKIP THIS STEP" in page
    assert "passkey" not in page.lower()
    assert client.post("/login/setup/", {"action": "passkey"}).status_code == 200  # nothing happens
    assert client.get("/login/setup/passkey/").status_code == 404
