"""The Terminal landing page keeps its rendered options per worker (issue 19: `/` per worker-CPU-second,
docs/benchmarks.md "A lighter web worker"): what it keeps must follow each visitor's language and the
smartcard decommissioning date (test_foundation.py), never the previous visitor's."""

from __future__ import annotations

import pytest
from django.test import Client

ENGLISH = "Login with OTP - Online Functions"
CHINESE = "以一次性密碼登入 - 網上功能"


def visitor(language: str | None = None) -> Client:
    client = Client()
    if language:
        client.cookies["django_language"] = language
    return client


@pytest.mark.django_db
@pytest.mark.embedded
def test_each_visitor_gets_the_landing_page_in_their_own_language():
    english, chinese = visitor(), visitor("zh-hant")
    first = english.get("/").content.decode()
    second = chinese.get("/").content.decode()
    third = english.get("/").content.decode()
    assert ENGLISH in first and CHINESE not in first
    assert CHINESE in second and ENGLISH not in second
    assert ENGLISH in third and CHINESE not in third
    # The page's own parts still come from this request: a fresh CSRF token in the language switch.
    assert english.get("/").content.decode().count('name="csrfmiddlewaretoken"') == 1
