"""Expired sessions are cleared on a schedule (issue 15, item 7; docs/operations.md).

The session table only grew (9,231 rows after 8,995 logons): `bin/beat` now runs
accounts.tasks.clear_expired_sessions every hour, which removes the rows past their expiry and no
other: a person still logged in keeps her session.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts import tasks
from accounts.sessions import SessionStore
from tests.logon_helpers import is_logged_in, strong_login

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]  # PostgreSQL and SQLite


def saved_session() -> str:
    store = SessionStore()
    store["seen"] = True
    store.save()
    return store.session_key


def test_the_sweep_removes_expired_sessions_and_keeps_live_ones(app_user):
    from otp.models import AuthenticatorDevice

    user, _ = app_user
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        expired = [saved_session() for _ in range(3)]
    later = start + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(later, tick=False):
        live = saved_session()
        person = strong_login(Client(), user, AuthenticatorDevice.objects.get(user=user))
        assert Session.objects.count() == 5

        tasks.clear_expired_sessions()

        assert not Session.objects.filter(session_key__in=expired).exists()
        assert set(Session.objects.values_list("session_key", flat=True)) == {live, person.cookies["sessionid"].value}
        assert is_logged_in(person)


def test_the_sweep_is_on_the_beat_schedule_and_registered_with_the_worker():
    from ccass_portal.celery import app

    entry = app.conf.beat_schedule["clear-expired-sessions"]  # settings hold the crontab fields; the app, the crontab
    assert entry["task"] == "accounts.tasks.clear_expired_sessions"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    # Often enough that the table stays near the number of live sessions (12-hour lifetime).
    assert entry["schedule"].remaining_estimate(timezone.now()) <= timedelta(hours=1)
