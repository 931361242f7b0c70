"""Moving the demo clock (PORTAL_DEMO only): forward by a step, to a date, or back to real time.

The offset lives in the one `DemoClock` row, changed under a row lock so two
moves at once both count; each move writes one audit row. Outside demo mode
every move is refused and nothing changes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from accounts import audit
from accounts.audit import Event
from ccass_portal import clock
from ccass_portal.models import DemoClock

# The buttons of the demo clock page: what each shows off.
STEPS = {
    "forward_5m": (timedelta(minutes=5), gettext_lazy("+5 minutes"), gettext_lazy("an e-mail OTP expires")),
    "forward_31m": (
        timedelta(minutes=31),
        gettext_lazy("+31 minutes"),
        gettext_lazy("failed logons leave the 30-minute lockout window"),
    ),
    "forward_91d": (
        timedelta(days=91),
        gettext_lazy("+91 days"),
        gettext_lazy("passwords expire; the smartcard is decommissioned"),
    ),
}
LATEST = timedelta(days=10 * 366)  # how far ahead a move may go


class DemoClockRefused(ValueError):
    """The move was not made; the message says why."""


def describe_offset(seconds: int) -> str:
    """How far ahead the demo clock runs, for people: "91 days 0 h 5 min" ("" when not moved)."""
    if not seconds:
        return ""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    time = _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if not days:
        return time
    return ngettext("%(days)d day %(time)s", "%(days)d days %(time)s", days) % {"days": days, "time": time}


def shown_time(when: datetime) -> str:
    """A demo clock time in the page's language: 2027年2月28日 01:05, or the seeds' 28-Feb-27 01:05."""
    if (get_language() or "").lower().startswith("zh"):
        return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"
    return f"{when:%d-%b-%y %H:%M}"


def _check_demo() -> None:
    if not settings.PORTAL_DEMO:
        raise DemoClockRefused("The demo clock exists only in demo mode.")


def _store(new_offset: int, *, request, action: str) -> datetime:
    if new_offset > LATEST.total_seconds():
        raise DemoClockRefused("The demo clock cannot move more than 10 years ahead of real time.")
    with transaction.atomic():
        row, _ = DemoClock.objects.select_for_update().get_or_create(pk=DemoClock.SINGLETON)
        row.offset_seconds = new_offset
        row.save(update_fields=["offset_seconds", "updated_at"])
        simulated = timezone.now() + timedelta(seconds=new_offset)
        audit.record(
            Event.DEMO_CLOCK_MOVED,
            request=request,
            actor=request.user if request is not None and request.user.is_authenticated else None,
            action=action,
            offset_seconds=new_offset,
            simulated_time=simulated.isoformat(),
        )
    clock.remember_demo_offset(new_offset)
    return simulated


def move_forward(step: str, *, request=None) -> datetime:
    """Move simulated time forward by one of STEPS. Returns the new simulated time."""
    _check_demo()
    if step not in STEPS:
        raise DemoClockRefused("Unknown demo clock action. Nothing was changed.")
    by = STEPS[step][0]
    with transaction.atomic():
        current = DemoClock.objects.select_for_update().filter(pk=DemoClock.SINGLETON).first()
        offset = (current.offset_seconds if current else 0) + int(by.total_seconds())
        return _store(offset, request=request, action=step)


def move_to_date(target: date, *, request=None) -> datetime:
    """Move simulated time forward to `target`, keeping the Hong Kong time of day."""
    _check_demo()
    simulated_now = timezone.localtime(clock.now())
    moved = timezone.make_aware(datetime.combine(target, simulated_now.time().replace(tzinfo=None)))
    if moved <= simulated_now:
        raise DemoClockRefused(
            f"The demo clock only moves forward: choose a date after {simulated_now:%d-%b-%y}, or Reset."
        )
    offset = int((moved - timezone.now()).total_seconds())
    return _store(offset, request=request, action=f"to_date {target.isoformat()}")


def reset(*, request=None) -> datetime:
    """Back to real time."""
    _check_demo()
    return _store(0, request=request, action="reset")
