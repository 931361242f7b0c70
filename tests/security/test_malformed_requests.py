"""Malformed requests across the logon, reset and OTP endpoints (issue 15, item 8; docs/operations.md).

Each request is sent as gunicorn hands it to Django (tests/wsgi_requests.py): malformed headers,
bodies and charsets, odd methods, huge fields, too many fields, bad and poisoned cookies, missing or
foreign CSRF tokens, from a stranger and from people part-way through a logon or a reset. Whatever
arrives, the portal answers below 500 and nothing escapes Django. `make test` sends a miniature
(PORTAL_MALFORMED_REQUESTS, 300 by default); the issue's full run is 2,000:

    PORTAL_MALFORMED_REQUESTS=2000 .venv/bin/python -m tests.run --no-static tests/security/test_malformed_requests.py
"""

from __future__ import annotations

import os
import random
from collections import Counter
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import password_step
from tests.wsgi_requests import csrf_pair, raw_request

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]  # PostgreSQL and SQLite

REQUESTS = int(os.environ.get("PORTAL_MALFORMED_REQUESTS", "300"))
SEED = int(os.environ.get("PORTAL_MALFORMED_SEED", "15"))

ENDPOINTS = [
    "/login/",
    "/login/otp/",
    "/login/setup/",
    "/login/setup/register/",
    "/login/setup/skip/",
    "/login/expired/",
    "/login/success/",
    "/reset/",
    "/reset/otp/",
    "/reset/password/",
    "/reset/done/",
    "/dms/login/",
    "/dms/login/otp/",
    "/dms/reset/",
    "/dms/reset/otp/",
    "/backoffice/login/",
    "/backoffice/login/otp/",
    "/i18n/setlang/",
    "/sso/",
    "/",
]
FIELDS = ["user_id", "password", "otp", "action", "new_password1", "new_password2", "language", "next", "service"]
NASTY = [
    "",
    " ",
    "\x00",
    "B0123402\x00",
    "\x00" * 40,
    "A" * 5000,
    "9" * 70000,
    "１２３４５６７８",
    "12345678",
    "123456",
    "b0123402",
    "B0123402",
    "request",
    "register",
    "skip",
    "zh-hant",
    "en",
    "xx",
    "//evil.example/",
    "http://evil.example",
    "' OR 1=1 --",
    "<script>x</script>",
    "\ud800",
    "😀" * 50,
    "%00",
    "%ff",
    "\r\nSet-Cookie: x=y",
    "-1",
    "1e309",
    "NaN",
    GOOD_PASSWORD,
]
METHODS = ["GET", "POST", "POST", "POST", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"]
CHARSETS = [
    "",
    "; charset=utf-8",
    "; charset=latin-1",
    "; charset=utf-16",
    "; charset=no-such",
    "; charset=\x00",
    "; charset=",
    "; charset=utf-8; charset=utf-16",
]
BAD_COOKIES = [
    "sessionid=abc\x00def",
    "sessionid=" + "x" * 5000,
    "sessionid=éééé",
    "sessionid=" + "A" * 32,
    "=;;=;",
    'a="b',
    "sessionid",
    "sessionid=;sessionid=\x00",
    "csrftoken=\x00",
    "csrftoken=" + "z" * 64,
    "django_language=\x00",
    "django_language=" + "x" * 500,
    "django_language=zh-hant",
    "\xff\xfe=1",
]
BAD_HEADERS = [
    {"Accept-Language": "*;q=x, zh-Hant;q=abc"},
    {"Accept-Language": "x" * 5000},
    {"Accept-Language": "\x00"},
    {"Host": "evil.example"},
    {"Host": "127.0.0.1:99999"},
    {"Host": ""},
    {"Host": "[::1"},
    {"X-Forwarded-For": "not-an-ip, \x00"},
    {"X-Forwarded-For": "1.2.3.4" * 1000},
    {"X-Forwarded-Proto": "\x00"},
    {"Referer": "\x00"},
    {"Origin": "null"},
    {"Origin": "http://evil.example"},
    {"User-Agent": "u" * 20000},
    {"X-Requested-With": "XMLHttpRequest"},
    {"Content-Encoding": "gzip"},
    {"Transfer-Encoding": "chunked"},
]


def form_body(rng: random.Random, fields: dict[str, str], charset: str) -> bytes:
    encoding = {"; charset=latin-1": "latin-1", "; charset=utf-16": "utf-16"}.get(charset, "utf-8")
    pairs = [
        (
            quote(k.encode("utf-8", "surrogatepass")),
            quote(v.encode(encoding, "surrogatepass") if encoding == "utf-8" else v.encode(encoding, "replace")),
        )
        for k, v in fields.items()
    ]
    if rng.random() < 0.1:
        pairs += [(f"f{i}", "x") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)]  # too many fields
    if rng.random() < 0.1:
        return (
            "&".join(f"{k}={v}" for k, v in pairs).encode()
            + b"&%ZZ=%E9%00&==&&"
            + bytes(rng.randrange(256) for _ in range(40))
        )
    return "&".join(f"{k}={v}" for k, v in pairs).encode()


