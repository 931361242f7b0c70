"""The HKEX operators' back-office (eServices DA3 and DA4)."""

from django.shortcuts import redirect, render

from accounts.logon import PORTALS
from accounts.views import strong_session_required


def landing(request):
    return redirect("backoffice:login")


@strong_session_required
def home(request):
    return render(request, "backoffice/home.html", {"portal": PORTALS["backoffice"]})
