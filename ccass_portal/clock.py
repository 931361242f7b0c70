"""The one clock of the portal.

Every rule that depends on time (OTP validity, lockout window, password
expiry, the decommissioning date, service hours) asks `now()` or `today()`
here, so tests move time in one place (time-machine) and the demo can too.
"""

from datetime import date, datetime

from django.utils import timezone


def now() -> datetime:
    """The current time, timezone-aware (UTC inside, shown in Hong Kong time)."""
    return timezone.now()


def today() -> date:
    """Today's date in Hong Kong."""
    return timezone.localdate(now())
