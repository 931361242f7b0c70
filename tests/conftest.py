"""Fixtures shared by the whole suite: people, an authenticator app, services."""

from __future__ import annotations

import pyotp
import pytest
from django.db import connection
from django.utils import translation

from accounts.models import OtpChannel, Participant, Role, User
from ccass_portal import clock

GOOD_PASSWORD = "Correct(Horse)9battery"  # meets the HKEX rule
NEW_PASSWORD = "Another#Strong7passphrase"


def need(condition: bool, why: str) -> None:
    """A missing service fails the test, in CI and everywhere else: a test that did not
    run proves nothing. `python -m tests.run` (make test) starts every service needed."""
    if not condition:
        pytest.fail(f"required service missing: {why}")


@pytest.fixture(autouse=True)
def _default_language_between_tests():
    """A request in 繁體中文 leaves its language active in the thread (LocaleMiddleware never
    resets it); without this, services called directly by the next test would answer in it."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def postgres(db):
    need(connection.vendor == "postgresql", "PostgreSQL is required (run `make test`)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def participant(db):
    return Participant.objects.create(
        participant_id="B01234", name="ABC SECURITIES", clearing_house="HKSCC", max_users=20
    )


@pytest.fixture
def other_participant(db):
    return Participant.objects.create(participant_id="B05678", name="XYZ BROKERS", clearing_house="HKSCC", max_users=20)


_HASHES: dict[str, str] = {}


def hashed(password: str) -> str:
    """The password hashed once per test run with the real hasher (argon2id, production
    parameters), then reused: fixtures need the hash, not 40 ms of argon2 per person."""
    from django.contrib.auth.hashers import make_password

    if password not in _HASHES:
        _HASHES[password] = make_password(password)
    return _HASHES[password]


@pytest.fixture
def no_demo_clock(settings):
    """As in production: no demo clock. Query-count guards need it, because in demo mode the clock
    reads its offset from the database (once per request; at every call outside one)."""
    settings.PORTAL_DEMO = False


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


@pytest.fixture
def new_user(participant):
    """A migrated user: e-mail registered, 2FA not yet set up, no password."""
    return make_user(participant, "B0123401")


@pytest.fixture
def email_user(participant):
    """2FA set up with e-mail OTP."""
    return make_user(participant, "B0123402", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL)


class AuthenticatorApp:
    """An independent authenticator (pyotp), as on the person's phone."""

    def __init__(self, base32_key: str):
        self.totp = pyotp.TOTP(base32_key, digits=6, interval=30)

    def code(self, offset_steps: int = 0) -> str:
        import time

        return self.totp.at(time.time() + offset_steps * 30)


@pytest.fixture
def app_user(participant):
    """2FA set up with the authenticator app; returns (user, app)."""
    from otp.models import AuthenticatorDevice

    user = make_user(participant, "B0123403", password=GOOD_PASSWORD, channel=OtpChannel.APP)
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return user, AuthenticatorApp(device.base32_key)


def pytest_terminal_summary(terminalreporter):
    """Print how many fuzzing cases ran (issue 6: the count of cases tried is printed)."""
    import sys

    module = sys.modules.get("tests.security.test_fuzz")
    if module is not None and module.FUZZ_STATS["cases"]:
        terminalreporter.write_line(f"fuzzing: {module.FUZZ_STATS['cases']} requests tried")
