"""The CCASS/CCMS Terminal's pages: the landing page, the Online Functions menu,
Overnight Report Download, and /sso/ (the connectivity page, also a health check)."""

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.policies import smartcard_available
from accounts.portal_views import render_portal, strong_session_required
from ccass_portal import redis_ping
from ccass_portal.public_pages import render_public

from . import overnight_reports as overnight_reports_service
from .online_functions import FUNCTIONS_BY_SLUG


def terminal_landing(request):
    """CCASS/CCMS Terminal landing page (§4, §5): choose the logon method and function."""
    return render_portal(request, "portal/terminal_landing.html", public=(smartcard_available(),))


@strong_session_required
def terminal_home(request):
    return render_portal(request, "portal/terminal_home.html", {"functions": FUNCTIONS_BY_SLUG.items()})


@strong_session_required
def terminal_function(request, slug):
    name = FUNCTIONS_BY_SLUG.get(slug)
    if name is None:
        raise Http404
    return render_portal(request, "portal/function_not_available.html", {"name": name})


@strong_session_required
def overnight_reports(request):
    """Overnight Report Download: the firm's reports, newest first."""
    reports = overnight_reports_service.reports_for(request.user)
    return render_portal(request, "portal/overnight_reports.html", {"reports": reports})


@require_safe  # GET and HEAD
@strong_session_required
def overnight_report_download(request, report_id: int):
    """One report of the firm as a CSV file (audited); any other id is 404."""
    try:
        report = overnight_reports_service.download_report(request, request.user, report_id)
    except overnight_reports_service.ReportNotFound as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(report.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    return response


def _database_answers() -> bool:
    """One round trip on the worker's kept connection (Django's own health check, a bare
    SELECT 1); when there is none or it broke, a new one, so the check recovers by itself."""
    try:
        connection.ensure_connection()
        if connection.is_usable():
            return True
        connection.close()
        connection.ensure_connection()
        return connection.is_usable()
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False


def _ask_redis() -> Callable[[], bool | None]:
    """PING sent now, its answer read by the function returned; None when no Redis is configured
    (embedded mode). One connection per process, kept: a load balancer asks often, and a new
    connection each time costs more than the ping."""
    if not settings.REDIS_URL:
        return lambda: None
    return redis_ping.ask(settings.REDIS_URL)


@never_cache
def sso(request):
    """The connectivity page (§3.3): no logon; also a health check for load balancers."""
    redis = _ask_redis()  # Redis answers while PostgreSQL does: one wait, not two
    checks = {"database": _database_answers(), "redis": redis()}
    healthy = all(ok is not False for ok in checks.values())
    context = {"checks": checks, "healthy": healthy}
    return render_public(
        request, "portal/sso.html", context, vary=tuple(checks.values()), status=200 if healthy else 503
    )
