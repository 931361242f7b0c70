"""People in every role, for the access sweep and the fuzzing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import OtpChannel, Participant, Role
from otp.models import AuthenticatorDevice
from tests.conftest import GOOD_PASSWORD, make_user
from tests.logon_helpers import strong_login


def _enrolled(participant, user_id, **extra):
    user = make_user(participant, user_id, password=GOOD_PASSWORD, channel=OtpChannel.APP, **extra)
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return user, device


@dataclass
class Cast:
    firm_a: Participant
    firm_b: Participant
    people: dict

    def client(self, role: str, *, enforce_csrf_checks: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        if role == "anonymous":
            return client
        if role == "half-logged-in":
            user, _ = self.people["business user"]
            client.post("/login/", {"user_id": user.user_id, "password": GOOD_PASSWORD})
            return client
        user, device = self.people[role]
        return strong_login(client, user, device)


ROLES = [
    "anonymous",
    "half-logged-in",
    "business user",
    "DA of another firm",
    "DA maker",
    "DA checker",
    "HKEX operator",
]


@pytest.fixture
def cast(db) -> Cast:
    firm_a = Participant.objects.create(
        participant_id="B01234", name="ABC SECURITIES", clearing_house="HKSCC", max_users=30
    )
    firm_b = Participant.objects.create(
        participant_id="B05678", name="XYZ BROKERS", clearing_house="HKSCC", max_users=30
    )
    people = {
        "business user": _enrolled(firm_a, "B0123401"),
        "DA maker": _enrolled(firm_a, "B01234X1", role=Role.DA_MAKER),
        "DA checker": _enrolled(firm_a, "B01234Y1", role=Role.DA_CHECKER),
        "second checker": _enrolled(firm_a, "B01234Z1", role=Role.DA_CHECKER),
        "DA of another firm": _enrolled(firm_b, "B05678X1", role=Role.DA_MAKER),
        "other checker": _enrolled(firm_b, "B05678Y1", role=Role.DA_CHECKER),
        "other checker 2": _enrolled(firm_b, "B05678Z1", role=Role.DA_CHECKER),
        "other user": _enrolled(firm_b, "B0567801"),
        "HKEX operator": _enrolled(None, "HKEXOPS9", is_staff=True, is_superuser=True),
    }
    return Cast(firm_a, firm_b, people)
