"""Fuzzing every form and every URL with a parameter (issue 6, item 2).

Hypothesis sends each route random strings, Unicode, huge and missing fields,
wrong methods and (separately) requests without a CSRF token, as every role.
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

from tests.security.conftest import ROLES
from tests.security.url_inventory import project_routes

FUZZ_STATS = {"cases": 0}

# Fields that legitimately change when random input is a failed logon or an expired session.
BOOKKEEPING = {
    "accounts.user": {"logon_failures", "otp_failures", "locked_at", "security_stamp", "last_login", "last_access_at"},
    "otp.emailotpdevice": {"token", "valid_until", "last_generated_timestamp", "attempt", "challenge_id", "sealed_token", "delivery"},
    "otp_email.emaildevice": {"token", "valid_until", "last_generated_timestamp", "throttling_failure_timestamp", "throttling_failure_count"},
}
# KeyedAttempts only counts (failed logons of IDs that name nobody, reset requests): counting is the rule.
IGNORED_MODELS = {
    "accounts.auditevent", "sessions.session", "admin.logentry", "contenttypes.contenttype", "ccass_portal.demomail",
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
    st.sampled_from(["", " ", "0", "-1", "B0123401", "b01234x1", "99/99/99", "31/02/24", "1e309", "NaN", "<script>x</script>",
                     "' OR 1=1 --", "\x00", "１２３４５６", "12345678", "123456", "A" * 5000, "9" * 100000]),
)


def fuzz_routes():
    return [r for r in project_routes() if r.name]


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_every_route_as_every_role(cast, role):
    routes = fuzz_routes()
    assert len(routes) > 20

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        route=st.sampled_from(routes),
        method=st.sampled_from(["get", "post", "post", "post", "put", "delete", "patch"]),
        values=st.dictionaries(st.sampled_from(["user_id", "pk", "slug", "request_id", "report"]), text, max_size=3),
        drop=st.sets(st.integers(0, 20), max_size=5),
        extra=st.dictionaries(text, text, max_size=3),
        fill=st.lists(text, min_size=20, max_size=20),
    )
    def check(route, method, values, drop, extra, fill):
        client = cast.client(role)
        url = route.url(**{k: re.sub(r"[/?#%\s]", "", v) or "x" for k, v in values.items()})
        page = client.get(url)
        names = sorted(set(FIELD_NAME.findall(page.content.decode(errors="replace"))) - {"csrfmiddlewaretoken"})
        data = {name: fill[i % len(fill)] for i, name in enumerate(names) if i not in drop}
        data.update({k: v for k, v in extra.items() if "\x00" not in k})
        before = business_snapshot()
        response = getattr(client, method)(url, data)
        FUZZ_STATS["cases"] += 1
        assert response.status_code < 500, (route.name, url, method, response.status_code)
        assert b"Traceback" not in response.content
        assert business_snapshot() == before, (route.name, method, data)

    check()


def test_fuzz_without_csrf_token_is_refused_and_changes_nothing(cast):
    from django.test import Client

    for route in fuzz_routes():
        client = Client(enforce_csrf_checks=True)
        before = business_snapshot()
        response = client.post(route.url(), {"user_id": "B0123401", "password": "x"})
        FUZZ_STATS["cases"] += 1
        assert response.status_code in (403, 404, 405), (route.name, response.status_code)
        assert business_snapshot() == before
