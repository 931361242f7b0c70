"""People and their second factors, made for tests. Plain functions, imported where needed;
the fixtures built on them live in the conftest files (tests/conftest.py and beside the tests)."""

from __future__ import annotations

import pyotp
import pytest

from accounts.models import OtpChannel, Role, User
from ccass_portal import clock
from otp.models import AuthenticatorDevice

GOOD_PASSWORD = "Correct(Horse)9battery"  # meets the HKEX rule
NEW_PASSWORD = "Another#Strong7passphrase"


def need(condition: bool, why: str) -> None:
    """A missing service fails the test, in CI and everywhere else: a test that did not
    run proves nothing. `python -m tests.run` (make test) starts every service needed."""
    if not condition:
        pytest.fail(f"required service missing: {why}")


_HASHES: dict[str, str] = {}


def hashed(password: str) -> str:
    """The password hashed once per test run with the real hasher (argon2id, production
    parameters), then reused: fixtures need the hash, not 40 ms of argon2 per person."""
    from django.contrib.auth.hashers import make_password

    if password not in _HASHES:
        _HASHES[password] = make_password(password)
    return _HASHES[password]


def make_user(participant, user_id, *, role=Role.USER, password=None, channel=OtpChannel.NONE, **extra) -> User:
    extra.setdefault("email", f"{user_id.lower()}@abc-securities.example")
    extra.setdefault("surname", "CHAN")
    extra.setdefault("other_names", "TAI MAN")
    user = User(user_id=user_id, participant=participant, role=role, **extra)
    if password:
        user.password = hashed(password)
        user.password_changed_at = clock.now()
    else:
        user.set_unusable_password()
    if channel:
        user.otp_channel = channel
        user.twofa_set_up_at = clock.now()
    user.save()
    return user


class AuthenticatorApp:
    """An independent authenticator (pyotp), as on the person's phone."""

    def __init__(self, base32_key: str):
        self.totp = pyotp.TOTP(base32_key, digits=6, interval=30)

    def code(self, offset_steps: int = 0) -> str:
        import time

        return self.totp.at(time.time() + offset_steps * 30)


def confirmed_device(user: User) -> AuthenticatorDevice:
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return device


def with_app(user: User) -> AuthenticatorApp:
    return AuthenticatorApp(confirmed_device(user).base32_key)


def make_person(participant, user_id: str, *, role=Role.USER, **extra) -> tuple[User, AuthenticatorApp]:
    """A person who has set up 2FA with the authenticator app."""
    user = make_user(participant, user_id, role=role, password=GOOD_PASSWORD, channel=OtpChannel.APP, **extra)
    return user, with_app(user)


def enrolled(participant, user_id, **extra):
    """An app-enrolled person, with the device itself (for tests/logon_helpers.strong_login)."""
    user = make_user(participant, user_id, password=GOOD_PASSWORD, channel=OtpChannel.APP, **extra)
    return user, confirmed_device(user)
