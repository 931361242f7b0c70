"""Session timeouts (SECURITY.md 17): idle and absolute, from the settings; and service hours (§4)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ccass_portal import clock

from . import audit, logon

SEEN_AT_KEY = "seen_at"
SEEN_AT_RESOLUTION = 10  # seconds; the idle timeout is 15 minutes
log = logging.getLogger("portal.service_hours")


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
                    audit.Event.SESSION_EXPIRED,
                    request=request,
                    subject=request.user,
                    reason="idle" if idle else "absolute",
                )
                logon.logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
                portal = logon.portal_for_path(request.path)
                return redirect(portal.url_of(portal.start))
            if now - seen >= SEEN_AT_RESOLUTION:
                request.session[SEEN_AT_KEY] = now  # not on every request: a session write each time costs
        return self.get_response(request)


class ServiceHoursMiddleware:
    """Outside service hours (each portal's `hours` in accounts.logon.PORTALS), the Terminal's and DMS's logon and
    protected pages answer 503 with when service resumes (PORTAL_ENFORCE_SERVICE_HOURS).

    Not covered: the landing pages, logout, /sso/, static files, the demo pages and
    the HKEX back-office and admin (operators work outside hours).
    """

    OPEN_ALWAYS = {"landing", "logout"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.PORTAL_ENFORCE_SERVICE_HOURS:
            return None
        match = request.resolver_match
        portal = logon.PORTALS.get(match.namespace) if match else None
        hours = portal.hours if portal else None
        if hours is None or match.url_name in self.OPEN_ALWAYS:
            return None
        at = clock.now()
        if hours.is_open(at):
            return None
        resumes = hours.next_opening(at)
        response = render(request, "portal/service_closed.html", {"hours": hours, "resumes": resumes}, status=503)
        response["Retry-After"] = str(max(60, int((resumes - at).total_seconds())))
        # Closed hours are expected, not a server error: log at INFO, not django.request's ERROR.
        response._has_been_logged = True
        log.info("service_closed", extra={"portal": match.namespace, "path": request.path})
        return response
