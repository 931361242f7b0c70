"""Session timeouts (SECURITY.md 17): idle and absolute, from the settings."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect

from ccass_portal import clock

from . import audit, logon

SEEN_AT_KEY = "seen_at"


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = clock.now().timestamp()
            started = request.session.get(logon.AUTH_AT_KEY, now)
            seen = request.session.get(SEEN_AT_KEY, started)
            idle = now - seen > settings.PORTAL_SESSION_IDLE_TIMEOUT
            too_old = now - started > settings.PORTAL_SESSION_ABSOLUTE_TIMEOUT
            if idle or too_old:
                audit.record(
                    audit.Event.SESSION_EXPIRED, request=request, subject=request.user, reason="idle" if idle else "absolute"
                )
                logon.logout(request)
                messages.info(request, "Your session has ended. Please log in again.")
                if request.path.startswith("/dms/"):
                    return redirect("dms:landing")
                if request.path.startswith(("/backoffice/", "/admin/")):
                    return redirect("backoffice:login")
                return redirect("terminal:landing")
            request.session[SEEN_AT_KEY] = now
        return self.get_response(request)
