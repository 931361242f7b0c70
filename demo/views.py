"""The demo's own pages (PORTAL_DEMO only): the demo outbox and the demo clock."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts.portal_views import page_methods
from ccass_portal import clock
from ccass_portal.models import DemoMail

from . import demo_clock
from .access import may_use_demo_controls
from .forms import DemoClockForm


def _demo_controls_refused(request):
    """403 for anyone beyond the demo operator (demo.access); 404 outside demo mode."""
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
