"""DMS fixtures: another firm's roster, an HKEX operator, and real logons (the firm's own `roster`
is in tests/conftest.py: pages outside tests/dms walk it too)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.dms.factories import Roster, log_in, make_roster
from tests.factories import AuthenticatorApp, make_person


@pytest.fixture
def other_roster(other_participant) -> Roster:
    return make_roster(other_participant)


@pytest.fixture
def logged_in_client(db):
    """logged_in_client(user, app) -> a Client with a full 2FA DMS session of that DA."""

    def login(user: User, app: AuthenticatorApp, *, portal: str = "dms") -> Client:
        return log_in(Client(), user, app, portal=portal)

    return login


@pytest.fixture
def operator(db) -> tuple[User, AuthenticatorApp]:
    return make_person(None, "HKEXOP01", is_staff=True)
