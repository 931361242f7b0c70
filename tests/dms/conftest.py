"""DMS fixtures: a compliant roster of DAs per firm, an HKEX operator, and real logons."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import OtpChannel, Role, User
from otp.models import AuthenticatorDevice
from tests.conftest import GOOD_PASSWORD, AuthenticatorApp, make_user


def with_app(user: User) -> AuthenticatorApp:
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return AuthenticatorApp(device.base32_key)


def make_person(participant, user_id: str, *, role=Role.USER, **extra) -> tuple[User, AuthenticatorApp]:
    """A person who has set up 2FA with the authenticator app."""
    user = make_user(participant, user_id, role=role, password=GOOD_PASSWORD, channel=OtpChannel.APP, **extra)
    return user, with_app(user)


@dataclass
class Roster:
    maker: User
    maker_app: AuthenticatorApp
    checker: User
    checker_app: AuthenticatorApp
    checker2: User
    checker2_app: AuthenticatorApp
    user: User  # a business user of the firm


def make_roster(participant) -> Roster:
    prefix = participant.participant_id
    maker, maker_app = make_person(participant, prefix + "X1", role=Role.DA_MAKER)
    checker, checker_app = make_person(participant, prefix + "X2", role=Role.DA_CHECKER)
    checker2, checker2_app = make_person(participant, prefix + "X3", role=Role.DA_CHECKER)
    user = make_user(participant, prefix + "01", password=GOOD_PASSWORD, channel=OtpChannel.APP)
    return Roster(maker, maker_app, checker, checker_app, checker2, checker2_app, user)


@pytest.fixture
def roster(participant) -> Roster:
    return make_roster(participant)


@pytest.fixture
def other_roster(other_participant) -> Roster:
    return make_roster(other_participant)


def log_in(client: Client, user: User, app: AuthenticatorApp, *, portal: str = "dms") -> Client:
    """The real logon: User ID and password, then the app's code."""
    prefix = "" if portal == "terminal" else f"/{portal}"
    response = client.post(f"{prefix}/login/", {"user_id": user.user_id, "password": GOOD_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(f"{prefix}/login/otp/", {"otp": app.code()})
    assert response.status_code == 302 and response["Location"].endswith("/login/success/"), response
    return client


@pytest.fixture
def logged_in_client(db):
    """logged_in_client(user, app) -> a Client with a full 2FA DMS session of that DA."""

    def login(user: User, app: AuthenticatorApp, *, portal: str = "dms") -> Client:
        return log_in(Client(), user, app, portal=portal)

    return login


@pytest.fixture
def operator(db) -> tuple[User, AuthenticatorApp]:
    return make_person(None, "HKEXOP01", is_staff=True)
