from django.conf import settings

from accounts import policies

from . import clock
from .demo_access import may_use_demo_controls
from .demo_clock import describe_offset


def portal(request):
    return {
        "PORTAL_DEMO": settings.PORTAL_DEMO,
        "smartcard_available": policies.smartcard_available(),
        "portal_now": clock.now(),
        "demo_clock_ahead": describe_offset(clock.demo_offset()),  # "" unless the demo clock was moved
        "demo_controls": may_use_demo_controls(request),  # links to the clock and outbox for the operator only
    }
