"""The native stack behind nginx (issue 15 item 1; deploy/nginx/; docs/security.md, "Reverse
proxy"): slow clients, static files and the client's address, on real gunicorn and nginx."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.stack

SLOW_CLIENTS = 10
REQUEST = (
    b"GET /sso/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: one-byte-a-second\r\nX-Padding: " + b"x" * 40 + b"\r\n\r\n"
)


def csrf_pair(base_url: str) -> tuple[str, str]:
    """The CSRF cookie and the form's token, as a browser gets them from "User Login"."""
    with urllib.request.urlopen(f"{base_url}/login/", timeout=10) as response:
        cookie = re.search(r"csrftoken=([^;]+)", response.headers["Set-Cookie"]).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)
    return cookie, token


class SlowClients:
    """`count` connections each sending a request one byte a second (a slowloris), until stopped
    or until the server closes them. Bounded: every socket has a timeout and is closed at the end."""

    def __init__(self, port: int, count: int = SLOW_CLIENTS):
        self.socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        self.closed_after: dict[int, float] = {}
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self) -> None:
        for n in range(len(REQUEST) - 1):  # never the last byte: the request never completes
            for i, sock in enumerate(self.socks):
                if i in self.closed_after:
                    continue
                try:
                    sock.sendall(REQUEST[n : n + 1])
                except OSError:
                    self.closed_after[i] = time.monotonic() - self.started
            if self.stop.wait(1.0) or len(self.closed_after) == len(self.socks):
                return

    def wait_closed_by_server(self, timeout: float) -> None:
        """Until the server has closed every connection (a read gives EOF or a 408), at most `timeout` s."""
        deadline = time.monotonic() + timeout
        for i, sock in enumerate(self.socks):
            while i not in self.closed_after and time.monotonic() < deadline:
                sock.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
                try:
                    data = sock.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    data = b""
                if not data or data.startswith(b"HTTP/1.1 408"):
                    self.closed_after[i] = time.monotonic() - self.started

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.socks:
            sock.close()


def timed_get(port: int, path: str, timeout: float = 1.0) -> tuple[int, float]:
    """A normal client: (status, seconds), or (0, seconds) when it had no answer within `timeout`."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except TimeoutError:
        return 0, time.monotonic() - started
    finally:
        conn.close()


@pytest.fixture
def slow_clients():
    made: list[SlowClients] = []

    def start(port: int) -> SlowClients:
        made.append(SlowClients(port))
        time.sleep(2.0)  # every slow connection accepted and dripping
        return made[-1]

    yield start
    for clients in made:
        clients.close()


def test_ten_slow_clients_freeze_a_gunicorn_reached_directly(native_stack, slow_clients):
    """Why the proxy is there: without it the same ten connections hold both sync workers of an
    instance, and a normal request waits (this is how the test below failed before nginx)."""
    web = native_stack.start_web("web-bare")
    try:
        slow_clients(web.service.port)
        status, seconds = timed_get(web.service.port, "/sso/", timeout=2.0)
        assert status == 0 and seconds >= 2.0
    finally:
        native_stack.stop(web.service)


def test_behind_nginx_ten_slow_clients_do_not_delay_anyone_and_are_cut_off(native_stack, slow_clients):
    port = native_stack.proxy.service.port
    clients = slow_clients(port)
    for path in ("/sso/", "/"):
        status, seconds = timed_get(port, path, timeout=1.0)
        assert status == 200 and seconds < 1.0, (path, status, seconds)
    # client_header_timeout 10s (deploy/nginx/proxy.conf): the slow ones are closed, not kept.
    clients.wait_closed_by_server(timeout=14.0)
    assert len(clients.closed_after) == SLOW_CLIENTS and max(clients.closed_after.values()) < 14.0


def test_nginx_serves_the_static_files_itself(native_stack):
    port = native_stack.proxy.service.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/login/")
    page = conn.getresponse().read().decode()
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page).group(1)
    conn.request("GET", stylesheet)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 200 and body
    # nginx's header (deploy/nginx/static.conf), not whitenoise's "max-age=315360000, public, immutable".
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.getheader("Server") == "nginx"


def test_oversized_bodies_and_headers_never_reach_gunicorn(native_stack):
    port = native_stack.proxy.service.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(
        "POST", "/login/", body=b"x" * (300 * 1024), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert conn.getresponse().status == 413
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/sso/", headers={"X-Big": "y" * 9000})
    assert conn.getresponse().status in (400, 431)
    conn.close()


def test_the_audit_trail_names_the_client_nginx_saw_not_a_forged_header(native_stack):
    """An attacker writes X-Forwarded-For to blame someone else; the portal records the address
    nginx saw (the client here binds 127.0.0.5; nginx itself reaches gunicorn from 127.0.0.1)."""
    base = native_stack.proxy.url
    cookie, token = csrf_pair(base)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "user_id": "HKABC2X1", "password": "Wrong(Password)777"}
    )
    conn = http.client.HTTPConnection(
        "127.0.0.1", native_stack.proxy.service.port, timeout=10, source_address=("127.0.0.5", 0)
    )
    conn.request(
        "POST",
        "/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "X-Forwarded-For": "203.0.113.9",
            "X-Real-IP": "203.0.113.9",
            "Referer": f"{base}/login/",
        },
    )
    assert conn.getresponse().status == 200
    conn.close()
    rows = native_stack.sql(
        "SELECT host(source_ip) FROM accounts_auditevent WHERE kind = 'logon_failure' AND subject_label = %s",
        ["HKABC2X1"],
    )
    assert rows == [("127.0.0.5",)]
