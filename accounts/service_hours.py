"""Service hours (§4, footnote 1): when the CCASS/CCMS Terminal and DMS answer.

Terminal: 07:00-21:30 Monday to Friday. DMS: the same, plus 09:00-13:00 on
Saturday. Neither on a Hong Kong public holiday. Opening times are inclusive,
closing times exclusive (21:29 is open, 21:30 is closed). Times are Hong Kong
time from the one clock, so the demo clock moves them too. Enforced by
`accounts.middleware.ServiceHoursMiddleware` when PORTAL_ENFORCE_SERVICE_HOURS is on; each portal's
row in `accounts.logon.PORTALS` says which hours are its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ccass_portal import clock

from . import hong_kong_holidays

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
SATURDAY = 5


@lru_cache(maxsize=32)
def _hong_kong_holidays(year: int) -> frozenset[date]:
    """The year's public holidays: from the committed table (accounts/hong_kong_holidays.py, made
    from `holidays` by `manage.py hong_kong_holidays`), so a web worker does not load `holidays`;
    beyond the table's years, from `holidays` itself (docs/decisions.md, "Hong Kong public
    holidays: a committed table")."""
    if hong_kong_holidays.FIRST_YEAR <= year <= hong_kong_holidays.LAST_YEAR:
        days = hong_kong_holidays.DAYS[year].split()
        return frozenset(date(year, int(day[:2]), int(day[2:])) for day in days)
    return frozenset(holidays_of(year))


def holidays_of(year: int) -> list[date]:
    """The days `holidays` lists for Hong Kong in `year`: "public" are the statutory holidays,
    "optional" the other general holidays (Good Friday, Easter Monday, ...): together, the days
    the Gazette lists as public holidays. Imported here only: 3.6 MiB a web worker need not load."""
    import holidays

    return sorted(holidays.country_holidays("HK", years=year, categories=("public", "optional")))


def is_public_holiday(day: date) -> bool:
    return day in _hong_kong_holidays(day.year)


def is_business_day(day: date) -> bool:
    """Monday to Friday and not a Hong Kong public holiday."""
    return day.weekday() in MONDAY_TO_FRIDAY and not is_public_holiday(day)


def previous_business_day(day: date) -> date:
    """The last business day strictly before `day`."""
    day -= timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Session:
    """One opening: on these weekdays, from `opens` (inclusive) to `closes` (exclusive)."""

    weekdays: tuple[int, ...]
    opens: time
    closes: time


@dataclass(frozen=True)
class ServiceHours:
    service: str
    sessions: tuple[Session, ...]
    description: str

    def _sessions_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if is_public_holiday(day):
            return []
        return sorted(
            (datetime.combine(day, s.opens, HONG_KONG), datetime.combine(day, s.closes, HONG_KONG))
            for s in self.sessions
            if day.weekday() in s.weekdays
        )

    def is_open(self, at: datetime | None = None) -> bool:
        at = (at or clock.now()).astimezone(HONG_KONG)
        return any(opens <= at < closes for opens, closes in self._sessions_on(at.date()))

    def next_opening(self, at: datetime | None = None) -> datetime:
        """The first opening time after `at` (Hong Kong time), skipping weekends and holidays."""
        at = (at or clock.now()).astimezone(HONG_KONG)
        for days in range(0, 370):
            for opens, _ in self._sessions_on(at.date() + timedelta(days=days)):
                if opens > at:
                    return opens
        raise LookupError(f"{self.service} has no opening within a year")  # pragma: no cover


TERMINAL_HOURS = ServiceHours(
    service="CCASS/CCMS Terminal",
    sessions=(Session(MONDAY_TO_FRIDAY, time(7, 0), time(21, 30)),),
    description="07:00-21:30 Monday to Friday, except Hong Kong public holidays",
)
DMS_HOURS = ServiceHours(
    service="CCASS Security Management Functions (DMS)",
    sessions=(
        Session(MONDAY_TO_FRIDAY, time(7, 0), time(21, 30)),
        Session((SATURDAY,), time(9, 0), time(13, 0)),
    ),
    description="07:00-21:30 Monday to Friday and 09:00-13:00 Saturday, except Hong Kong public holidays",
)
