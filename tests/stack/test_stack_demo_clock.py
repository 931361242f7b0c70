"""One demo clock across processes (issue 12 finding 8): a move made through one gunicorn holds in
the other at its very next request, so two workers never count failures on different times."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.stack


def csrf_pair(base_url: str) -> tuple[str, str]:
    """The CSRF cookie and a form's token, as a browser gets them from "User Login"."""
    with urllib.request.urlopen(f"{base_url}/login/", timeout=10) as response:
        cookie = re.search(r"csrftoken=([^;]+)", response.headers["Set-Cookie"]).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)
    return cookie, token


def post(base_url: str, path: str, cookie: str, token: str, **fields: str) -> int:
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
    request = urllib.request.Request(
        f"{base_url}{path}", data=body, headers={"Cookie": f"csrftoken={cookie}"}, method="POST"
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as answer:  # the 302 after a move
        return answer.code


def test_a_move_through_one_gunicorn_holds_in_the_other_at_the_next_request(native_stack):
    user_id = "B0123405"  # seeded, used by no other stack test
    first, second = (web.url for web in native_stack.webs)
    cookie, token = csrf_pair(first)
    try:
        for _ in range(4):  # the attacker's wrong passwords, all served by the second instance
            assert post(second, "/login/", cookie, token, user_id=user_id, password="Wrong(Password)12345") == 200
        # Every worker of the second instance has just read the clock (a page shows it), as under load.
        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(lambda _: urllib.request.urlopen(f"{second}/", timeout=10).status == 200, range(8)))
        assert post(first, "/demo/clock/", cookie, token, action="forward_31m") == 302  # the operator's move
        post(second, "/login/", cookie, token, user_id=user_id, password="Wrong(Password)12345")
        [(locked_at, failures)] = native_stack.sql(
            "SELECT locked_at, jsonb_array_length(logon_failures::jsonb) FROM accounts_user WHERE user_id = %s",
            [user_id],
        )
        assert locked_at is None and failures == 1  # the 4 earlier failures are 31 minutes old
    finally:
        post(first, "/demo/clock/", cookie, token, action="reset")
