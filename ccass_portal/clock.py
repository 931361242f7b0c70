"""The one clock of the portal.

Every rule that depends on time (OTP validity, lockout window, password
expiry, the decommissioning date, service hours) asks `now()` or `today()`
here, so tests move time in one place (time-machine) and the demo can too.

In demo mode (settings.PORTAL_DEMO) the demo clock may run ahead of real
time: `now()` is real time plus an offset kept in the database (one
`DemoClock` row), so every web and worker process sees the same simulated
time. Each process reads the offset at most once a second. Outside demo mode
the offset is never read: `now()` is real time and costs no query.

Authenticator apps keep real time: TOTP codes come from the phone's clock,
which the demo cannot move.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

OFFSET_CACHE_SECONDS = 1.0

# (monotonic time read, offset in seconds); None until first read in this process.
_cached_offset: tuple[float, int] | None = None


def now() -> datetime:
    """The current time, timezone-aware (UTC inside, shown in Hong Kong time)."""
    real = timezone.now()
    if not settings.PORTAL_DEMO:
        return real
    return real + timedelta(seconds=demo_offset())


def today() -> date:
    """Today's date in Hong Kong."""
    return timezone.localdate(now())


# -- the demo clock -------------------------------------------------------------------


def demo_offset() -> int:
    """Seconds the demo clock runs ahead of real time (0 outside demo mode)."""
    global _cached_offset
    if not settings.PORTAL_DEMO:
        return 0
    cached = _cached_offset
    if cached is not None and time.monotonic() - cached[0] < OFFSET_CACHE_SECONDS:
        return cached[1]
    from .models import DemoClock

    try:
        offset = DemoClock.objects.filter(pk=DemoClock.SINGLETON).values_list("offset_seconds", flat=True).first()
    except (DatabaseError, RuntimeError):
        # No table yet (before `migrate`), or database access refused (tests without a
        # database): real time, and ask again next time.
        return 0
    _remember(offset or 0)
    return offset or 0


def remember_demo_offset(seconds: int) -> None:
    """This process sees a new offset at once (others within a second). Called by
    `ccass_portal.demo_clock` after it stored the offset."""
    _remember(int(seconds))


def forget_demo_offset() -> None:
    """Drop this process's cached offset, so the next `now()` reads the database (tests)."""
    global _cached_offset
    _cached_offset = None


def _remember(offset: int) -> None:
    global _cached_offset
    _cached_offset = (time.monotonic(), offset)
