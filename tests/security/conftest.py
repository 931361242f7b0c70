"""People in every role, for the access sweep and the fuzzing."""

from __future__ import annotations

import pytest

from accounts.models import Participant, Role
from tests.factories import enrolled
from tests.security.cast import Cast


@pytest.fixture
def cast(db) -> Cast:
    firm_a = Participant.objects.create(
        participant_id="B01234", name="ABC SECURITIES", clearing_house="HKSCC", max_users=30
    )
    firm_b = Participant.objects.create(
        participant_id="B05678", name="XYZ BROKERS", clearing_house="HKSCC", max_users=30
    )
    people = {
        "business user": enrolled(firm_a, "B0123401"),
        "DA maker": enrolled(firm_a, "B01234X1", role=Role.DA_MAKER),
        "DA checker": enrolled(firm_a, "B01234Y1", role=Role.DA_CHECKER),
        "second checker": enrolled(firm_a, "B01234Z1", role=Role.DA_CHECKER),
        "DA of another firm": enrolled(firm_b, "B05678X1", role=Role.DA_MAKER),
        "other checker": enrolled(firm_b, "B05678Y1", role=Role.DA_CHECKER),
        "other checker 2": enrolled(firm_b, "B05678Z1", role=Role.DA_CHECKER),
        "other user": enrolled(firm_b, "B0567801"),
        "HKEX operator": enrolled(None, "HKEXOPS9", is_staff=True, is_superuser=True),
    }
    return Cast(firm_a, firm_b, people)
