"""Keyed attempt counts that no longer count are swept (docs/operations.md, "Scheduled jobs").

`KeyedAttempts` holds the failed logons of User IDs that name nobody and the reset throttles
(docs/security.md, "Attacker model"). A stranger can add a row per ID they type, so the table
must not only grow: a row whose every time has left the lockout window says nothing that an
absent row would not, and the sweep removes it. A "locked" unknown ID stays locked for as long
as a real lock lasts (no DA ever lifts it), so its row is kept; so is a row still counting.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from accounts import lockout, tasks
from accounts.logon import LOCKED_MESSAGE
from accounts.models import KeyedAttempts
from tests.logon_helpers import password_step

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

WINDOW = timedelta(seconds=settings.PORTAL_LOCKOUT_WINDOW)
WRONG = "Wrong(Password)123x"


def test_the_sweep_drops_only_counts_that_no_longer_count():
    with time_machine.travel("2024-03-01 10:00:00 +0800", tick=False) as traveller:
        for _ in range(settings.PORTAL_LOCKOUT_FAILURES - 1):
            lockout.record_unknown_id_failure("B0123481")  # counting, never locked
        for _ in range(settings.PORTAL_LOCKOUT_FAILURES):
            lockout.record_unknown_id_failure("B0123482")  # locked
        lockout.record_unknown_id_code_failure("B0123483")  # every third wrong code counts: no window
        assert lockout.within_limit(lockout.attempts_key("reset-id", "B0123484"), 3)
        traveller.shift(WINDOW + timedelta(seconds=1))
        lockout.record_unknown_id_failure("B0123485")  # still inside the window
        assert KeyedAttempts.objects.count() == 5

        tasks.sweep_keyed_attempts()

        kept = set(KeyedAttempts.objects.values_list("key", flat=True))
        assert kept == {
            lockout.attempts_key("unknown-id", "B0123482"),
            lockout.attempts_key("unknown-id-otp", "B0123483"),
            lockout.attempts_key("unknown-id", "B0123485"),
        }
        # Dropping a stale row changes no answer: NOBODY02 is still locked, NOBODY01 counts afresh
        # exactly as a real person's failures older than the window do.
        assert lockout.unknown_id_is_locked("B0123482")
        assert not lockout.record_unknown_id_failure("B0123481")


def test_a_stranger_sees_the_same_answers_after_the_sweep(participant, app_user):
    """The attacker beside the victim: for a locked ID that names nobody and for a real locked
    person, the logon page answers the same before and after the sweep, however late."""
    user, _ = app_user
    with time_machine.travel("2024-03-01 10:00:00 +0800", tick=False) as traveller:
        for user_id in (user.user_id, "B0123489"):
            for _ in range(settings.PORTAL_LOCKOUT_FAILURES):
                password_step(Client(), user_id, WRONG)
        before = [password_step(Client(), user_id, WRONG) for user_id in (user.user_id, "B0123489")]
        traveller.shift(WINDOW * 4)
        tasks.sweep_keyed_attempts()
        after = [password_step(Client(), user_id, WRONG) for user_id in (user.user_id, "B0123489")]
    for response in before + after:
        assert response.status_code == 200
        assert str(LOCKED_MESSAGE) in response.content.decode()


def test_the_sweep_is_on_the_beat_schedule_and_registered_with_the_worker():
    from ccass_portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-keyed-attempts"]
    assert entry["task"] == "accounts.tasks.sweep_keyed_attempts"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
