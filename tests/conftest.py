"""Fixtures shared by the whole suite: people, an authenticator app, services. Fixtures only: the
helpers they are built on live in tests/factories.py, and no module imports from a conftest
(tests/test_test_layout.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import translation

from accounts.models import OtpChannel, Participant
from tests.dms.factories import Roster, make_roster
from tests.factories import GOOD_PASSWORD, make_person, make_user, need


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


@pytest.fixture
def no_demo_clock(settings):
    """As in production: no demo clock. Query-count guards need it, because in demo mode the clock
    reads its offset from the database (once per request; at every call outside one)."""
    settings.PORTAL_DEMO = False


@pytest.fixture
def new_user(participant):
    """A migrated user: e-mail registered, 2FA not yet set up, no password."""
    return make_user(participant, "B0123401")


@pytest.fixture
def email_user(participant):
    """2FA set up with e-mail OTP."""
    return make_user(participant, "B0123402", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL)


@pytest.fixture
def app_user(participant):
    """2FA set up with the authenticator app; returns (user, app)."""
    return make_person(participant, "B0123403")


@pytest.fixture
def roster(participant) -> Roster:
    """The firm's DAs (maker, two checkers) and a business user; used by the DMS tests and by the
    Traditional Chinese and error-report checks that walk the DMS pages."""
    return make_roster(participant)


def pytest_terminal_summary(terminalreporter):
    """Print how many fuzzing cases ran (issue 6: the count of cases tried is printed)."""
    import sys

    module = sys.modules.get("tests.security.test_fuzz")
    if module is not None and module.FUZZ_STATS["cases"]:
        terminalreporter.write_line(f"fuzzing: {module.FUZZ_STATS['cases']} requests tried")
