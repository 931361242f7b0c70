"""DMS people for tests: a compliant roster of DAs per firm, and the real DMS logon."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from accounts.models import OtpChannel, Role, User
from tests.factories import GOOD_PASSWORD, AuthenticatorApp, make_person, make_user


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


def log_in(client: Client, user: User, app: AuthenticatorApp, *, portal: str = "dms") -> Client:
    """The real logon: User ID and password, then the app's code."""
    prefix = "" if portal == "terminal" else f"/{portal}"
    response = client.post(f"{prefix}/login/", {"user_id": user.user_id, "password": GOOD_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(f"{prefix}/login/otp/", {"otp": app.code()})
    assert response.status_code == 302 and response["Location"].endswith("/login/success/"), response
    return client
