"""The software authenticator (tests/passkey_authenticator.py) makes what py_webauthn and
django-otp-webauthn accept, and only that: the rest of the passkey tests lean on it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from accounts.models import User
from tests.passkey_authenticator import SoftAuthenticator, enrol_credential

ORIGIN = "http://localhost:8000"


def _registered(authenticator: SoftAuthenticator):
    options = generate_registration_options(rp_id="localhost", rp_name="CCASS", user_name="B0123403")
    response = authenticator.register(options_to_json(options), origin=ORIGIN)
    return verify_registration_response(
        credential=parse_registration_credential_json(response),
        expected_challenge=options.challenge,
        expected_rp_id="localhost",
        expected_origin=ORIGIN,
        require_user_verification=True,
    )


def _authentication_options(credential_id: bytes):
    return generate_authentication_options(
        rp_id="localhost",
        allow_credentials=[PublicKeyCredentialDescriptor(id=credential_id)],
        user_verification=UserVerificationRequirement.REQUIRED,
    )


def test_registration_then_assertion_verify_with_py_webauthn():
    authenticator = SoftAuthenticator()
    registered = _registered(authenticator)
    assert registered.credential_id == authenticator.credential_id
    assert registered.credential_public_key == authenticator.cose_public_key
    assert registered.fmt == "none" and registered.user_verified

    options = _authentication_options(registered.credential_id)
    verified = verify_authentication_response(
        credential=parse_authentication_credential_json(authenticator.assert_(options_to_json(options), origin=ORIGIN)),
        expected_challenge=options.challenge,
        expected_rp_id="localhost",
        expected_origin=ORIGIN,
        credential_public_key=registered.credential_public_key,
        credential_current_sign_count=registered.sign_count,
        require_user_verification=True,
    )
    assert verified.new_sign_count == 1 and verified.user_verified


def test_assertion_is_refused_for_another_challenge_origin_or_key():
    """The authenticator signs honestly, so the verifier's refusals are real refusals."""
    authenticator = SoftAuthenticator()
    registered = _registered(authenticator)
    options = _authentication_options(registered.credential_id)
    other = _authentication_options(registered.credential_id)

    def verify(response, *, challenge=options.challenge, key=registered.credential_public_key):
        return verify_authentication_response(
            credential=parse_authentication_credential_json(response),
            expected_challenge=challenge,
            expected_rp_id="localhost",
            expected_origin=ORIGIN,
            credential_public_key=key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )

    with pytest.raises(InvalidAuthenticationResponse, match="challenge"):
        verify(authenticator.assert_(options_to_json(other), origin=ORIGIN))
    with pytest.raises(InvalidAuthenticationResponse, match="origin"):
        verify(authenticator.assert_(options_to_json(options), origin="https://relay.example"))
    with pytest.raises(InvalidAuthenticationResponse, match="signature"):
        verify(
            authenticator.assert_(options_to_json(options), origin=ORIGIN),
            key=SoftAuthenticator().cose_public_key,
        )


def test_library_helper_registers_and_authenticates(db, participant, settings):
    """Through django-otp-webauthn's own helper (the code the library's views run)."""
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [ORIGIN]
    user = User.objects.create(user_id="B0123403", participant=participant, email="b0123403@abc.example")
    helper = WebAuthnHelper(request=RequestFactory().get("/"))
    authenticator = SoftAuthenticator()

    options, state = helper.register_begin(user)
    device = helper.register_complete(user, state, authenticator.register(options, origin=ORIGIN))
    assert device.user == user and bytes(device.public_key) == authenticator.cose_public_key

    options, state = helper.authenticate_begin(user)
    assert helper.authenticate_complete(user, state, authenticator.assert_(options, origin=ORIGIN)) == device


def test_enrol_credential_writes_a_row_the_helper_accepts(db, participant, settings):
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [ORIGIN]
    user = User.objects.create(user_id="B0123404", participant=participant, email="b0123404@abc.example")
    authenticator, credential = enrol_credential(user, name="Desk key")
    assert WebAuthnCredential.objects.get(user=user) == credential

    helper = WebAuthnHelper(request=RequestFactory().get("/"))
    options, state = helper.authenticate_begin(user)
    assert helper.authenticate_complete(user, state, authenticator.assert_(options, origin=ORIGIN)) == credential
