"""Passkeys (WebAuthn): the server side of both ceremonies for a given user, and the
list, rename and remove of a user's passkeys (docs/security.md, "Passkeys").

Built on django-otp-webauthn's credential model (a django-otp `Device`) and
py_webauthn's verification. The library's own views log a person in by themselves;
the portal's steps (lockout, audit, session rules) live in `accounts`, so this module
only issues options and verifies answers. The caller keeps the challenge (in the
session, or bound to a DMS request) and passes it back to verify; a challenge is the
caller's to spend once.

A passkey is the second factor here, after the password, never a way round it:
options always name the person's own credentials, and user verification is required
(docs/decisions.md, "Passkeys").
"""

from __future__ import annotations

import enum
import json
from base64 import urlsafe_b64decode
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy as _

from ccass_portal import clock

if TYPE_CHECKING:
    from django_otp_webauthn.models import WebAuthnCredential

# django-otp-webauthn and py_webauthn (with pyOpenSSL, cbor2, pyasn1: ~7 MiB per process) are
# imported inside the functions that use them: with PORTAL_PASSKEYS off the app is not installed
# and nothing here runs but the error types and `remove_passkeys` (docs/decisions.md,
# "Passkeys off: django-otp-webauthn not loaded").
APP = "django_otp_webauthn"


def installed() -> bool:
    """The library's app is installed (the settings install it only with PORTAL_PASSKEYS on)."""
    return apps.is_installed(APP)


def _model():
    from django_otp_webauthn.models import WebAuthnCredential

    return WebAuthnCredential


def _app_settings():
    from django_otp_webauthn.settings import app_settings

    return app_settings


def name_max_length() -> int:
    return _model()._meta.get_field("name").max_length


class PasskeyFailure(enum.Enum):
    """Why a ceremony did not prove the person; each reason the page shows, translated."""

    CANCELLED = _("The passkey was not used: the request was cancelled or timed out. Please try again.")
    WRONG_ORIGIN = _(
        "Refused: this passkey answer was made for another web site, not this portal. "
        "Only open the portal from its own address."
    )
    UNKNOWN_CREDENTIAL = _("This passkey is not registered for you.")
    NO_CEREMONY = _("No passkey request is in progress. Please start again.")
    INVALID = _("The passkey answer could not be verified. Please try again.")
    ALREADY_REGISTERED = _("This passkey is already registered.")
    BAD_NAME = _("Enter a name of 1 to %(max)d characters for the passkey.")


class PasskeyError(Exception):
    """One error type for every refused ceremony; `reason` is the translated message."""

    def __init__(self, failure: PasskeyFailure):
        super().__init__(failure.name)
        self.failure = failure

    @property
    def reason(self) -> str:
        if self.failure is PasskeyFailure.BAD_NAME:
            return str(self.failure.value) % {"max": name_max_length()}
        return str(self.failure.value)


@dataclass(frozen=True)
class Ceremony:
    """Options for the browser (JSON-ready) and the challenge the caller keeps."""

    options: dict
    challenge: bytes


# -- settings ---------------------------------------------------------------------


def _rp_id() -> str:
    return _app_settings().OTP_WEBAUTHN_RP_ID


def _allowed_origins() -> list[str]:
    return list(_app_settings().OTP_WEBAUTHN_ALLOWED_ORIGINS)


def ceremony_timeout() -> timedelta:
    """How long the browser is told to wait for the person (OTP_WEBAUTHN_TIMEOUT_SECONDS)."""
    return timedelta(seconds=_app_settings().OTP_WEBAUTHN_TIMEOUT_SECONDS)


def _timeout_ms() -> int:
    return int(ceremony_timeout().total_seconds() * 1000)


def _helper(request):
    """The library's helper gives the user handle and display names (its own conventions)."""
    return _model().get_webauthn_helper(request)


# -- reads ---------------------------------------------------------------------------


def confirmed_passkeys():
    """Every registered passkey (passkeys on: the library's app is loaded)."""
    return _model().objects.filter(confirmed=True)


