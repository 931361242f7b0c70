"""The portal's own error pages (issue 15, items 3 and 4; docs/operations.md).

Whatever a request carries (a poisoned session cookie, a form in another charset, no CSRF token),
the answer comes from the portal, in the person's language, with the right status; no exception
leaves Django (gunicorn would answer its bare English "Internal Server Error"), and the pages render
without the database, so they still answer while it is down.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from accounts.models import AuditEvent
from ccass_portal import errors
from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import is_logged_in, password_step, strong_login
from tests.wsgi_requests import csrf_pair, raw_request

COOKIE = settings.SESSION_COOKIE_NAME
PAGES = ["/", "/sso/", "/login/", "/login/otp/", "/reset/", "/dms/login/", "/backoffice/login/", "/terminal/"]
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hant"}


def error_page(content: bytes, status: int) -> bool:
    return f'data-error-page="{status}"'.encode() in content


# -- item 3: a session cookie outside Django's key alphabet is no session -------------------------

POISONED = [
    "abcdefgh\x00ijklmnopqrstuvwxyz012345",  # PostgreSQL refuses NUL in text: the lookup itself failed
    "\x00" * 32,
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",  # outside the alphabet (lower-case letters and digits)
    "short",
    "x" * 5000,
    "é" * 32,
]


@pytest.mark.postgres
@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("cookie", POISONED, ids=range(len(POISONED)))
def test_a_poisoned_session_cookie_is_no_session(postgres, path, cookie):
    expected = Client().get(path).status_code
    response = Client(raise_request_exception=False).get(path, HTTP_COOKIE=f"{COOKIE}={cookie}")
    assert response.status_code == expected < 500
    # The browser is told to drop the cookie, so it is not locked out of the site.
    assert response.cookies[COOKIE].value == ""


@pytest.mark.postgres
def test_a_stolen_key_with_a_nul_added_reaches_no_session_and_the_victim_keeps_hers(postgres, app_user):
    from otp.models import AuthenticatorDevice

    user, _ = app_user
    victim = strong_login(Client(), user, AuthenticatorDevice.objects.get(user=user))
    assert is_logged_in(victim)
    key = victim.cookies[COOKIE].value
    attacker = Client(raise_request_exception=False)
    for forged in (key + "\x00", key.upper(), key[:-1] + "\x00", key + "0"):
        response = attacker.get("/terminal/", HTTP_COOKIE=f"{COOKIE}={forged}")
        assert response.status_code == 302 and "/terminal/" not in response["Location"], forged
    assert is_logged_in(victim)


@pytest.mark.postgres
def test_a_logon_started_with_a_poisoned_cookie_works(postgres, app_user):
    user, app = app_user
    client = Client()
    client.cookies[COOKIE] = "abc\x00def"
    response = password_step(client, user.user_id, GOOD_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/login/otp/"
    assert client.post("/login/otp/", {"otp": app.code()}).status_code == 302
    assert is_logged_in(client)


# -- item 4: no request escapes Django; the portal's own pages -----------------------------------

FORM = "application/x-www-form-urlencoded"


@pytest.mark.django_db
@pytest.mark.embedded
@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "iso-8859-7"])
@pytest.mark.parametrize("path", ["/login/", "/login/otp/", "/reset/", "/dms/login/"])
def test_a_form_in_another_charset_gets_the_portals_400_and_changes_nothing(charset, path, email_user):
    cookie, token = csrf_pair()
    body = f"csrfmiddlewaretoken={token}&user_id={email_user.user_id}&password=Wrong%E9".encode()
    before = AuditEvent.objects.count()
    response = raw_request(
        "POST",
        path,
        body=body,
        content_type=f"{FORM}; charset={charset}",
        headers={"Cookie": f"csrftoken={cookie}", "Accept-Language": "zh-Hant"},
    )
    assert response.status_code == 400
    assert error_page(response.content, 400)
    assert "請求無效" in response.text()
    assert AuditEvent.objects.count() == before
    email_user.refresh_from_db()
    assert email_user.logon_failures == []


@pytest.mark.django_db
@pytest.mark.embedded
def test_a_post_without_a_csrf_token_gets_the_portals_403_in_the_persons_language():
    for language, words in (("en", "This page has expired"), ("zh-Hant", "此頁面已過期")):
        response = raw_request(
            "POST",
            "/login/",
            body=b"user_id=B0123401&password=x",
            content_type=FORM,
            headers={"Accept-Language": language},
        )
        assert response.status_code == 403
        assert error_page(response.content, 403)
        assert words in response.text()


@pytest.mark.django_db
@pytest.mark.embedded
def test_an_unknown_page_gets_the_portals_404():
    response = Client().get("/no-such-page/", **ZH)
    assert response.status_code == 404
    assert error_page(response.content, 404)
    assert "找不到" in response.content.decode()
    assert response["Content-Language"] == "zh-hant"


@pytest.mark.parametrize(
    "handler, status",
    [
        (lambda r: errors.bad_request(r, Exception()), 400),
        (lambda r: errors.permission_denied(r, Exception()), 403),
        (lambda r: errors.page_not_found(r, Exception()), 404),
        (errors.server_error, 500),
        (errors.csrf_failure, 403),
        (errors.service_busy, 503),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_every_error_page_renders_without_the_database(django_db_blocker, handler, status, language):
    request = RequestFactory().post(
        "/login/", {"x": "y"}, HTTP_ACCEPT_LANGUAGE=language, HTTP_COOKIE=f"{COOKIE}=abcdefghijklmnopqrstuvwxyz012345"
    )
    with django_db_blocker.block():  # any query, or even a connection, raises
        response = handler(request)
    assert response.status_code == status
    assert error_page(response.content, status)
    assert (b'<html lang="zh-Hant">' in response.content) == (language == "zh-hant")
