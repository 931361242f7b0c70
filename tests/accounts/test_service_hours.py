"""Service hours (§4, footnote 1; issue 8 item 4): Terminal 07:00-21:30 Monday-Friday, DMS also
09:00-13:00 Saturday, never on Hong Kong public holidays; enforced when PORTAL_ENFORCE_SERVICE_HOURS is on."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import Role
from accounts.service_hours import (
    DMS_HOURS,
    TERMINAL_HOURS,
    is_business_day,
    is_public_holiday,
    previous_business_day,
)
from tests.factories import GOOD_PASSWORD, enrolled
from tests.logon_helpers import strong_login

HK = ZoneInfo("Asia/Hong_Kong")


def hk(*args) -> datetime:
    return datetime(*args, tzinfo=HK)


# 2024-11-20 is a Wednesday, 23 a Saturday, 24 a Sunday; 2024-10-01 is National Day (a Tuesday);
# 2025-01-29..31 are Lunar New Year (Wednesday to Friday).
@pytest.mark.parametrize(
    "at, terminal_open, dms_open",
    [
        (hk(2024, 11, 20, 6, 59), False, False),
        (hk(2024, 11, 20, 7, 0), True, True),
        (hk(2024, 11, 20, 21, 29), True, True),
        (hk(2024, 11, 20, 21, 30), False, False),
        (hk(2024, 11, 23, 8, 59), False, False),
        (hk(2024, 11, 23, 9, 0), False, True),
        (hk(2024, 11, 23, 10, 0), False, True),
        (hk(2024, 11, 23, 12, 59), False, True),
        (hk(2024, 11, 23, 13, 0), False, False),
        (hk(2024, 11, 24, 10, 0), False, False),
        (hk(2024, 10, 1, 10, 0), False, False),
        (hk(2025, 1, 29, 10, 0), False, False),
        (hk(2024, 3, 29, 10, 0), False, False),  # Good Friday: a general holiday too
        (hk(2024, 2, 10, 10, 0), False, False),  # Lunar New Year's Day on a Saturday: DMS closed
    ],
)
def test_opening_hours(at, terminal_open, dms_open):
    assert TERMINAL_HOURS.is_open(at) is terminal_open
    assert DMS_HOURS.is_open(at) is dms_open


def test_the_policy_reads_the_one_clock_in_hong_kong_time():
    # 23:00 UTC on Tuesday is 07:00 on Wednesday in Hong Kong.
    with time_machine.travel(datetime(2024, 11, 19, 23, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        assert TERMINAL_HOURS.is_open()
    with time_machine.travel(datetime(2024, 11, 19, 22, 59, tzinfo=ZoneInfo("UTC")), tick=False):
        assert not TERMINAL_HOURS.is_open()


@pytest.mark.parametrize(
    "hours, at, resumes",
    [
        (TERMINAL_HOURS, hk(2024, 11, 20, 6, 59), hk(2024, 11, 20, 7, 0)),  # later the same day
        (TERMINAL_HOURS, hk(2024, 11, 20, 21, 30), hk(2024, 11, 21, 7, 0)),  # the next morning
        (TERMINAL_HOURS, hk(2024, 11, 22, 21, 30), hk(2024, 11, 25, 7, 0)),  # Friday night: Monday
        (DMS_HOURS, hk(2024, 11, 22, 21, 30), hk(2024, 11, 23, 9, 0)),  # Friday night: Saturday for DMS
        (DMS_HOURS, hk(2024, 11, 23, 13, 0), hk(2024, 11, 25, 7, 0)),  # Saturday afternoon: Monday
        (TERMINAL_HOURS, hk(2024, 9, 30, 22, 0), hk(2024, 10, 2, 7, 0)),  # skips National Day
        (TERMINAL_HOURS, hk(2025, 1, 28, 22, 0), hk(2025, 2, 3, 7, 0)),  # skips Lunar New Year and the weekend
        (DMS_HOURS, hk(2025, 1, 28, 22, 0), hk(2025, 2, 1, 9, 0)),
        (TERMINAL_HOURS, hk(2024, 3, 28, 22, 0), hk(2024, 4, 2, 7, 0)),  # Easter: Good Friday to Easter Monday
    ],
)
def test_next_opening_skips_weekends_and_holidays(hours, at, resumes):
    assert hours.next_opening(at) == resumes


def test_business_days():
    assert is_public_holiday(hk(2024, 10, 1).date()) and not is_business_day(hk(2024, 10, 1).date())
    assert is_business_day(hk(2024, 11, 20).date())
    assert not is_business_day(hk(2024, 11, 23).date())
    assert previous_business_day(hk(2024, 11, 25).date()) == hk(2024, 11, 22).date()  # Monday -> Friday
    assert previous_business_day(hk(2024, 10, 2).date()) == hk(2024, 9, 30).date()  # over National Day


# -- enforcement ----------------------------------------------------------------------------


@pytest.fixture
def enforced(settings):
    settings.PORTAL_ENFORCE_SERVICE_HOURS = True
    return settings


def at(*args):
    return time_machine.travel(hk(*args), tick=False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when, terminal_status, dms_status",
    [
        ((2024, 11, 20, 6, 59), 503, 503),
        ((2024, 11, 20, 7, 0), 200, 200),
        ((2024, 11, 20, 21, 29), 200, 200),
        ((2024, 11, 20, 21, 30), 503, 503),
        ((2024, 11, 23, 10, 0), 503, 200),
        ((2024, 11, 23, 13, 0), 503, 503),
        ((2024, 11, 24, 10, 0), 503, 503),
        ((2024, 10, 1, 10, 0), 503, 503),
        ((2025, 1, 29, 10, 0), 503, 503),
    ],
)
def test_logon_pages_answer_503_outside_hours(client, enforced, when, terminal_status, dms_status):
    with at(*when):
        assert client.get("/login/").status_code == terminal_status
        assert client.get("/login/?service=reports").status_code == terminal_status
        assert client.get("/reset/").status_code == terminal_status
        assert client.get("/dms/login/").status_code == dms_status


@pytest.mark.django_db
def test_the_closed_page_says_when_service_resumes(client, enforced):
    with at(2024, 9, 30, 22, 0):
        response = client.get("/login/")
    page = response.content.decode()
    assert response.status_code == 503
    assert "is closed" in page and "07:00-21:30 Monday to Friday" in page
    assert "Service resumes at" in page and "02-Oct-24 07:00" in page  # not 01-Oct (National Day)
    assert int(response["Retry-After"]) == 33 * 3600
    with at(2024, 11, 22, 21, 30):
        dms = client.get("/dms/login/").content.decode()
        terminal = client.get("/login/").content.decode()
    assert "23-Nov-24 09:00" in dms and "25-Nov-24 07:00" in terminal
    with at(2024, 11, 23, 13, 0):
        assert "25-Nov-24 07:00" in client.get("/dms/login/").content.decode()


@pytest.mark.django_db
def test_a_logon_post_outside_hours_is_not_even_checked(client, enforced, email_user):
    from accounts.models import AuditEvent

    with at(2024, 11, 24, 10, 0):
        response = client.post("/login/", {"user_id": email_user.user_id, "password": GOOD_PASSWORD})
    assert response.status_code == 503
    assert not AuditEvent.objects.exists() and "logon" not in client.session


@pytest.mark.django_db
def test_protected_pages_close_too(enforced, participant):
    user, device = enrolled(participant, "B0123405")
    da, da_device = enrolled(participant, "B01234X1", role=Role.DA_MAKER)
    with at(2024, 11, 20, 10, 0):
        client = strong_login(Client(), user, device)
        assert client.get("/terminal/").status_code == 200
        assert client.get("/reports/").status_code == 200
    with at(2024, 11, 20, 22, 0):
        client = strong_login(Client(), user, device)
        assert client.get("/terminal/").status_code == 503
        assert client.get("/reports/").status_code == 503
    with at(2024, 11, 23, 10, 0):  # Saturday morning: DMS only
        client = strong_login(Client(), da, da_device)
        assert client.get("/dms/home/").status_code == 200
    with at(2024, 11, 23, 13, 0):
        client = strong_login(Client(), da, da_device)
        assert client.get("/dms/home/").status_code == 503


@pytest.mark.django_db
def test_pages_outside_the_rule_stay_open(client, enforced, settings):
    with at(2024, 10, 1, 3, 0):
        assert client.get("/").status_code == 200
        assert client.get("/dms/").status_code == 200
        assert client.get("/sso/").status_code == 200
        assert client.get("/backoffice/login/").status_code == 200  # HKEX operators work outside hours
        assert client.get("/admin/login/").status_code in (200, 302)
        assert client.get("/demo/outbox/").status_code == 200
        assert client.post("/logout/").status_code == 302


@pytest.mark.django_db
def test_not_enforced_when_the_setting_is_off(client, settings):
    settings.PORTAL_ENFORCE_SERVICE_HOURS = False
    with at(2024, 10, 1, 3, 0):
        assert client.get("/login/").status_code == 200
        assert client.get("/dms/login/").status_code == 200


def test_demo_turns_enforcement_off_by_default():
    import os
    import subprocess
    import sys
    from pathlib import Path

    def enforced_with(overrides):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
        env.update({"DJANGO_SECRET_KEY": "x" * 50, **overrides})
        result = subprocess.run(
            [sys.executable, "-c", "import ccass_portal.settings as s; print(s.PORTAL_ENFORCE_SERVICE_HOURS)"],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert enforced_with({"PORTAL_DEMO": "true"}) == "False"
    assert enforced_with({"PORTAL_DEMO": "false"}) == "True"
    assert enforced_with({"PORTAL_DEMO": "true", "PORTAL_ENFORCE_SERVICE_HOURS": "true"}) == "True"
