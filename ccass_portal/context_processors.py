from django.conf import settings

from accounts import policies

from . import clock


def portal(request):
    return {
        "PORTAL_DEMO": settings.PORTAL_DEMO,
        "smartcard_available": policies.smartcard_available(),
        "portal_now": clock.now(),
    }