def multipart_body(rng: random.Random, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = rng.choice(["b0undary", "", "x" * 80, "\x00", "b0undary"])
    parts = []
    for name, value in fields.items():
        disposition = rng.choice(
            [
                f'form-data; name="{name}"',
                f'form-data; name="{name}"; filename="../../etc/passwd"',
                "form-data",
                f"form-data; name*=UTF-8''{name}",
                "",
            ]
        )
        parts.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
            + value.encode("utf-8", "replace")
            + b"\r\n"
        )
    ending = rng.choice([f"--{boundary}--\r\n".encode(), b"", b"--\r\n", f"--{boundary}".encode()])
    return b"".join(parts) + ending, f"multipart/form-data; boundary={boundary}{rng.choice(CHARSETS)}"


def malformed_request(rng: random.Random, sessions: dict[str, str], csrf: tuple[str, str], foreign: tuple[str, str]):
    method = rng.choice(METHODS)
    path = rng.choice(ENDPOINTS)
    roll = rng.random()
    if roll < 0.08:
        path += rng.choice(["%00", "\x00", "..%2f..%2f", "x" * 3000, "\xff\xfe", ";jsessionid=1", "//"])
    query = rng.choice(
        [
            "",
            "",
            "service=online",
            "service=report",
            "service=\x00",
            "service=" + "A" * 5000,
            "next=//evil.example",
            "%ZZ",
            "a=%ff%fe",
            "a=1&a=2&a=3",
            "&&&==",
            "service=%00",
        ]
    )
    fields = {name: rng.choice(NASTY) for name in rng.sample(FIELDS, rng.randrange(0, len(FIELDS)))}
    cookie_token, form_token = csrf
    csrf_case = rng.choice(["valid"] * 6 + ["missing", "no-cookie", "wrong", "foreign"])
    if csrf_case in ("valid", "no-cookie"):
        fields["csrfmiddlewaretoken"] = form_token
    elif csrf_case == "wrong":
        fields["csrfmiddlewaretoken"] = rng.choice(["x", "\x00", "a" * 64, form_token[::-1]])
    elif csrf_case == "foreign":
        fields["csrfmiddlewaretoken"] = foreign[1]
    cookies = [] if csrf_case == "no-cookie" else [f"csrftoken={cookie_token}"]
    holder = rng.choice([*sessions, "stranger"])
    if holder != "stranger":
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={sessions[holder]}")
    if rng.random() < 0.25:
        cookies.append(rng.choice(BAD_COOKIES))
    headers = {"Cookie": "; ".join(cookies)}
    if rng.random() < 0.3:
        headers.update(rng.choice(BAD_HEADERS))

    kind = rng.choice(["form", "form", "form", "multipart", "json", "bytes", "none", "huge"])
    content_type = None
    body = b""
    if kind == "form":
        charset = rng.choice(CHARSETS)
        body, content_type = form_body(rng, fields, charset), "application/x-www-form-urlencoded" + charset
    elif kind == "multipart":
        body, content_type = multipart_body(rng, fields)
    elif kind == "json":
        body, content_type = (
            rng.choice([b'{"user_id": "B0123402"', b"[]", b"\x00", b'{"a":' * 1000]),
            "application/json",
        )
    elif kind == "bytes":
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        content_type = rng.choice(
            ["application/x-www-form-urlencoded", "text/plain", "\x00", "", "multipart/form-data"]
        )
    elif kind == "huge":
        size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
        body, content_type = b"user_id=" + b"A" * size, "application/x-www-form-urlencoded"
    if kind in ("json", "bytes", "none", "huge") and csrf_case == "valid":
        headers["X-CSRFToken"] = form_token  # past the CSRF check, so the view reads the body
    environ = {}
    if rng.random() < 0.05:
        environ["CONTENT_LENGTH"] = rng.choice(["-1", "abc", str(len(body) + 1000), "0", ""])
    return method, path, query, body, content_type, headers, environ


