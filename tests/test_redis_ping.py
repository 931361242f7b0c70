"""The health check's Redis row (`/sso/`, the load balancers' check) without redis-py in the web worker
(ccass_portal/redis_ping.py, issue 19: 5.7 MiB per worker). Every answer is from a real server: a
redis-server, one that asks for a password, a port where nothing listens, and a socket that accepts
and never answers (a hung Redis must not hang the check)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from ccass_portal import redis_ping
from tests.factories import need
from tests.stack import free_port, wait_for_port
from tests.test_logging import run as run_in_production


@pytest.fixture
def redis_with_password():
    """A redis-server of its own that refuses PING until AUTH (requirepass)."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    need(os.path.exists(binary), "redis-server (run `make test`)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--requirepass", "s3cret pass"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc=proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def hung_redis():
    """Accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def test_a_real_redis_answers():
    url = os.environ.get("TEST_REDIS_URL")
    need(bool(url), "redis-server, TEST_REDIS_URL (run `make test`)")
    assert redis_ping.answers(url)
    assert redis_ping.answers(url)  # again, on the connection it keeps


def test_a_redis_that_wants_a_password_answers_only_with_it(redis_with_password):
    port = redis_with_password
    assert redis_ping.answers(f"redis://:s3cret%20pass@127.0.0.1:{port}/0")
    assert redis_ping.answers(f"redis://default:s3cret%20pass@127.0.0.1:{port}/0")
    assert not redis_ping.answers(f"redis://:wrong@127.0.0.1:{port}/0")
    assert not redis_ping.answers(f"redis://127.0.0.1:{port}/0")  # NOAUTH


def test_nothing_listening_is_not_answering():
    assert not redis_ping.answers(f"redis://127.0.0.1:{free_port()}/0")


def test_a_hung_redis_is_not_answering_within_the_timeout(hung_redis):
    started = time.monotonic()
    assert not redis_ping.answers(f"redis://127.0.0.1:{hung_redis}/0", timeout=0.5)
    assert time.monotonic() - started < 2


def test_a_redis_that_dropped_the_kept_connection_answers_on_a_new_one(redis_with_password):
    """Redis closes idle or killed clients (a restart does too): the next check connects again."""
    import redis

    url = f"redis://:s3cret%20pass@127.0.0.1:{redis_with_password}/0"
    assert redis_ping.answers(url)
    admin = redis.Redis.from_url(url)
    assert admin.client_kill_filter(_type="normal", skipme=True) >= 1  # the check's kept connection
    admin.close()
    assert redis_ping.answers(url)


def test_the_health_check_in_a_web_worker_loads_no_redis_client(tmp_path):
    url = os.environ.get("TEST_REDIS_URL")
    need(bool(url), "redis-server, TEST_REDIS_URL (run `make test`)")
    # The page links hashed static files: collect them as bin/release does, so the test does not
    # depend on another test (the native stack's release) having run first.
    run_in_production(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('collectstatic', interactive=False, verbosity=0)"
    )
    code = (
        "import json, sys, ccass_portal.wsgi; from django.test import Client; "
        "r = Client().get('/sso/'); "
        "print(json.dumps([r.status_code, 'data-check=\"redis\">OK' in r.content.decode(), 'redis' in sys.modules]))"
    )
    result = run_in_production(
        code,
        DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite3'}",
        REDIS_URL=url,
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [200, True, False]


def test_asked_first_and_read_after_another_wait_it_answers_on_the_kept_connection():
    """The health check sends PING, asks PostgreSQL, then reads Redis's answer (terminal/views.py)."""
    url = os.environ.get("TEST_REDIS_URL")
    need(bool(url), "redis-server, TEST_REDIS_URL (run `make test`)")
    assert redis_ping.answers(url)
    kept = redis_ping._kept.connections[url]
    answer = redis_ping.ask(url)
    time.sleep(0.05)  # the other round trip
    assert answer() is True
    assert redis_ping._kept.connections[url] is kept


def test_asked_on_a_connection_redis_dropped_it_answers_on_a_new_one(redis_with_password):
    import redis

    url = f"redis://:s3cret%20pass@127.0.0.1:{redis_with_password}/0"
    assert redis_ping.answers(url)
    admin = redis.Redis.from_url(url)
    assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
    admin.close()
    answer = redis_ping.ask(url)
    assert answer() is True


def test_asked_of_a_hung_redis_it_is_not_answering_within_the_timeout(hung_redis):
    url = f"redis://127.0.0.1:{hung_redis}/0"
    started = time.monotonic()
    assert redis_ping.ask(url, timeout=0.5)() is False
    assert time.monotonic() - started < 2
