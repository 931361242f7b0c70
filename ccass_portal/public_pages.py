"""Public pages: what a visitor without a session sees, rendered once per worker (issue 19).

The Terminal landing page, /sso/ and User Login are the same for every visitor of a language
who holds no session, except for the CSRF token of their forms (the language switch, the logon
form). Each worker renders such a page once with a placeholder where the token goes and then
answers every such visitor with the page and the visitor's own token: Django's masked token,
exactly as {% csrf_token %} writes it, so the CSRF check is unchanged (docs/security.md,
"Public pages rendered once per worker").

A request with a session cookie or a message cookie is rendered as usual: it may be somebody's
page (the user bar, a message). So is every request in demo mode, whose banner shows the demo
clock. A page is kept only for the query strings its view names, so a stranger cannot fill the
memory with pages for made-up URLs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

# Never a token (64 letters and digits), never escaped, and written nowhere else on a page.
TOKEN_PLACEHOLDER = "csrf-token-of-the-visitor-goes-here"
MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage

_pages: dict[tuple, str] = {}


def _for_anyone(request, queries: Iterable[str]) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not settings.PORTAL_DEMO
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and MESSAGES_COOKIE not in request.COOKIES
        and request.META.get("QUERY_STRING", "") in queries
    )


def render_public(
    request,
    template: str,
    context: Mapping,
    *,
    vary: tuple = (),
    queries: Iterable[str] = ("",),
    status: int = 200,
) -> HttpResponse:
    """`template` with `context`, from the worker's copy when the visitor holds no session.
    `vary`: every value the page depends on besides the template, the language and the URL."""
    if not _for_anyone(request, queries):
        return render(request, template, context, status=status)
    key = (template, get_language(), request.get_full_path(), *vary)
    page = _pages.get(key)
    if page is None:
        page = render_to_string(template, {**context, "csrf_token": TOKEN_PLACEHOLDER}, request)
        _pages[key] = page
    response = HttpResponse(page.replace(TOKEN_PLACEHOLDER, get_token(request)), status=status)
    patch_vary_headers(response, ("Cookie",))  # as a rendered page's: it carries a token
    return response


def forget_pages(**kwargs) -> None:
    """Tests change settings a page depends on (languages, templates, the demo switch)."""
    _pages.clear()


setting_changed.connect(forget_pages)
