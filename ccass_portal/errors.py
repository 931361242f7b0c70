"""The portal's own error pages: 400, 403 (and a failed CSRF check), 404, 500 and 503 (docs/operations.md).

They render from the template alone: no context processor, no session, no user and no database (the
demo clock, the smartcard phase and the user all come from the database), so they still answer when
the request is malformed or the database is down, and never re-read the request body: Django's own
400 page runs the CSRF check again, which reads the body that just failed to parse, and the exception
then escaped Django altogether (gunicorn's bare "Internal Server Error"). The language comes from the
language cookie or Accept-Language, as LocaleMiddleware would choose it, even when the failure
happened before LocaleMiddleware ran.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils import translation

log = logging.getLogger("portal.errors")

# How long a person is asked to wait when the database is unreachable or overloaded.
RETRY_AFTER_SECONDS = 60


def render_error(request, status: int, template: str) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        try:
            html = loader.render_to_string(template, {"status": status})
        except Exception:  # the last answer: an error page must never fail in turn
            log.exception("error_page_failed", extra={"status": status})
            html = f'<!DOCTYPE html><title>{status}</title><main data-error-page="{status}"><h1>{status}</h1></main>'
    response = HttpResponse(html, status=status)
    response["Content-Language"] = language
    return response


def bad_request(request, exception=None):
    return render_error(request, 400, "errors/400.html")


def permission_denied(request, exception=None):
    return render_error(request, 403, "errors/403.html")


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form that came without its token, or with one of another session."""
    return render_error(request, 403, "errors/403_csrf.html")


def page_not_found(request, exception=None):
    return render_error(request, 404, "errors/404.html")


def database_unavailable(exc: BaseException | None) -> bool:
    """The database refused, dropped or timed out the work (OperationalError covers connection
    failures, an administrator's shutdown, deadlocks and timeouts): the person may try again."""
    return isinstance(exc, (OperationalError, InterfaceError))


def service_busy(request, exception=None):
    response = render_error(request, 503, "errors/503.html")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """handler500: Django calls it while handling the exception, so sys.exc_info() holds the cause."""
    if database_unavailable(sys.exc_info()[1]):
        return service_busy(request)
    return render_error(request, 500, "errors/500.html")
