"""Public pages rendered once per worker (ccass_portal/public_pages.py, issue 19; docs/security.md,
"Public pages rendered once per worker"): a stranger's Terminal landing page, /sso/ and User Login
are the page Django would render, with the stranger's own CSRF token; a person with a session,
another language, another day and another health never get a page kept for someone else."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client

from accounts.logon import GENERIC_FAILURE
from ccass_portal import public_pages
from tests.factories import need
from tests.logon_helpers import comparable_page, strong_login
from tests.stack import start_redis

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PUBLIC = ["/", "/sso/", "/login/?service=online", "/login/?service=reports", "/login/", "/dms/login/"]
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
HEADERS = ("Content-Type", "Vary", "Cache-Control", "Content-Security-Policy", "X-Frame-Options")


@pytest.fixture(autouse=True)
def not_a_demo(settings):
    settings.PORTAL_DEMO = False  # the demo's banner shows its clock: demo pages are never kept
    settings.REDIS_URL = ""  # /sso/ without a queue unless a test starts one
    yield
    public_pages.forget_pages()


def tokens(html: str) -> set[str]:
    return set(TOKEN.findall(html))


def rendered_as_usual(path: str):
    """The page as Django renders it: a session cookie (naming no session) skips the kept page."""
    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "no-such-session"
    return client.get(path)


@pytest.mark.parametrize("path", PUBLIC)
def test_two_strangers_get_the_rendered_page_each_with_their_own_token(path):
    first, second = Client(), Client()
    a, b = first.get(path), second.get(path)
    assert len(public_pages._pages) == 1  # kept once, served twice
    usual = rendered_as_usual(path)
    page_a, page_b, page_usual = (r.content.decode() for r in (a, b, usual))
    assert a.status_code == b.status_code == usual.status_code == 200
    assert comparable_page(page_a) == comparable_page(page_b) == comparable_page(page_usual)
    assert tokens(page_a) and tokens(page_b) and tokens(page_a).isdisjoint(tokens(page_b))
    assert public_pages.TOKEN_PLACEHOLDER not in page_a
    # The stranger's secret (their CSRF cookie) is theirs alone, and the answer's headers are the usual ones.
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    for header in HEADERS:
        assert a.get(header) == usual.get(header), header


def test_a_kept_pages_token_passes_the_csrf_check_for_its_visitor_only():
    victim, attacker = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    victim.get("/login/?service=online")
    page = attacker.get("/login/?service=online").content.decode()
    (attackers_token,) = tokens(page)
    wrong = {"user_id": "NOBODY01", "password": "not-the-password"}
    # The token works with its own cookie: the logon is checked and refused, not the request.
    answer = attacker.post("/login/?service=online", {**wrong, "csrfmiddlewaretoken": attackers_token})
    assert answer.status_code == 200 and str(GENERIC_FAILURE) in answer.content.decode()
    # The same page's token is worth nothing with another visitor's cookie.
    assert victim.post("/login/?service=online", {**wrong, "csrfmiddlewaretoken": attackers_token}).status_code == 403


def test_a_person_with_a_session_gets_their_own_page_never_the_kept_one(app_user):
    user, _ = app_user
    Client().get("/")  # a stranger's landing page is kept
    person = strong_login(Client(), user)
    page = person.get("/").content.decode()
    assert user.user_id in page and "Logout" in page
    later_stranger = Client().get("/").content.decode()
    assert user.user_id not in later_stranger and "Logout" not in later_stranger


def test_the_language_and_the_smartcard_day_are_part_of_the_kept_page():
    english = Client().get("/").content.decode()
    chinese_visitor = Client()
    chinese_visitor.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    chinese = chinese_visitor.get("/").content.decode()
    assert '<html lang="zh-Hant">' in chinese and '<html lang="en">' in english and "Login with Smartcard" in english
    after = django_settings.PORTAL_SMARTCARD_DECOMMISSION_DATE + timedelta(days=1)
    with time_machine.travel(datetime.combine(after, time(10), tzinfo=HONG_KONG), tick=False):
        assert "Login with Smartcard" not in Client().get("/").content.decode()
    assert "Login with Smartcard" in Client().get("/").content.decode()


def test_a_made_up_query_string_is_answered_but_never_kept():
    Client().get("/login/?service=online")
    kept = len(public_pages._pages)
    for junk in range(20):
        response = Client().get(f"/login/?service=online&junk={junk}")
        assert response.status_code == 200 and f"junk={junk}" in response.content.decode()  # the language switch's next
    assert len(public_pages._pages) == kept


@pytest.fixture
def redis():
    """A redis-server of this test's own, which the test stops (a missing one fails, never skips)."""
    need(os.path.exists(shutil.which("redis-server") or "/usr/bin/redis-server"), "redis-server (run `make test`)")
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


def test_sso_keeps_a_page_per_health_and_tells_an_outage_at_once(settings, redis):
    settings.REDIS_URL = redis.url
    healthy = Client().get("/sso/")
    assert healthy.status_code == 200 and "NOT ANSWERING" not in healthy.content.decode()
    redis.stop()
    down = Client().get("/sso/")
    assert down.status_code == 503 and "NOT ANSWERING" in down.content.decode()
    assert len(public_pages._pages) == 2
