"""Pages that belong to no app: the terminal landing page, Overnight Report Download,
/sso/, and the demo's outbox and clock."""

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_safe

from accounts.logon import PORTALS
from accounts.views import page_methods, strong_session_required

from . import clock, demo_clock, redis_ping
from . import overnight_reports as overnight_reports_service
from .demo_access import may_use_demo_controls
from .forms import DemoClockForm
from .models import DemoMail
from .terminal import FUNCTIONS_BY_SLUG


def terminal_landing(request):
    """CCASS/CCMS Terminal landing page (§4, §5): choose the logon method and function."""
    return render(request, "portal/terminal_landing.html", {"portal": PORTALS["terminal"]})


@strong_session_required
def terminal_home(request):
    return render(
        request, "portal/terminal_home.html", {"portal": PORTALS["terminal"], "functions": FUNCTIONS_BY_SLUG.items()}
    )


@strong_session_required
def terminal_function(request, slug):
    name = FUNCTIONS_BY_SLUG.get(slug)
    if name is None:
        raise Http404
    return render(request, "portal/function_not_available.html", {"portal": PORTALS["terminal"], "name": name})


@strong_session_required
def overnight_reports(request):
    """Overnight Report Download: the firm's reports, newest first."""
    reports = overnight_reports_service.reports_for(request.user)
    return render(request, "portal/overnight_reports.html", {"portal": PORTALS["terminal"], "reports": reports})


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
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False


def _redis_answers() -> bool | None:
    """None when no Redis is configured (embedded mode). One connection per process, kept:
    a load balancer asks often, and a new connection each time costs more than the ping."""
    if not settings.REDIS_URL:
        return None
    return redis_ping.answers(settings.REDIS_URL)


@never_cache
def sso(request):
    """The connectivity page (§3.3): no logon; also a health check for load balancers."""
    checks = {"database": _database_answers(), "redis": _redis_answers()}
    healthy = all(ok is not False for ok in checks.values())
    return render(request, "portal/sso.html", {"checks": checks, "healthy": healthy}, status=200 if healthy else 503)


def _demo_controls_refused(request):
    """403 for anyone beyond the demo operator (ccass_portal.demo_access); 404 outside demo mode."""
    if not settings.PORTAL_DEMO:
        raise Http404
    if may_use_demo_controls(request):
        return None
    message = _(
        "The demo clock and the demo outbox work only on the demo operator's own machine, "
        "or for an HKEX operator signed in to the back-office."
    )
    return render(request, "demo/refused.html", {"message": message}, status=403)


@never_cache
def demo_outbox(request):
    """Mail the demo kept instead of sending (PORTAL_DEMO on, no EMAIL_URL): the operator's only."""
    if refused := _demo_controls_refused(request):
        return refused
    return render(request, "portal/demo_outbox.html", {"messages_kept": DemoMail.objects.all()[:100]})


@never_cache
@csrf_protect
@page_methods
def demo_clock_page(request):
    """The demo clock (PORTAL_DEMO only): move simulated time forward, or reset it.
    The demo operator's only: moving it ages out failed logons (docs/decisions.md "Demo mode")."""
    if refused := _demo_controls_refused(request):
        return refused
    form = DemoClockForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                form.apply(request)
            except demo_clock.DemoClockRefused as refused:
                form.add_error(None, str(refused))
            else:
                shown = timezone.localtime(clock.now())
                messages.success(
                    request, _("The demo clock now shows %(time)s.") % {"time": demo_clock.shown_time(shown)}
                )
                return redirect("demo-clock")
        status = 400
    return render(request, "demo/clock.html", {"form": form, "steps": demo_clock.STEPS}, status=status)
