"""HTML answers compressed when the browser accepts gzip, with Django's BREACH mitigation; HEAD
answered wherever GET is, over every GET route the resolver knows (issue 20, item 6)."""

from __future__ import annotations

import gzip
import re
from datetime import date

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from terminal import overnight_reports
from tests.a11y.tour import people
from tests.factories import GOOD_PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(user, app, prefix: str) -> Client:
    """The real logon: User ID and password, then the app's code."""
    client = Client()
    assert client.post(f"{prefix}/login/", {"user_id": user.user_id, "password": GOOD_PASSWORD}).status_code == 302
    response = client.post(f"{prefix}/login/otp/", {"otp": app.code()})
    assert response["Location"].endswith("/login/success/"), response
    return client


def test_html_is_gzipped_when_the_browser_accepts_it(participant):
    who = people(participant)
    da = logged_in(*who.maker, "/dms")
    page = da.get("/dms/listings/user-profiles/", headers={"accept-encoding": "gzip, deflate, br"})
    assert page.status_code == 200
    assert page["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page["Vary"]
    assert page.has_header("Content-Security-Policy")  # the headers survive compression
    html = gzip.decompress(page.content).decode()
    assert "B0123401" in html and 'id="user-profile-listing"' in html
    # BREACH: Django 5.2 pads each compressed answer with a random-length file name in the gzip
    # header ("Heal the Breach"), so the length no longer follows a guessed secret byte by byte.
    flags = page.content[3]
    assert flags & 0x08, "no FNAME padding in the gzip header"
    sizes = {len(da.get("/dms/home/", headers={"accept-encoding": "gzip"}).content) for _ in range(8)}
    assert len(sizes) > 1, sizes
    # a browser that does not say gzip gets plain HTML
    plain = da.get("/dms/home/")
    assert not plain.has_header("Content-Encoding") and plain.content.startswith(b"<!DOCTYPE html>")


SAMPLES = {"slug": "general-enquiries", "user_id": "B0123401"}


def get_routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every route of the portal's own URLconf (the Django admin is Django's), with sample arguments."""
    routes = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith("admin/"):
            continue
        if isinstance(entry, URLResolver):
            routes += get_routes(entry, route)
        elif isinstance(entry, URLPattern):
            routes.append(route)
    return routes


def test_head_is_answered_wherever_get_is(participant):
    who = people(participant)
    report = overnight_reports.generate_reports(participant=participant, business_date=date(2026, 11, 27))[0]
    samples = {**SAMPLES, "report_id": str(report.pk), "request_id": str(who.pending.pk)}
    clients = {
        "anonymous": Client(),
        "terminal": logged_in(*who.user, ""),
        "dms": logged_in(*who.maker, "/dms"),
        "backoffice": logged_in(*who.operator, "/backoffice"),
    }
    routes = get_routes()
    assert len(routes) > 40, routes
    # pages that end a session or a logon attempt come last, so the sessions serve every other page
    routes.sort(key=lambda r: bool(re.search(r"login|logout|reset|password", r)))
    answered = {name: 0 for name in clients}
    refused = {}
    for route in routes:
        url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: samples[m.group(1)], route)
        for name, client in clients.items():
            head = client.head(url)
            get = client.get(url)
            if (head.status_code, head.get("Location")) != (get.status_code, get.get("Location")):
                refused[f"{name} {url}"] = (head.status_code, get.status_code)
            assert head.content == b""
            answered[name] += get.status_code == 200
    assert not refused, refused
    # the signed-in clients really reached their pages (not only redirects to the logon)
    assert answered["terminal"] >= 5 and answered["dms"] >= 12 and answered["backoffice"] >= 6, answered
