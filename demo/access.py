"""Who may use the demo's controls: the demo clock and the demo outbox (docs/decisions.md "Demo mode").

Moving the clock ages out failed logons and expires codes; the outbox shows every e-mail OTP. So
in a demo that others can reach, only the person running it may use them: a browser on the demo's
own machine (a loopback client that no proxy forwarded), or an HKEX operator signed in with 2FA
(the demo operator, whose password `seed_demo` makes and prints at install). Everyone else gets 403.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

# A proxy on the demo's own machine makes every client look like loopback; its forwarding
# headers say the request came from elsewhere. (No header is trusted to grant access.)
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def from_operators_machine(request) -> bool:
    """The client is this machine itself, not something a local proxy forwarded."""
    if any(header in request.META for header in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def signed_in_operator(request) -> bool:
    """An HKEX operator with a full 2FA session (a password alone is not enough)."""
    from accounts import logon

    user = getattr(request, "user", None)
    return bool(
        user is not None and user.is_authenticated and user.is_operator and logon.is_strongly_authenticated(request)
    )


def may_use_demo_controls(request) -> bool:
    return settings.PORTAL_DEMO and (from_operators_machine(request) or signed_in_operator(request))
