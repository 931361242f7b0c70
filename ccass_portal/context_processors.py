from django.conf import settings

from . import clock


def portal(request):
    return {
        "PORTAL_DEMO": settings.PORTAL_DEMO,
        "portal_now": clock.now(),
    }
