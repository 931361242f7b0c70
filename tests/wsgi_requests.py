"""Raw requests through the portal's WSGI handler (ccass_portal/wsgi.py), as gunicorn hands them over.

Django's test client builds well-formed requests and turns an exception into a 500 of its own; a
malformed request is better sent as a bare WSGI environ, so that an exception escaping Django (what
gunicorn answers with its bare "Internal Server Error") is seen as such.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass, field

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from ccass_portal.http import PortalWSGIHandler


class EscapedDjango(AssertionError):
    """An exception left Django: gunicorn would answer its bare "Internal Server Error"."""


@dataclass
class RawResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes
    cookies: list[str] = field(default_factory=list)

    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def raw_request(
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    environ: dict | None = None,
) -> RawResponse:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    for name, value in (headers or {}).items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    env.update(environ or {})
    started: dict = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = response_headers

    # As Django's test client does: the test's connection (and its transaction) outlives the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        try:
            result = PortalWSGIHandler()(env, start_response)
            content = b"".join(result)
            result.close()
        except Exception as exc:  # what gunicorn would turn into its bare 500
            raise EscapedDjango(f"{method} {path}: {exc!r} escaped Django") from exc
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    headers_out = {}
    cookies = []
    for name, value in started["headers"]:
        if name.lower() == "set-cookie":
            cookies.append(value)
        headers_out[name.lower()] = value
    return RawResponse(started["status"], headers_out, content, cookies)


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_pair(path: str = "/login/") -> tuple[str, str]:
    """A CSRF cookie and the form token that goes with it, as a browser holds them after a GET."""
    client = Client()
    page = client.get(path)
    return client.cookies["csrftoken"].value, CSRF_INPUT.search(page.content.decode()).group(1)
