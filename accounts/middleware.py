"""The logged-in person and their verified device in one statement; session timeouts (SECURITY.md 17):
idle and absolute, from the settings; and service hours (§4)."""

import logging
from contextlib import suppress

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from ccass_portal import clock
from ccass_portal.kept_queries import KeptQuery

from . import audit, logon
from .models import User

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


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"  # the backend complete_logon logs in with


_KEPT: dict[type, KeptQuery] = {}


def _device_and_person(device_cls) -> KeptQuery:
    """A device of this class with its person, read on every verified request: compiled once."""
    if device_cls not in _KEPT:
        _KEPT[device_cls] = KeptQuery(
            lambda pk, user_id: (
                device_cls.objects.select_related("user")
                # ModelBackend.get_user reads the person through the default manager: the same rule here.
                .filter(User.objects.shown("user__"), pk=pk, user_id=user_id)
            ),
            form="first",
            pk=int,
            user_id=str,
        )
    return _KEPT[device_cls]


class VerifiedPersonMiddleware(OTPMiddleware):
    """django-otp's OTPMiddleware, reading the person with the device that verified the session in one
    statement instead of two (issue 19; docs/benchmarks.md, "Statements per logon").

    Only where the answer is certainly the one Django's and django-otp's own reads would give: the
    session names a person and a device of theirs, the person is one the default manager shows
    and ModelBackend lets authenticate, and the session's hash matches theirs. Anything else (no
    device, a device gone or another's, a hash to check against a fallback key or to refuse) takes
    their path unchanged, so `is_verified()` and the session's end are exactly theirs."""

    def _verify_user_sync(self, request, user):
        if not hasattr(request, "_cached_user"):  # not read yet by anyone (AuthenticationMiddleware's cache)
            device = self._device_with_person(request)
            if device is not None:
                person = request._cached_user = device.user
                self._init_user_fields(person)
                person.otp_device = self._finalize_device(request, person, device)
                return person
        return super()._verify_user_sync(request, user)

    @staticmethod
    def _device_with_person(request):
        """The session's device with its person (one statement), if Django would accept that person."""
        session = request.session
        persistent_id, session_hash = session.get(DEVICE_ID_SESSION_KEY), session.get(HASH_SESSION_KEY)
        backend_path = session.get(BACKEND_SESSION_KEY)
        if not (persistent_id and session_hash and backend_path == MODEL_BACKEND):
            return None
        if MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS:
            return None
        device = None
        with suppress(KeyError, ValueError, LookupError, TypeError):  # django-otp's reading of an id
            model_label, device_id = OTPMiddleware._normalize_persistent_id(persistent_id).rsplit("/", 1)
            device_cls = apps.get_model(model_label)
            if issubclass(device_cls, Device):
                device = _device_and_person(device_cls)(pk=int(device_id), user_id=str(session[SESSION_KEY]))
        if (
            device is not None
            and ModelBackend().user_can_authenticate(device.user)
            and constant_time_compare(session_hash, device.user.get_session_auth_hash())
        ):
            return device
        return None
