"""Fuzzing every form and every URL with a parameter (issue 6, item 2).

Every route is first visited as every role (GET and POST, hostile values in every
field); then hypothesis sends random routes random strings, Unicode, huge and
missing fields and wrong methods. Separately, every route is POSTed without a
CSRF token, anonymously and as a DA maker, and must meet the CSRF check's 403.
Whatever it sends: no 500, no traceback, and no change to any business record
(profiles, credentials, devices, firms, DMS requests). Failed-logon bookkeeping
(audit rows, lockout counters) is allowed to move: counting is the rule.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from django.apps import apps
from django.core import serializers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from dms.models import ChangeRequest
from dms.services import prepare_request
from tests.security.cast import ROLES
from tests.security.url_inventory import project_routes

FUZZ_STATS = {"cases": 0}

# Fields that legitimately change when random input is a failed logon or an expired session.
BOOKKEEPING = {
    "accounts.user": {"logon_failures", "otp_failures", "locked_at", "security_stamp", "last_login", "last_access_at"},
    "otp.emailotpdevice": {
        "token",
        "valid_until",
        "last_generated_timestamp",
        "attempt",
        "challenge_id",
        "sealed_token",
        "delivery",
    },
    # django-otp counts a wrong app code on the device too (its throttle factor is 0: no delay).
    "otp_totp.totpdevice": {"throttling_failure_timestamp", "throttling_failure_count"},
    "otp_email.emaildevice": {
        "token",
        "valid_until",
        "last_generated_timestamp",
        "throttling_failure_timestamp",
        "throttling_failure_count",
    },
}
# KeyedAttempts only counts (failed logons of IDs that name nobody, reset requests): counting is the rule.
IGNORED_MODELS = {
    "accounts.auditevent",
    "sessions.session",
    "admin.logentry",
    "contenttypes.contenttype",
    "ccass_portal.demomail",
    "accounts.keyedattempts",
}


def business_snapshot() -> str:
    digest = hashlib.sha256()
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in IGNORED_MODELS or label.startswith("auth."):
            continue
        manager = getattr(model, "all_objects", model._default_manager)
        rows = serializers.serialize("python", manager.order_by("pk"))
        for row in rows:
            fields = {k: v for k, v in row["fields"].items() if k not in BOOKKEEPING.get(label, set())}
            digest.update(repr((label, row["pk"], sorted(fields.items(), key=lambda kv: kv[0]))).encode())
    return digest.hexdigest()


FIELD_NAME = re.compile(r'name="([^"]+)"')
text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "B0123401",
            "b01234x1",
            "99/99/99",
            "31/02/24",
            "1e309",
            "NaN",
            "<script>x</script>",
            "' OR 1=1 --",
            "\x00",
            "１２３４５６",
            "12345678",
            "123456",
            "A" * 5000,
            "9" * 100000,
        ]
    ),
)


def fuzz_routes():
    return [r for r in project_routes() if r.name]


def hostile_visit(client, url: str, method: str, fill: list[str], drop=(), extra=None) -> None:
    """GET the page for its form fields, send `method` with them filled from `fill` (less the
    indexes in `drop`, plus `extra`): no 500, no traceback, no business record changed."""
    page = client.get(url)
    names = sorted(set(FIELD_NAME.findall(page.content.decode(errors="replace"))) - {"csrfmiddlewaretoken"})
    data = {name: fill[i % len(fill)] for i, name in enumerate(names) if i not in drop}
    data.update({k: v for k, v in (extra or {}).items() if "\x00" not in k})
    before = business_snapshot()
    response = getattr(client, method)(url, data)
    FUZZ_STATS["cases"] += 1
    assert response.status_code < 500, (url, method, response.status_code)
    assert b"Traceback" not in response.content
    assert business_snapshot() == before, (url, method, data)


def forget_failed_logons() -> None:
    """Each case starts with nobody locked: hostile input to a logon form counts failures against
    the cast's User IDs (as it should), and a locked person cannot be logged in for the next case."""
    User.all_objects.update(logon_failures=[], otp_failures=0, locked_at=None)


HOSTILE = ["' OR 1=1 --", "A" * 5000, "１２３４５６", "<script>x</script>", "", "31/02/24", "B0123401", "9" * 100000]


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_every_route_as_every_role(cast, role):
    """First every route, as this role, with real URL values (so object pages are reached) and
    every method: nothing is left to chance. Then hypothesis, on random routes and values."""
    routes = fuzz_routes()
    assert len(routes) > 20
    maker, _ = cast.people["DA maker"]
    cr = prepare_request(maker=maker, kind=ChangeRequest.Kind.DELETE, subject_user_id="B0123401")
    real = {"user_id": "B0123401", "request_id": cr.pk, "slug": "delivery-instruction-di", "report_id": 1}
    visited = set()
    for route in routes:
        forget_failed_logons()
        client = cast.client(role)  # a GET changes nothing, so the POST can follow in the same session
        for method in ("get", "post"):  # other methods: require_http_methods, and hypothesis below
            hostile_visit(client, route.url(**real), method, HOSTILE)
        visited.add(route.name)
    assert visited == {route.name for route in routes}

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        route=st.sampled_from(routes),
        method=st.sampled_from(["get", "post", "post", "post", "put", "delete", "patch"]),
        values=st.dictionaries(st.sampled_from(["user_id", "pk", "slug", "request_id", "report_id"]), text, max_size=3),
        drop=st.sets(st.integers(0, 20), max_size=5),
        extra=st.dictionaries(text, text, max_size=3),
        fill=st.lists(text, min_size=20, max_size=20),
    )
    def check(route, method, values, drop, extra, fill):
        forget_failed_logons()
        url = route.url(**{k: re.sub(r"[/?#%\s]", "", v) or "x" for k, v in values.items()})
        hostile_visit(cast.client(role), url, method, fill, drop, extra)

    check()


@pytest.mark.parametrize("who", ["anonymous", "DA maker"])
def test_sec19_every_post_without_the_csrf_token_is_refused_by_the_csrf_check(cast, who, caplog):
    """Every route, POSTed without the token by a browser holding the CSRF cookie (a cross-site
    form): 403 from Django's CSRF check itself, logged by django.security.csrf, and nothing
    changed. Not 404 or 405: a csrf_exempt view that answers 404 to this visitor could still
    act for another, so only the CSRF refusal counts."""
    maker, _ = cast.people["DA maker"]
    cr = prepare_request(maker=maker, kind=ChangeRequest.Kind.DELETE, subject_user_id="B0123401")
    real = {"user_id": "B0123401", "request_id": cr.pk, "slug": "delivery-instruction-di", "report_id": 1}
    for route in fuzz_routes():
        client = cast.client(who, enforce_csrf_checks=True)
        client.get("/login/")  # the CSRF cookie, as the victim's browser holds it
        assert "csrftoken" in client.cookies
        caplog.clear()
        before = business_snapshot()
        response = client.post(route.url(**real), {"user_id": "B0123401", "password": "x", "action": "confirm"})
        FUZZ_STATS["cases"] += 1
        refused = [r for r in caplog.records if r.name == "django.security.csrf"]
        assert response.status_code == 403 and refused, (route.name, response.status_code)
        assert business_snapshot() == before, route.name
