"""Every URL of the project, as every kind of visitor: the expected answer, in one table (issue 6, item 4).

Routes come from the URL resolver: a new URL fails `test_every_route_is_classified` until
someone decides who may see it, here.
"""

from __future__ import annotations

import pytest

from dms.models import ChangeRequest
from dms.services import prepare_request
from tests.security.cast import ROLES
from tests.security.url_inventory import project_routes

A, H, U, X, M, C, O = ROLES  # noqa: E741  # anonymous, half-logged-in, business user, DA of another firm, maker, checker, operator
EVERYONE = set(ROLES)

PUBLIC = {
    "terminal:landing",
    "sso",
    "dms:landing",
    "demo-outbox",
    "demo-clock",
    "terminal:login",
    "dms:login",
    "backoffice:login",
    "terminal:reset",
    "dms:reset",
    "backoffice:reset",
    "terminal:smartcard",
    "dms:smartcard",
    "backoffice:smartcard",
}
# Steps of a logon or reset: only reachable by someone at that step, otherwise back to the start.
STEPS = {
    "otp",
    "setup",
    "register",
    "skip",
    "expired",
    "reset-otp",
    "reset-password",
    "reset-done",
    "passkey",
    "passkey-register",
}
# Passkey ceremonies (issue 18): JSON endpoints the page's script POSTs to; a GET is refused.
CEREMONY_ENDPOINTS = {
    f"{page}-{end}"
    for page in ("passkey", "passkey-register", "reset-passkey", "auth-settings-passkey")
    for end in ("begin", "complete", "cancel")
} - {"passkey-register-cancel"}
TERMINAL_ONLY = {"terminal:home", "terminal:function", "terminal:reports"}
TERMINAL_OBJECT_PAGES = {"terminal:report-download"}  # the sweep's firms have no reports: 404 even to their users
ANY_PORTAL_PAGES = {"success", "change-password", "auth-settings"}
DMS_FIRM_PAGES = {
    "dms:home",
    "dms:create",
    "dms:change-prompt",
    "dms:enquire-prompt",
    "dms:delete-prompt",
    "dms:requests",
    "dms:listing",
    "dms:reports",
    "dms:audit-report",
    "dms:readiness-report",
    "dms:dashboard",
}
DMS_OBJECT_PAGES = {"dms:change", "dms:enquire", "dms:delete", "dms:request"}
# A passkey checker's decision page (issue 18): the sweep's DAs hold no passkey, so it sends them to
# the request's own page; another firm's request is missing, as on that page.
DMS_PASSKEY_PAGES = {"dms:passkey-decide"}
BACKOFFICE_PAGES = {
    "backoffice:home",
    "backoffice:da3-add",
    "backoffice:da3-action",
    "backoffice:da3-assign",
    "backoffice:da4",
    "backoffice:scard1",
    "backoffice:processed",
    "backoffice:dashboard",
}


def expected(name: str, role: str) -> int:
    namespace, _, short = name.rpartition(":")
    if name in PUBLIC:
        return 200
    if name in ("backoffice:landing", "admin:login"):
        return 302
    if name == "set_language":
        return 302  # the language switch is a POST; a bare GET only redirects home
    if name == "admin:index":
        return 200 if role == O else 302
    if name == "admin:logout":
        return 405 if role == O else 302  # non-operators are sent to log in first
    if short == "logout" or short in CEREMONY_ENDPOINTS:
        return 405  # logout and the passkey ceremonies are POSTs
    if short in STEPS:
        return 200 if (name == "terminal:otp" and role == H) else 302
    if role in (A, H):
        return 302  # to the portal's User Login
    portal_of_role = {U: "terminal", X: "dms", M: "dms", C: "dms", O: "backoffice"}[role]
    if short == "auth-settings-passkey":  # Add a passkey: back to the settings without the step-up
        return 302 if portal_of_role == namespace else 403
    if name in TERMINAL_ONLY or (short in ANY_PORTAL_PAGES and namespace == "terminal"):
        return 200 if portal_of_role == "terminal" else 403
    if name in TERMINAL_OBJECT_PAGES:
        return 404 if portal_of_role == "terminal" else 403
    if name in DMS_FIRM_PAGES or (short in ANY_PORTAL_PAGES and namespace == "dms"):
        return 200 if portal_of_role == "dms" else 403
    if name in DMS_OBJECT_PAGES:
        if portal_of_role != "dms":
            return 403
        return 404 if role == X else 200  # the objects belong to firm A
    if name in DMS_PASSKEY_PAGES:
        if portal_of_role != "dms":
            return 403
        return 404 if role == X else 302
    if name in BACKOFFICE_PAGES or (short in ANY_PORTAL_PAGES and namespace == "backoffice"):
        return 200 if role == O else 403
    raise LookupError(name)


def test_every_route_is_classified():
    unclassified = []
    for route in project_routes():
        if not route.name:
            continue
        try:
            expected(route.name, A)
        except LookupError:
            unclassified.append(route.name)
    assert not unclassified, f"decide who may see these URLs in test_access_sweep.expected(): {unclassified}"


@pytest.mark.parametrize("role", ROLES)
def test_sec23_sec26_every_route_as_every_role(cast, role):
    maker, _ = cast.people[M]
    firm_a_request = prepare_request(maker=maker, kind=ChangeRequest.Kind.DELETE, subject_user_id="B0123401")
    values = {"user_id": "B0123401", "request_id": firm_a_request.pk, "slug": "delivery-instruction-di"}
    answers = {}
    cached = []
    client = cast.client(role)  # GETs change nothing, so one visitor walks every route
    for route in project_routes():
        if not route.name:
            continue
        response = client.get(route.url(**values))
        answers[route.name] = (response.status_code, expected(route.name, role))
        # A protected page shown is never stored by the browser or a proxy, so neither the back
        # button after logout nor a shared cache shows it again.
        if (
            response.status_code == 200
            and route.name not in PUBLIC
            and "no-store" not in response.get("Cache-Control", "")
        ):
            cached.append(route.name)
    wrong = {name: got_want for name, got_want in answers.items() if got_want[0] != got_want[1]}
    assert not wrong, f"{role}: (got, expected) {wrong}"
    assert not cached, f"{role}: protected pages without Cache-Control: no-store: {cached}"
