"""People in every role, for the access sweep and the fuzzing: who they are (the `cast` fixture in
tests/security/conftest.py makes them)."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from accounts.models import Participant
from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import strong_login


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
