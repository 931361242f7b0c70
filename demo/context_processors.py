from ccass_portal import clock

from .access import may_use_demo_controls
from .demo_clock import describe_offset


def demo_controls(request):
    return {
        "demo_clock_ahead": describe_offset(clock.demo_offset()),  # "" unless the demo clock was moved
        "demo_controls": may_use_demo_controls(request),  # links to the clock and outbox for the operator only
    }
