"""DMS pages: the landing page and the Security Management Functions (App. A, App. D.c).

Every page after the landing page needs a full 2FA session of a DA
(`strong_session_required`) and sees only the DA's own participant: a profile
or request of another firm answers 404. Views check access, call a service in
`dms.services` (writes) or `dms.selectors` (reads), and answer.

This module holds the landing page, the menu and what every DMS page shares (`da_page`,
`page`, `show_refusal`); the functions are in `profile_views`, `request_views` and
`report_views`, the migration readiness dashboard in `dashboard_views`.
"""

from __future__ import annotations

from functools import wraps

from django.shortcuts import render

from accounts.logon import PORTALS
from accounts.models import Role
from accounts.portal_views import page_methods, render_portal, strong_session_required

from . import selectors
from .roster import roster_of
from .rules import DmsRefusal


def landing(request):
    """DMS landing page (§4, §5): smartcard option until decommissioning, and OTP."""
    return render(request, "dms/landing.html", {"portal": PORTALS["dms"]})


def da_page(view):
    """A DMS function: a DA's strong session, GET (HEAD) and POST only; passes the DA's participant."""

    @strong_session_required
    @page_methods
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, request.user.participant, *args, **kwargs)

    return wrapped


def page(request, template: str, context: dict | None = None, status: int = 200):
    """Every DMS page warns while the firm is below the roster rule."""
    roster = roster_of(request.user.participant)
    return render_portal(
        request,
        template,
        {
            "roster_warning": roster.warning,
            "is_maker": request.user.role == Role.DA_MAKER,
            "is_checker": request.user.role == Role.DA_CHECKER,
            **(context or {}),
        },
        status=status,
    )


def show_refusal(form, refusal: DmsRefusal) -> None:
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)


@da_page
def home(request, participant):
    pending = selectors.pending_requests(participant).count()
    return page(request, "dms/home.html", {"pending_count": pending})
