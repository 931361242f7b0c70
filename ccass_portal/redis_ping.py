"""Is Redis answering? PING over a plain socket, for the health check (`/sso/`).

The load balancers ask every web worker every few seconds. redis-py costs 5.7 MiB per worker to
import (issue 19, docs/benchmarks.md), and a worker that serves pages and TOTP or passkey logons has
no other use for it (kombu loads it when the worker first publishes an e-mail OTP). This speaks the
two commands the check needs (AUTH, PING) for `redis://` and `unix://` URLs; any other URL (TLS,
options in the query) goes through redis-py as before, rather than be half understood here.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote, urlsplit

_kept = threading.local()  # one connection per thread and URL: a check costs no handshake


def _command(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _reply(conn: socket.socket) -> bytes:
    """One simple-string or error reply line ("+PONG", "-NOAUTH ...")."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = conn.recv(256)
        if not chunk:
            raise ConnectionError("closed by Redis")
        data += chunk
        if len(data) > 4096:
            raise ConnectionError("not a Redis reply")
    return data[:-2]


def _connect(url: str, timeout: float) -> socket.socket:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(timeout)
        conn.connect(parts.path)
    else:
        conn = socket.create_connection((parts.hostname or "localhost", parts.port or 6379), timeout=timeout)
    conn.settimeout(timeout)
    if parts.password is not None:
        auth = (
            ("AUTH", unquote(parts.username), unquote(parts.password))
            if parts.username
            else ("AUTH", unquote(parts.password))
        )
        conn.sendall(_command(*auth))
        if _reply(conn) != b"+OK":
            conn.close()
            raise ConnectionError("Redis refused the password")
    return conn


@lru_cache(maxsize=4)
def _redis_py_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def _by_redis_py(url: str) -> bool:
    import redis

    try:
        return bool(_redis_py_client(url).ping())
    except redis.RedisError:
        return False


def _pong(url: str, conn: socket.socket) -> bool:
    """Read PING's answer; a connection that answered is kept for the next check."""
    if _reply(conn) == b"+PONG":
        _kept.connections[url] = conn
        return True
    conn.close()
    return False


def ask(url: str, timeout: float = 1.0) -> Callable[[], bool]:
    """PING sent now on the kept connection; the function returned reads the answer. The health
    check asks Redis before PostgreSQL and reads both answers after one wait instead of two (issue
    19). A kept connection found closed is replaced once; a Redis that does not answer within
    `timeout` (connect, then each reply) is not answering, with no second wait."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "unix") or parts.query:
        return lambda: _by_redis_py(url)
    kept = _kept.__dict__.setdefault("connections", {}).pop(url, None)
    if kept is not None:
        try:
            kept.sendall(_command("PING"))
        except OSError:
            kept.close()
            kept = None

    def answer() -> bool:
        if kept is not None:
            try:
                return _pong(url, kept)
            except TimeoutError:
                kept.close()
                return False
            except (OSError, ValueError):
                kept.close()  # closed by Redis (idle, killed, restarted): one new connection
        conn = None
        try:
            conn = _connect(url, timeout)
            conn.sendall(_command("PING"))
            return _pong(url, conn)
        except (OSError, ValueError):
            if conn is not None:
                conn.close()
            return False

    return answer


def answers(url: str, timeout: float = 1.0) -> bool:
    """True if Redis at `url` answers PING within `timeout` seconds (connect, then each reply)."""
    return ask(url, timeout)()