def people_part_way(email_user, app_user) -> dict[str, str]:
    """Session keys of people at each step the endpoints serve: at the OTP step (e-mail and app),
    and at the reset's OTP step."""
    keys = {}
    for name, user_id in (("email-otp", email_user.user_id), ("app-otp", app_user[0].user_id)):
        client = Client()
        assert password_step(client, user_id, GOOD_PASSWORD).status_code == 302
        keys[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    client = Client()
    assert client.post("/reset/", {"user_id": app_user[0].user_id})["Location"] == "/reset/otp/"
    keys["reset"] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


def test_malformed_requests_never_get_a_500(email_user, app_user):
    rng = random.Random(SEED)
    sessions = people_part_way(email_user, app_user)
    csrf, foreign = csrf_pair(), csrf_pair()
    statuses = Counter()
    failures = []
    for number in range(REQUESTS):
        method, path, query, body, content_type, headers, environ = malformed_request(rng, sessions, csrf, foreign)
        try:
            response = raw_request(
                method, path, query=query, body=body, content_type=content_type, headers=headers, environ=environ
            )
        except AssertionError as escaped:
            failures.append((number, method, path, query[:40], content_type, headers, "escaped", str(escaped)[:200]))
            continue
        statuses[response.status_code] += 1
        if response.status_code >= 500 or b"Traceback" in response.content:
            failures.append((number, method, path, query[:40], content_type, headers, response.status_code))
    print(f"malformed requests: {REQUESTS} sent, statuses {dict(sorted(statuses.items()))}")
    assert not failures, f"{len(failures)} of {REQUESTS} got a 500 or escaped Django:\n" + "\n".join(
        repr((f[0], f[1], f[2][:60], *f[3:]))[:400] for f in failures[:30]
    )


@pytest.mark.parametrize(
    "content_type, length",
    [
        ("application/x-www-form-urlencoded; charset=\x00", None),  # codecs.lookup raised ValueError: escaped Django
        ("multipart/form-data; boundary=b; charset=\x00", None),
        ("application/x-www-form-urlencoded", "abc"),  # the body's length parsed again, unguarded: a 500
        ("application/x-www-form-urlencoded", "-1"),
    ],
)
def test_headers_django_cannot_parse_get_an_answer(content_type, length):
    cookie, token = csrf_pair()
    environ = {} if length is None else {"CONTENT_LENGTH": length}
    response = raw_request(
        "POST",
        "/login/",
        body=f"csrfmiddlewaretoken={token}&user_id=B0123402".encode(),
        content_type=content_type,
        headers={"Cookie": f"csrftoken={cookie}"},
        environ=environ,
    )
    assert response.status_code < 500
