"""The one clock of the portal.

Every rule that depends on time (OTP validity, lockout window, password
expiry, the decommissioning date, service hours) asks `now()` or `today()`
here, so tests move time in one place (time-machine) and the demo can too.

In demo mode (settings.PORTAL_DEMO) the demo clock may run ahead of real
time: `now()` is real time plus an offset kept in the database (one
`DemoClock` row), so every web and worker process sees the same simulated
time. A request reads the offset once, at its first `now()`, and keeps it to
its end (`demo_offset_scope`, opened by `DemoClockMiddleware`): a move made in
any process takes effect in every process from the next request, and no
request mixes two times (issue 12 finding 8; a per-process cache let two
workers count failures on different times). Outside a request (a Celery task,
a command) each `now()` reads the row. Outside demo mode the offset is never
read: `now()` is real time and costs no query.

Authenticator apps keep real time: TOTP codes come from the phone's clock,
which the demo cannot move.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

# The offset this request read ([None] until its first `now()`); None outside a request.
_request_offset: ContextVar[list[int | None] | None] = ContextVar("demo_clock_request_offset", default=None)


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


@contextmanager
def demo_offset_scope():
    """One request: the offset is read at most once inside, and forgotten at the end."""
    token = _request_offset.set([None])
    try:
        yield
    finally:
        _request_offset.reset(token)


def demo_offset() -> int:
    """Seconds the demo clock runs ahead of real time (0 outside demo mode)."""
    if not settings.PORTAL_DEMO:
        return 0
    scope = _request_offset.get()
    if scope is not None and scope[0] is not None:
        return scope[0]
    from .models import DemoClock

    try:
        offset = DemoClock.objects.filter(pk=DemoClock.SINGLETON).values_list("offset_seconds", flat=True).first()
    except (DatabaseError, RuntimeError):
        # No table yet (before `migrate`), or database access refused (tests without a
        # database): real time, and ask again next time.
        return 0
    if scope is not None:
        scope[0] = offset or 0
    return offset or 0


def remember_demo_offset(seconds: int) -> None:
    """The request that moved the clock shows the new time at once (others from their next
    request). Called by `demo.demo_clock` after it stored the offset."""
    scope = _request_offset.get()
    if scope is not None:
        scope[0] = int(seconds)


def forget_demo_offset() -> None:
    """Read the offset again at the next `now()`, even within this request (tests)."""
    scope = _request_offset.get()
    if scope is not None:
        scope[0] = None
