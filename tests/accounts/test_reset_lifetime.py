"""A reset in progress lasts as long as a logon attempt (issue 12, finding 7).

The lifetime is accounts.logon.ATTEMPT_LIFETIME, decided once for both."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from accounts.logon import ATTEMPT_LIFETIME
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD

pytestmark = pytest.mark.django_db

NEW = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


@pytest.mark.parametrize(
    "late, ok", [(ATTEMPT_LIFETIME - timedelta(seconds=1), True), (ATTEMPT_LIFETIME + timedelta(seconds=1), False)]
)
def test_the_new_password_step_ends_with_the_attempt_lifetime(app_user, late, ok):
    user, app = app_user
    client = Client()
    with time_machine.travel("2025-03-03 09:00 +0800", tick=False) as traveller:
        client.post("/reset/", {"user_id": user.user_id})
        assert client.post("/reset/otp/", {"otp": app.code()})["Location"] == "/reset/password/"
        traveller.shift(late)
        response = client.post("/reset/password/", NEW)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) is ok
    assert response["Location"] == ("/reset/done/" if ok else "/reset/")


def test_the_lifetime_counts_from_the_start_not_from_the_code(app_user):
    """Proving a code late does not buy a new lifetime: 93 minutes later is far too late."""
    user, app = app_user
    client = Client()
    with time_machine.travel("2025-03-03 09:00 +0800", tick=False) as traveller:
        client.post("/reset/", {"user_id": user.user_id})
        traveller.shift(ATTEMPT_LIFETIME - timedelta(seconds=5))
        assert client.post("/reset/otp/", {"otp": app.code()})["Location"] == "/reset/password/"
        traveller.shift(timedelta(seconds=10))
        assert client.get("/reset/password/")["Location"] == "/reset/"
        traveller.shift(timedelta(minutes=93))
        assert client.post("/reset/password/", NEW)["Location"] == "/reset/"
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
