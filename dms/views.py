"""DMS pages: the landing page and the Security Management Functions."""

from django.shortcuts import render

from accounts.logon import PORTALS
from accounts.views import strong_session_required


def landing(request):
    """DMS landing page (§4, §5): smartcard option until decommissioning, and OTP."""
    return render(request, "dms/landing.html", {"portal": PORTALS["dms"]})


@strong_session_required
def home(request):
    return render(request, "dms/home.html", {"portal": PORTALS["dms"]})
