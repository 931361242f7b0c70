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


def answers(url: str, timeout: float = 1.0) -> bool:
    """True if Redis at `url` answers PING within `timeout` seconds (connect, then each reply)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "unix") or parts.query:
        import redis

        try:
            return bool(_redis_py_client(url).ping())
        except redis.RedisError:
            return False
    connections = _kept.__dict__.setdefault("connections", {})
    for kept in (True, False):
        conn = connections.pop(url, None) if kept else None
        if kept and conn is None:
            continue
        try:
            conn = conn or _connect(url, timeout)
            conn.sendall(_command("PING"))
            if _reply(conn) == b"+PONG":
                connections[url] = conn
                return True
            conn.close()
            return False
        except TimeoutError:
            if conn is not None:
                conn.close()
            return False  # a hung Redis: no second wait
        except (OSError, ValueError):
            if conn is not None:
                conn.close()
            if not kept:
                return False
    return False
