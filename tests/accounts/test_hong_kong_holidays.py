"""Hong Kong public holidays from a committed table (issue 19; docs/decisions.md, "Hong Kong public
holidays: a committed table"): the table is what `holidays` lists, year for year; beyond its years
`holidays` answers; and a web worker enforcing service hours never loads `holidays` (3.6 MiB)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from accounts import hong_kong_holidays, service_hours
from accounts.management.commands.hong_kong_holidays import TABLE, render
from tests.test_logging import run as run_in_production

YEARS = range(hong_kong_holidays.FIRST_YEAR, hong_kong_holidays.LAST_YEAR + 1)


def test_the_committed_table_is_what_the_command_writes_from_holidays_today():
    """Fails after an upgrade of `holidays` that moves a day (or a hand edit): run
    `manage.py hong_kong_holidays` and commit the table."""
    assert TABLE.read_text() == render()


@pytest.mark.parametrize("year", YEARS)
def test_each_year_of_the_table_is_the_libraries_answer(year):
    assert service_hours._hong_kong_holidays(year) == set(service_hours.holidays_of(year))


def test_the_table_covers_the_launch_and_the_years_ahead():
    assert hong_kong_holidays.FIRST_YEAR <= 2023 and hong_kong_holidays.LAST_YEAR >= date.today().year + 20


@pytest.mark.parametrize("year", [hong_kong_holidays.FIRST_YEAR - 1, hong_kong_holidays.LAST_YEAR + 1])
def test_beyond_the_table_holidays_answers(year):
    days = service_hours.holidays_of(year)
    assert date(year, 1, 1) in days and date(year, 12, 25) in days
    assert all(service_hours.is_public_holiday(day) for day in days)
    assert not service_hours.is_public_holiday(date(year, 3, 3))  # no Hong Kong holiday in this year


def test_a_worker_enforcing_service_hours_does_not_load_holidays(tmp_path):
    """gunicorn's worker (ccass_portal.wsgi) answers the Terminal's and DMS's pages, whose hours
    the middleware checks on every request, and the overnight reports' business days."""
    result = run_in_production(
        "import json, sys, ccass_portal.wsgi\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from django.test import Client\n"
        "from accounts.service_hours import DMS_HOURS, TERMINAL_HOURS, previous_business_day\n"
        "from ccass_portal import clock\n"
        "client = Client()\n"
        "pages = [client.get(p).status_code for p in ('/', '/login/?service=online', '/dms/', '/terminal/')]\n"
        "answers = [TERMINAL_HOURS.next_opening().isoformat(), DMS_HOURS.is_open(), str(previous_business_day(clock.today()))]\n"
        "print(json.dumps({'pages': pages, 'loaded': 'holidays' in sys.modules}))",
        DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite3'}",
        REDIS_URL="",
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        PORTAL_ENFORCE_SERVICE_HOURS="true",
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    # The Terminal's and DMS's pages answer open (200, 302 to the logon) or closed (503), by the hour.
    assert set(answer["pages"]) <= {200, 302, 503}, answer
    assert answer["loaded"] is False
