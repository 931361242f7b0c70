"""otp/passkeys.py: both WebAuthn ceremonies for a given user, with real answers from a
software authenticator (tests/passkey_authenticator.py), and the person's own list
(docs/security.md, "Passkeys")."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django_otp_webauthn.models import WebAuthnCredential

from ccass_portal import clock
from otp import passkeys
from otp.passkeys import PasskeyError, PasskeyFailure
from tests.passkey_authenticator import SoftAuthenticator, b64url

ORIGIN = "http://localhost:8000"
RELAY = "http://hkex-ccass.example"  # a phishing page relaying the ceremony


@pytest.fixture
def request_():
    return RequestFactory().post("/")


@pytest.fixture
def person(app_user):
    return app_user[0]


def enrol(user, request, authenticator=None, name="My laptop"):
    authenticator = authenticator or SoftAuthenticator(origin=ORIGIN)
    ceremony = passkeys.registration_options(user, request=request)
    answer = authenticator.register(ceremony.options)
    device = passkeys.verify_registration(
        user, answer, request=request, expected_challenge=ceremony.challenge, name=name
    )
    return device, authenticator


def assertion(user, request, authenticator, **kwargs):
    ceremony = passkeys.authentication_options(user, request=request)
    return ceremony, authenticator.assert_(ceremony.options, **kwargs)


def refused(failure, call, *args, **kwargs):
    with pytest.raises(PasskeyError) as caught:
        call(*args, **kwargs)
    assert caught.value.failure is failure
    assert caught.value.reason  # a message to show, never empty
    return caught.value


def refused_registration(failure, user, request, answer, challenge, name="x"):
    return refused(
        failure, passkeys.verify_registration, user, answer, request=request, expected_challenge=challenge, name=name
    )


def refused_authentication(failure, user, request, answer, challenge):
    return refused(failure, passkeys.verify_authentication, user, answer, request=request, expected_challenge=challenge)


# -- registration ---------------------------------------------------------------------


def test_registration_stores_a_named_passkey_of_the_person(person, request_):
    device, _ = enrol(person, request_, name="Office key")
    assert device.user == person and device.name == "Office key" and device.confirmed
    assert device.created_at is not None and device.last_used_at is None
    assert passkeys.has_passkey(person)


def test_registration_options_require_user_verification_and_exclude_existing_passkeys(person, request_):
    enrol(person, request_)
    options = passkeys.registration_options(person, request=request_).options
    assert options["rp"]["id"] == "localhost"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert len(options["excludeCredentials"]) == 1


def test_created_at_comes_from_the_portal_clock(person, request_, settings):
    moved = clock.now() + timedelta(days=3)
    with time_machine.travel(moved, tick=False):
        device, _ = enrol(person, request_)
    assert abs(device.created_at - moved) < timedelta(seconds=1)


def test_a_person_may_hold_several_passkeys(person, request_):
    enrol(person, request_, name="Laptop")
    enrol(person, request_, name="Phone")
    assert [p.name for p in passkeys.passkeys_of(person)] == ["Phone", "Laptop"]


def test_registration_from_another_origin_is_refused(person, request_):
    ceremony = passkeys.registration_options(person, request=request_)
    answer = SoftAuthenticator(origin=RELAY).register(ceremony.options)
    refused_registration(PasskeyFailure.WRONG_ORIGIN, person, request_, answer, ceremony.challenge, name="x")
    assert not passkeys.has_passkey(person)


def test_registration_answer_to_another_challenge_is_refused(person, request_):
    first = passkeys.registration_options(person, request=request_)
    second = passkeys.registration_options(person, request=request_)
    answer = SoftAuthenticator(origin=ORIGIN).register(first.options)
    refused_registration(PasskeyFailure.INVALID, person, request_, answer, second.challenge, name="x")
    assert not passkeys.has_passkey(person)


def test_the_same_passkey_cannot_be_registered_twice(person, request_):
    ceremony = passkeys.registration_options(person, request=request_)
    answer = SoftAuthenticator(origin=ORIGIN).register(ceremony.options)
    passkeys.verify_registration(person, answer, request=request_, expected_challenge=ceremony.challenge, name="a")
    refused_registration(PasskeyFailure.ALREADY_REGISTERED, person, request_, answer, ceremony.challenge, name="b")
    assert passkeys.passkeys_of(person).count() == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
def test_a_passkey_needs_a_sensible_name(person, request_, name):
    ceremony = passkeys.registration_options(person, request=request_)
    answer = SoftAuthenticator(origin=ORIGIN).register(ceremony.options)
    refused_registration(PasskeyFailure.BAD_NAME, person, request_, answer, ceremony.challenge, name=name)


# -- authentication --------------------------------------------------------------------


def test_authentication_verifies_and_records_last_use(person, request_):
    device, authenticator = enrol(person, request_)
    ceremony, answer = assertion(person, request_, authenticator)
    assert ceremony.options["userVerification"] == "required"
    assert [c["id"] for c in ceremony.options["allowCredentials"]] == [b64url(bytes(device.credential_id))]
    used = passkeys.verify_authentication(person, answer, request=request_, expected_challenge=ceremony.challenge)
    assert used.pk == device.pk
    used.refresh_from_db()
    assert used.last_used_at is not None and used.sign_count == 1


def test_the_answer_may_come_as_json_text(person, request_):
    device, authenticator = enrol(person, request_)
    ceremony, answer = assertion(person, request_, authenticator)
    used = passkeys.verify_authentication(
        person, json.dumps(answer), request=request_, expected_challenge=ceremony.challenge
    )
    assert used.pk == device.pk


def test_a_caller_supplied_challenge_is_the_one_signed(person, request_):
    _, authenticator = enrol(person, request_)
    bound = b"request 42 digest " + bytes(16)
    ceremony = passkeys.authentication_options(person, request=request_, challenge=bound)
    assert ceremony.challenge == bound
    answer = authenticator.assert_(ceremony.options)
    passkeys.verify_authentication(person, answer, request=request_, expected_challenge=bound)
    # The same signature cannot approve something else.
    refused_authentication(
        PasskeyFailure.INVALID,
        person,
        request_,
        authenticator.assert_(ceremony.options),
        b"request 43 digest " + bytes(16),
    )


def test_an_answer_made_on_a_relay_page_is_refused_and_says_why(person, request_):
    """Relay phishing: the victim signs on the attacker's page, which forwards the answer."""
    _, authenticator = enrol(person, request_)
    ceremony, answer = assertion(person, request_, authenticator, origin=RELAY)
    error = refused_authentication(PasskeyFailure.WRONG_ORIGIN, person, request_, answer, ceremony.challenge)
    assert "another web site" in error.reason


