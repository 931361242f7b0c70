"""Request-wide middleware of the portal."""

from django.conf import settings

from . import clock


class DemoClockMiddleware:
    """In demo mode, one simulated time per request: the offset is read once, at the first
    `clock.now()`, so a move made in any worker holds in every worker from the next request
    (ccass_portal/clock.py). Outside demo mode it does nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.PORTAL_DEMO:
            return self.get_response(request)
        with clock.demo_offset_scope():
            return self.get_response(request)
