"""View helpers every portal shares: the Terminal, DMS and the back-office.

The URL namespace ("terminal", "dms", "backoffice") says which portal a request is in; the
portals table (`accounts.logon.PORTALS`) says what that portal shows and whom it allows.
"""

from __future__ import annotations

from functools import wraps

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from ccass_portal.public_pages import render_public

from . import logon


def posted(request):
    """The POST data of a POST (even an empty one), else None (an unbound form)."""
    return request.POST if request.method == "POST" else None


def portal_of(request) -> str:
    return request.resolver_match.namespace


def url(request, name: str, *args) -> str:
    """The URL `name` in the request's own portal."""
    return reverse(f"{portal_of(request)}:{name}", args=args)


def render_portal(
    request, template: str, context: dict | None = None, status: int = 200, *, public=None, queries=("",)
):
    """A page in the request's portal chrome (its welcome line and links). `public`: the page is
    the same for every visitor without a session, given these values, for these query strings
    (ccass_portal.public_pages)."""
    portal = logon.PORTALS[portal_of(request)]
    context = {"portal": portal, **(context or {})}
    if public is not None:
        return render_public(request, template, context, vary=public, queries=queries, status=status)
    return render(request, template, context, status=status)


# A page answers GET, HEAD (GET's answer without its body, as HTTP requires: docs/security.md,
# "Accessibility on phones and screen readers") and its form's POST; anything else is 405.
page_methods = require_http_methods(["GET", "HEAD", "POST"])


def logon_page(view):
    """Credentials pages: POST bodies stay out of error reports, CSRF is checked,
    nothing is cached, and only GET (HEAD) and POST are answered."""
    return page_methods(sensitive_post_parameters()(csrf_protect(never_cache(view))))


def strong_session_required(view):
    """A full 2FA (or, before decommissioning, smartcard) session for this portal (docs/security.md, check 26)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        portal = logon.PORTALS[portal_of(request)]
        if not logon.is_strongly_authenticated(request):
            return redirect(url(request, "login"))
        if not portal.allows(request.user):
            return render_portal(request, "accounts/refused.html", {"message": portal.refusal}, status=403)
        return view(request, *args, **kwargs)

    return never_cache(wrapped)