def test_an_answer_to_another_challenge_is_refused(person, request_):
    _, authenticator = enrol(person, request_)
    _, answer = assertion(person, request_, authenticator)
    other = passkeys.authentication_options(person, request=request_)
    refused_authentication(PasskeyFailure.INVALID, person, request_, answer, other.challenge)


def test_without_a_challenge_there_is_no_ceremony(person, request_):
    _, authenticator = enrol(person, request_)
    _, answer = assertion(person, request_, authenticator)
    refused_authentication(PasskeyFailure.NO_CEREMONY, person, request_, answer, None)


def test_another_persons_passkey_does_not_prove_this_person(person, email_user, request_):
    """The attacker holds their own passkey and answers a ceremony for the victim."""
    _, victim_authenticator = enrol(person, request_)
    _, attacker_authenticator = enrol(email_user, request_)
    ceremony = passkeys.authentication_options(person, request=request_)
    answer = attacker_authenticator.assert_(ceremony.options)
    refused_authentication(PasskeyFailure.UNKNOWN_CREDENTIAL, person, request_, answer, ceremony.challenge)


def test_an_answer_without_user_verification_is_refused(person, request_):
    _, authenticator = enrol(person, request_)
    ceremony, answer = assertion(person, request_, authenticator, user_verified=False)
    refused_authentication(PasskeyFailure.INVALID, person, request_, answer, ceremony.challenge)


def test_a_forged_signature_is_refused(person, request_):
    _, authenticator = enrol(person, request_)
    ceremony, answer = assertion(person, request_, authenticator)
    answer["response"]["signature"] = b64url(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    refused_authentication(PasskeyFailure.INVALID, person, request_, answer, ceremony.challenge)


@pytest.mark.parametrize("garbage", ["", "not json", "[]", {"id": "x"}, {"response": {"clientDataJSON": "!!"}}])
def test_malformed_answers_are_refused_not_crashed(person, request_, garbage):
    enrol(person, request_)
    ceremony = passkeys.authentication_options(person, request=request_)
    refused_authentication(PasskeyFailure.INVALID, person, request_, garbage, ceremony.challenge)


def test_a_cloned_authenticator_replaying_an_old_counter_is_refused(person, request_):
    _, authenticator = enrol(person, request_)
    ceremony, answer = assertion(person, request_, authenticator)
    passkeys.verify_authentication(person, answer, request=request_, expected_challenge=ceremony.challenge)
    authenticator.sign_count = 0  # the clone's counter lags behind
    ceremony, answer = assertion(person, request_, authenticator)
    refused_authentication(PasskeyFailure.INVALID, person, request_, answer, ceremony.challenge)


# -- list, rename, remove --------------------------------------------------------------


def test_rename_and_remove_touch_only_the_persons_own_passkeys(person, email_user, request_):
    mine, _ = enrol(person, request_, name="Mine")
    theirs, _ = enrol(email_user, request_, name="Theirs")
    refused(PasskeyFailure.UNKNOWN_CREDENTIAL, passkeys.rename_passkey, person, passkey_id=theirs.pk, name="Stolen")
    refused(PasskeyFailure.UNKNOWN_CREDENTIAL, passkeys.remove_passkey, person, passkey_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"

    assert passkeys.rename_passkey(person, passkey_id=mine.pk, name="  Desk key ").name == "Desk key"
    refused(PasskeyFailure.BAD_NAME, passkeys.rename_passkey, person, passkey_id=mine.pk, name=" ")
    passkeys.remove_passkey(person, passkey_id=mine.pk)
    assert not passkeys.has_passkey(person)
    assert passkeys.has_passkey(email_user)


def test_a_removed_passkey_no_longer_proves_the_person(person, request_):
    device, authenticator = enrol(person, request_)
    passkeys.remove_passkeys(person)
    ceremony = passkeys.authentication_options(person, request=request_)
    assert ceremony.options.get("allowCredentials", []) == []
    answer = authenticator.assert_(ceremony.options)
    refused_authentication(PasskeyFailure.UNKNOWN_CREDENTIAL, person, request_, answer, ceremony.challenge)
    assert not WebAuthnCredential.objects.filter(pk=device.pk).exists()
