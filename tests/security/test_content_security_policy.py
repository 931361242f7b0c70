"""The Content-Security-Policy header (docs/security.md, check 29): django-csp's policy, built once
per worker by ccass_portal.middleware.ContentSecurityPolicyMiddleware (issue 19), on every answer;
a changed policy is sent at once, and a page that used a nonce gets django-csp's own header."""

from __future__ import annotations

import pytest
from csp.constants import NONCE, NONE, SELF
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import Client, RequestFactory

from ccass_portal.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/login/", "/sso/", "/dms/login/", "/no-such-page/"])
def test_every_answer_carries_django_csps_policy(path):
    response = Client().get(path)
    assert response["Content-Security-Policy"] == build_policy()
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_a_changed_policy_is_sent_at_once(settings):
    Client().get("/")  # the policy is built and kept
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [NONE], "img-src": [SELF]}}
    header = Client().get("/")["Content-Security-Policy"]
    assert header == build_policy() and sorted(header.split("; ")) == ["default-src 'none'", "img-src 'self'"]
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF]}}
    assert Client().get("/")["Content-Security-Policy-Report-Only"] == "default-src 'self'"


def test_a_page_that_used_a_nonce_gets_it_in_its_header(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": [SELF, NONCE]}}

    def page(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}"></script>')

    middleware = ContentSecurityPolicyMiddleware(page)
    request = RequestFactory().get("/")
    response = middleware(request)
    nonce = response.content.decode().split('nonce="')[1].split('"')[0]
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert f"script-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]
    plain = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("no script"))(RequestFactory().get("/"))
    assert "script-src 'self'" in plain["Content-Security-Policy"] and "nonce" not in plain["Content-Security-Policy"]