def passkeys_of(user):
    """The person's passkeys, newest first."""
    return confirmed_passkeys().filter(user=user).order_by("-created_at", "-pk")


def has_passkey(user) -> bool:
    return confirmed_passkeys().filter(user=user).exists()


def _descriptors(user):
    return _model().get_credential_descriptors_for_user(user)


# -- parsing the browser's answer -----------------------------------------------------


def _as_dict(response) -> dict:
    if isinstance(response, dict):
        return response
    try:
        parsed = json.loads(response)
    except (TypeError, ValueError):
        raise PasskeyError(PasskeyFailure.INVALID) from None
    if not isinstance(parsed, dict):
        raise PasskeyError(PasskeyFailure.INVALID)
    return parsed


def _client_data(response: dict) -> dict:
    """The clientDataJSON the browser signed over; read first so the refusal says why."""
    try:
        encoded = response["response"]["clientDataJSON"]
        data = json.loads(urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (KeyError, TypeError, ValueError):
        raise PasskeyError(PasskeyFailure.INVALID) from None
    if not isinstance(data, dict):
        raise PasskeyError(PasskeyFailure.INVALID)
    return data


def _check_origin(client_data: dict) -> None:
    # The browser writes the page's origin here and the authenticator signs over it,
    # so a relay page on another origin cannot produce an answer this portal accepts.
    if client_data.get("origin") not in _allowed_origins():
        raise PasskeyError(PasskeyFailure.WRONG_ORIGIN)


# -- registration ---------------------------------------------------------------------


def registration_options(user, *, request) -> Ceremony:
    """Options to create a passkey for `user`; their existing passkeys are excluded."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    helper = _helper(request)
    entity = helper.get_user_entity(user)
    options = generate_registration_options(
        rp_id=_rp_id(),
        rp_name=_app_settings().OTP_WEBAUTHN_RP_NAME,
        user_id=entity.id,
        user_name=entity.name,
        user_display_name=entity.display_name,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        timeout=_timeout_ms(),
    )
    return Ceremony(options=json.loads(options_to_json(options)), challenge=options.challenge)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > name_max_length():
        raise PasskeyError(PasskeyFailure.BAD_NAME)
    return name


def verify_registration(user, response, *, request, expected_challenge: bytes, name: str) -> WebAuthnCredential:
    """Verify the browser's answer to `registration_options` and store the passkey."""
    from webauthn import verify_registration_response
    from webauthn.helpers import parse_registration_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    name = _clean_name(name)
    data = _as_dict(response)
    _check_origin(_client_data(data))
    try:
        credential = parse_registration_credential_json(data)
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=expected_challenge,
            expected_rp_id=_rp_id(),
            expected_origin=_allowed_origins(),
            require_user_verification=True,
        )
    except WebAuthnException:
        raise PasskeyError(PasskeyFailure.INVALID) from None
    device = _helper(request).create_credential(user, verified, credential, data)
    device.name = name
    device.confirmed = True
    now = clock.now()
    device.created_at = now
    try:
        with transaction.atomic():
            device.save()
            # created_at is auto_now_add in the library; the portal's one clock decides.
            _model().objects.filter(pk=device.pk).update(created_at=now)
    except IntegrityError:
        raise PasskeyError(PasskeyFailure.ALREADY_REGISTERED) from None
    device.refresh_from_db()
    return device


# -- authentication --------------------------------------------------------------------


