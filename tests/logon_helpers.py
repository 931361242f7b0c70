"""Driving the real logon screens with Django's test client."""

from __future__ import annotations

import re

from django.core import mail

OTP_BODY = re.compile(r"^One Time Password \(OTP\) for CCASS: (\d{8})$")


def otp_mails(to: str | None = None) -> list:
    return [m for m in mail.outbox if to is None or to in m.to]


def last_email_otp(to: str | None = None) -> str:
    messages = otp_mails(to)
    assert messages, "no OTP e-mail was sent"
    match = OTP_BODY.match(messages[-1].body.strip())
    assert match, f"unexpected OTP mail body: {messages[-1].body!r}"
    return match.group(1)


def post(client, url, data, on_commit=None, **extra):
    """POST; with `on_commit` (django_capture_on_commit_callbacks), run what the request
    queued on commit, as a real transaction commit would."""
    if on_commit is None:
        return client.post(url, data, **extra)
    with on_commit(execute=True):
        return client.post(url, data, **extra)


def password_step(client, user_id, password, prefix="", on_commit=None, service="online"):
    query = f"?service={service}" if not prefix else ""
    return post(client, f"{prefix}/login/{query}", {"user_id": user_id, "password": password}, on_commit)


def app_logon(client, user_id, password, app, prefix=""):
    response = password_step(client, user_id, password, prefix)
    assert response.status_code == 302 and response["Location"] == f"{prefix}/login/otp/", response
    return client.post(f"{prefix}/login/otp/", {"otp": app.code()})


def email_logon(client, user_id, password, on_commit, prefix="", to=None):
    response = password_step(client, user_id, password, prefix, on_commit)
    assert response.status_code == 302 and response["Location"] == f"{prefix}/login/otp/", response
    return client.post(f"{prefix}/login/otp/", {"otp": last_email_otp(to)})


def is_logged_in(client, prefix="") -> bool:
    home = "/dms/home/" if prefix == "/dms" else "/terminal/"
    return client.get(home).status_code == 200


def strong_login(client, user, device=None, method="2fa", service="online"):
    """A full session without driving the screens (for sweeps and fuzzing; the screens
    themselves are proved in tests/accounts/test_logon_flow.py). The session is made by the real
    accounts.logon.complete_logon, the one place a person is logged in, so a change in what a
    logged-in session holds reaches every test that uses this."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from accounts import logon

    request = RequestFactory().post("/login/otp/")  # as the last logon step arrives, after the
    request.user = AnonymousUser()  # middleware (django_otp.login needs request.user)
    request.session = (
        client.session if client.session.session_key else import_module(settings.SESSION_ENGINE).SessionStore()
    )
    assert logon.complete_logon(request, user, device=device, method=method, service=service), f"{user} is locked"
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return client


def comparable_page(html: str, typed: str = "") -> str:
    """A page with what must differ between two requests taken out: CSRF tokens,
    the clock shown on the page, and the User ID the person typed."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r"\d\d-[A-Z][a-z]{2}-\d\d \d\d:\d\d(:\d\d)?", "<time>", html)
    html = re.sub(r'datetime="[^"]+"', "", html)
    return html.replace(typed, "<ID>") if typed else html