def authentication_options(user, *, request, challenge: bytes | None = None) -> Ceremony:
    """Options to prove `user` with one of their passkeys. `challenge` lets a caller bind
    the ceremony to something (a DMS request); otherwise a random one is made. With `user`
    None the options name no credential (the browser offers the passkeys it holds for this
    portal): the same options for everyone, so they tell nobody whose passkeys exist."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    kwargs = {"challenge": challenge} if challenge is not None else {}
    options = generate_authentication_options(
        rp_id=_rp_id(),
        allow_credentials=_descriptors(user) if user is not None else [],
        user_verification=UserVerificationRequirement.REQUIRED,
        timeout=_timeout_ms(),
        **kwargs,
    )
    return Ceremony(options=json.loads(options_to_json(options)), challenge=options.challenge)


def verify_authentication(user, response, *, request, expected_challenge: bytes | None) -> WebAuthnCredential:
    """The passkey of `user` that signed `expected_challenge` for this portal's origin, or
    PasskeyError. The credential row is locked, so one answer is counted once. `user` None
    (an ID that names nobody) goes the same way and finds no passkey."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import parse_authentication_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    if not expected_challenge:
        raise PasskeyError(PasskeyFailure.NO_CEREMONY)
    data = _as_dict(response)
    _check_origin(_client_data(data))
    try:
        credential = parse_authentication_credential_json(data)
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise PasskeyError(PasskeyFailure.INVALID) from None
    with transaction.atomic():
        device = (
            _model()
            .objects.select_for_update()
            .filter(
                credential_id_sha256=_model().get_credential_id_sha256(credential.raw_id),
                user=user,
                confirmed=True,
            )
            .first()
        )
        # Another person's passkey and no passkey at all read the same.
        if device is None:
            raise PasskeyError(PasskeyFailure.UNKNOWN_CREDENTIAL)
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=expected_challenge,
                expected_rp_id=_rp_id(),
                expected_origin=_allowed_origins(),
                credential_public_key=bytes(device.public_key),
                credential_current_sign_count=device.sign_count,
                require_user_verification=True,
            )
        except WebAuthnException:
            raise PasskeyError(PasskeyFailure.INVALID) from None
        device.sign_count = verified.new_sign_count
        device.backup_state = verified.credential_backed_up
        device.last_used_at = clock.now()
        device.save(update_fields=["sign_count", "backup_state", "last_used_at"])
    return device


# -- the person's own list ------------------------------------------------------------


def _own(user, passkey_id) -> WebAuthnCredential:
    device = _model().objects.filter(user=user, pk=passkey_id).first()
    if device is None:
        raise PasskeyError(PasskeyFailure.UNKNOWN_CREDENTIAL)
    return device


def rename_passkey(user, *, passkey_id: int, name: str) -> WebAuthnCredential:
    device = _own(user, passkey_id)
    device.name = _clean_name(name)
    device.save(update_fields=["name"])
    return device


def remove_passkey(user, *, passkey_id: int) -> WebAuthnCredential:
    """Remove one of the person's passkeys (the caller has proved them again)."""
    device = _own(user, passkey_id)
    device.delete()
    return device


def remove_passkeys(user) -> int:
    """Remove all of the person's passkeys (a DA's unlock/reset of the registration), also with
    passkeys switched off: a passkey kept through a reset would work again the day they are
    switched back on (accounts.factors.held_factors)."""
    if not installed():
        return _remove_unloaded(user)
    _total, per_model = _model().objects.filter(user=user).delete()  # their attestations go with them
    return per_model.get(_model()._meta.label, 0)


# The library's tables, as its migrations make them; they stay in the database while its app is
# not installed (passkeys switched off after people enrolled), and come back into use when it is.
CREDENTIALS = "django_otp_webauthn_webauthncredential"
ATTESTATIONS = "django_otp_webauthn_webauthnattestation"


def _remove_unloaded(user) -> int:
    """`remove_passkeys` without the library loaded: its rows deleted in SQL (the attestation
    first: its row points at the credential, as the model's CASCADE would delete it)."""
    tables = set(connection.introspection.table_names())
    if CREDENTIALS not in tables:
        return 0  # passkeys were never switched on here
    with connection.cursor() as cursor:
        if ATTESTATIONS in tables:
            cursor.execute(
                f"DELETE FROM {ATTESTATIONS} WHERE credential_id IN "  # nosec B608: constant table names
                f"(SELECT id FROM {CREDENTIALS} WHERE user_id = %s)",
                [user.pk],
            )
        cursor.execute(f"DELETE FROM {CREDENTIALS} WHERE user_id = %s", [user.pk])  # nosec B608
        return cursor.rowcount
