"""The native stack: docker-compose.yml's services, run without Docker on loopback ports.

`start_native_stack()` prepares, from the very scripts compose runs:

- PostgreSQL: a database of its own (``portal_stack``) on the cluster `make test`
  started (``DATABASE_URL``), or on a new throwaway cluster;
- Redis: ``TEST_REDIS_URL``'s server, or a new redis-server; the stack's brokers
  use databases 10 and up, one per fault test, so a worker of one never takes
  another's task;
- an SMTP sink (tests/smtp_sink.py) standing in for Mailpit;
- ``bin/release`` (migrations, ``seed_demo``, static files), then a Celery worker
  (``bin/worker``) and two gunicorn instances (``bin/web``, 2 workers each);
- nginx in front of both (Debian's nginx-light with deploy/nginx/, as compose's nginx
  service): ``NativeStack.proxy`` is the address people use.

Tests may start more webs, workers and sinks with other settings (a dead broker, a
slow or dead mail server, short code lives); `NativeStack.close()` stops every
process the stack started, by its pid, in reverse order.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

from tests import stack
from tests.stack import ROOT, Service

SECRET_KEY = "native-stack-secret-key-for-tests-only-0123456789abcdefghij"
DATABASE_NAME = "portal_stack"
MAIN_BROKER_DB = 10
OTP_BODY = re.compile(r"^One Time Password \(OTP\) for CCASS: (\d{8})$")
OTP_SUBJECT = "CCASS: One Time Password"
# Variables of the test run that the stack's processes must not inherit.
_NOT_INHERITED = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")


class StackError(RuntimeError):
    pass


@dataclass
class Web:
    service: Service
    url: str


def dead_port() -> int:
    """A loopback port nothing listens on (a broker or mail server that is down)."""
    return stack.free_port()


@contextmanager
def hung_port():
    """A loopback port that accepts connections and never answers (a hung broker)."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    held: list[socket.socket] = []

    def hold() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:  # closed
                return

    threading.Thread(target=hold, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        for conn in held:
            conn.close()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


class NativeStack:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.services: list[Service] = []
        self.admin_url = ""  # the cluster's maintenance database (to drop ours at the end)
        self.database_url = ""
        self.redis_base = ""
        self.sink: Service | None = None
        self.worker: Service | None = None
        self.webs: list[Web] = []
        self.proxy: Web | None = None  # nginx in front of self.webs
        self.apps: dict = {}  # AuthenticatorApp of the prepared accounts, by User ID (tests/stack/conftest.py)
        self._redis_dbs: set[int] = set()

    # -- configuration ------------------------------------------------------------------
    def redis_url(self, db: int = MAIN_BROKER_DB) -> str:
        self._redis_dbs.add(db)
        return f"{self.redis_base}/{db}"

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment compose gives web, worker and release, with `overrides`."""
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env.update(
            DJANGO_SETTINGS_MODULE="ccass_portal.settings",
            DJANGO_SECRET_KEY=SECRET_KEY,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url(MAIN_BROKER_DB),
            EMAIL_URL=self.sink.url if self.sink else "",
            PORTAL_DEMO="true",
            DJANGO_SECURE_COOKIES="false",
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            PORTAL_TRUSTED_PROXIES="127.0.0.1",  # nginx (start_proxy) connects from loopback
            PYTHONUNBUFFERED="1",
        )
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    # -- processes ---------------------------------------------------------------------
    def _own(self, service: Service) -> Service:
        self.services.append(service)
        return service

    def start_sink(self, delay: float = 0.0) -> Service:
        return self._own(stack.start_smtp_sink(delay=delay))

    def start_web(self, name: str, *, wait: bool = True, **overrides: str) -> Web:
        port = stack.free_port()
        service = self._own(
            stack.run_script(
                "web",
                self.env(**{"BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", **overrides}),
                log=str(self.log_path(name)),
            )
        )
        service.port, service.name = port, name
        web = Web(service, f"http://127.0.0.1:{port}")
        if wait:
            self.wait_for_web(web)
        return web

    def wait_for_web(self, web: Web, timeout: float = 60.0) -> None:
        try:
            stack.wait_for_port(web.service.port, timeout=timeout, proc=web.service.proc)
        except (RuntimeError, TimeoutError) as exc:
            raise StackError(f"{web.service.name} did not start: {exc}\n{self.tail(web.service.name)}") from exc

    def start_proxy(self, webs: list[Web], name: str = "nginx") -> Web:
        """nginx (deploy/nginx/proxy.conf, static.conf) in front of `webs`, on a loopback port."""
        port = stack.free_port()
        folder = self.workdir / name
        folder.mkdir()
        config = folder / "nginx.conf"
        config.write_text(native_nginx_conf(folder, port, [w.service.port for w in webs]))
        proc = subprocess.Popen(
            [NGINX, "-p", str(folder), "-e", str(self.log_path(name)), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log_path(name), "ab"),
            start_new_session=True,
        )
        service = self._own(Service(name, proc.pid, port, proc=proc))
        try:
            stack.wait_for_port(port, timeout=30, proc=proc)
        except (RuntimeError, TimeoutError) as exc:
            raise StackError(f"nginx did not start: {exc}\n{self.tail(name)}") from exc
        return Web(service, f"http://127.0.0.1:{port}")

    def start_worker(self, name: str, *, wait: bool = True, **overrides: str) -> Service:
        service = self._own(stack.run_script("worker", self.env(**overrides), log=str(self.log_path(name))))
        service.name = name
        if wait:
            self.wait_for_worker(service)
        return service

    def wait_for_worker(self, worker: Service, timeout: float = 60.0) -> None:
        self.wait_for_log(worker, r"\bready\.", timeout=timeout)

    def stop(self, service: Service, sig: int = signal.SIGTERM) -> None:
        """Stop one process (its whole process group for bin/ scripts) by its pid."""
        service.stop(sig=sig)
        if service in self.services:
            self.services.remove(service)

    def kill(self, service: Service) -> None:
        """SIGKILL: a crash, no clean-up, no acknowledgement."""
        self.stop(service, sig=signal.SIGKILL)

    def close(self) -> None:
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as exc:  # keep stopping the others
                print(f"native stack: could not stop {service.name} ({service.pid}): {exc}", file=sys.stderr)
        self.services.clear()
        if self.redis_base:
            for db in self._redis_dbs:
                try:
                    self.redis(db).flushdb()
                except redis.RedisError:
                    pass
        if self.admin_url and self.database_url:
            try:
                with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
            except psycopg.Error:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- one-off commands ------------------------------------------------------------------
    def run(self, args: list[str], name: str, timeout: float = 180.0, **overrides: str) -> str:
        """Run a command with the stack's environment; its output, or StackError."""
        done = subprocess.run(
            args, cwd=ROOT, env=self.env(**overrides), capture_output=True, text=True, timeout=timeout
        )
        self.log_path(name).write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise StackError(
                f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done.stdout

    def release(self) -> None:
        self.run([str(ROOT / "bin" / "release")], "release")

    def shell(self, code: str, **overrides: str) -> str:
        """`manage.py shell -c code` in the stack's environment; its stdout."""
        return self.run([sys.executable, "manage.py", "shell", "-c", code], "shell", timeout=60, **overrides)

    def shell_json(self, code: str, **overrides: str):
        """Run `code`, which prints one JSON document as its last line, and return it."""
        return json.loads(self.shell(code, **overrides).strip().splitlines()[-1])

    # -- what the tests read --------------------------------------------------------------
    def sql(self, query: str, params: tuple | list = ()) -> list[tuple]:
        with psycopg.connect(_libpq(self.database_url), autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def email_otp(self, user_id: str, purpose: str = "sign_in") -> dict:
        """The person's e-mail OTP device of `purpose` as the database has it ({} when there is none)."""
        rows = self.sql(
            "SELECT e.token IS NOT NULL, o.sealed_token <> '', o.challenge_id::text, o.delivery,"
            " e.last_generated_timestamp, e.valid_until"
            " FROM otp_emailotpdevice o JOIN otp_email_emaildevice e ON e.id = o.emaildevice_ptr_id"
            " WHERE e.user_id = %s AND o.purpose = %s",
            [user_id, purpose],
        )
        if not rows:
            return {}
        keys = ("has_code", "sealed", "challenge", "delivery", "last_generated", "valid_until")
        return dict(zip(keys, rows[0]))

    def redis(self, db: int = MAIN_BROKER_DB) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url(db))

    def queued_messages(self, db: int, queue: str = "celery") -> list[dict]:
        """The task messages waiting in a broker's queue, decoded (kombu's Redis format)."""
        messages = []
        for raw in self.redis(db).lrange(queue, 0, -1):
            envelope = json.loads(raw)
            body = envelope["body"]
            if envelope.get("properties", {}).get("body_encoding") == "base64":
                body = base64.b64decode(body)
            messages.append({"raw": raw.decode(), "headers": envelope.get("headers", {}), "body": json.loads(body)})
        return messages

    def mails(self, sink: Service | None = None, to: str | None = None, *, otp_only: bool = True) -> list[dict]:
        """OTP mails (by default; change notices are left out: accounts.notices) to `to`."""
        return [
            m
            for m in stack.read_sink(sink or self.sink)
            if (to is None or to in (m["to"] or "")) and (not otp_only or m["subject"] == OTP_SUBJECT)
        ]

    def wait_for_mails(self, to: str, count: int = 1, timeout: float = 5.0, sink: Service | None = None) -> list[dict]:
        """The first `count` mails to `to`, waiting for them up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.mails(sink, to)
            if len(found) >= count:
                return found[:count]
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} mail(s) to {to} after {timeout}s, expected {count}")
            time.sleep(0.05)

    def wait_for_otp(self, to: str, count: int = 1, timeout: float = 5.0, sink: Service | None = None) -> str:
        """The code of the `count`-th OTP mail to `to`."""
        return otp_code(self.wait_for_mails(to, count, timeout, sink)[-1])

    def wait_for_log(self, service: Service, pattern: str, timeout: float = 30.0) -> str:
        """Wait until a line of the process's log matches `pattern`; return that line."""
        deadline = time.monotonic() + timeout
        path = self.log_path(service.name)
        while True:
            if path.exists():
                for line in path.read_text(errors="replace").splitlines():
                    if re.search(pattern, line):
                        return line
            if service.proc is not None and service.proc.poll() is not None:
                raise StackError(f"{service.name} exited with {service.proc.returncode}\n{self.tail(service.name)}")
            if time.monotonic() > deadline:
                raise StackError(
                    f"{service.name}: no log line matching {pattern!r} in {timeout}s\n{self.tail(service.name)}"
                )
            time.sleep(0.1)

    def problems(self, lines: int = 60) -> str:
        """The end of every log that reports an error, for a failed test's report."""
        found = []
        for path in sorted(self.workdir.glob("*.log")):
            text = path.read_text(errors="replace")
            if re.search(r"Traceback|\bERROR\b|\"level\": \"ERROR\"|CRITICAL", text):
                found.append(f"--- {path.name} ---\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(found) or "(no errors in the stack's logs)"

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_path(name)
        if not path.exists():
            return f"({name}: no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


NGINX = "/usr/sbin/nginx"  # Debian's nginx-light (bin/install-system-deps)


def native_nginx_conf(folder: Path, port: int, upstream_ports: list[int]) -> str:
    """The main context for an unprivileged nginx on loopback, around the repo's deploy/nginx/
    files (the same ones compose's nginx service includes)."""
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in upstream_ports)
    temp = "".join(
        f"  {kind}_temp_path {folder}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers read the tree and write temp files here
    return (
        f"{user}worker_processes 1;\ndaemon off;\npid {folder}/nginx.pid;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  access_log {folder}/access.log;\n{temp}"
        f"  upstream portal {{\n{servers}  }}\n"
        "  server {\n"
        f"    listen 127.0.0.1:{port};\n"
        f"    set $portal_static_root {ROOT / 'var' / 'staticfiles'};\n"
        f"    include {ROOT / 'deploy' / 'nginx' / 'static.conf'};\n"
        f"    include {ROOT / 'deploy' / 'nginx' / 'proxy.conf'};\n"
        "  }\n}\n"
    )


def wait_until(condition, timeout: float, why=lambda: "", interval: float = 0.05):
    """Poll `condition` until it returns something true (returned), for at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not so after {timeout}s: {why()}")
        time.sleep(interval)


def otp_code(mail: dict) -> str:
    assert mail["subject"] == OTP_SUBJECT, mail
    match = OTP_BODY.match(mail["body"])
    assert match, f"unexpected OTP mail body: {mail['body']!r}"
    return match.group(1)


def _create_database(admin_url: str) -> str:
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return _with_database(admin_url, DATABASE_NAME)


def start_native_stack(database_url: str = "", redis_url: str = "") -> NativeStack:
    """Start everything (see the module's docstring); the caller must call close()."""
    native = NativeStack(Path(tempfile.mkdtemp(prefix="portal-native-")))
    try:
        if not database_url.startswith(("postgres://", "postgresql://")):
            postgres = native._own(stack.start_postgres())
            database_url = postgres.url
        native.admin_url = database_url
        native.database_url = _create_database(database_url)
        if not redis_url:
            redis_url = native._own(stack.start_redis()).url
        parts = urlsplit(redis_url)
        native.redis_base = urlunsplit(parts._replace(path=""))
        native.redis(MAIN_BROKER_DB).flushdb()
        native.sink = native.start_sink()
        native.release()
        # The three long-running processes start side by side (2 cores: each takes ~2 s).
        native.worker = native.start_worker("worker", wait=False)
        native.webs = [native.start_web(f"web-{n}", wait=False) for n in (1, 2)]
        for web in native.webs:
            native.wait_for_web(web)
        native.proxy = native.start_proxy(native.webs)
        native.wait_for_worker(native.worker)
    except BaseException:
        native.close()
        raise
    return native


_SET_UP_2FA = """
import json
from ccass_portal import clock
from accounts.models import User
from otp.models import AuthenticatorDevice
people, password = json.loads({args!r})
secrets = {{}}
for user_id, channel in people.items():
    user = User.objects.get(user_id=user_id)
    user.set_password(password)
    user.password_changed_at = user.twofa_set_up_at = clock.now()
    user.otp_channel = channel
    user.save()
    if channel == "APP":
        device = AuthenticatorDevice.new_for(user)
        device.confirmed = True
        device.save()
        secrets[user_id] = device.base32_key
print(json.dumps(secrets))
"""


def set_up_2fa(native: NativeStack, people: dict[str, str], password: str) -> dict[str, str]:
    """Give seeded accounts a password and 2FA ("APP" or "EMAIL"), as a finished first
    logon would, in one `manage.py shell`; returns the app secrets (base32) by User ID."""
    return native.shell_json(_SET_UP_2FA.format(args=json.dumps([people, password])))


# -- browser steps (Playwright), by the seeds' labels (SPEC.md) ----------------------------

GENERIC_FAILURE_START = "Unsuccessful logon"
OTP_HEADING = "Please Enter Your One Time Password, Or Request A New One"


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def heading(page, name: str):
    return page.get_by_role("heading", name=name, exact=True)


def open_login(page, base_url: str = "") -> None:
    """The CCASS/CCMS Terminal landing page, then "Login with OTP - Online Functions"."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Login with OTP - Online Functions", exact=True).click()
    expect(heading(page, "User Login")).to_be_visible()


def log_in(page, user_id: str, password: str) -> None:
    page.get_by_label("User ID", exact=True).fill(user_id)
    page.get_by_label("Password", exact=True).fill(password)
    button(page, "LOG IN").click()


def enter_otp(page, code: str, submit: str = "SUBMIT OTP") -> None:
    page.get_by_label("Enter OTP", exact=True).fill(code)
    button(page, submit).click()


def reset_password_by_email(page, native: NativeStack, user_id: str, email: str, password: str) -> None:
    """App. C.1 a-g: "Forgot/Reset your password?" -> User ID -> the e-mailed OTP -> a new
    password -> "Close", back on "User Login". For accounts whose 2FA is not set up yet."""
    from playwright.sync_api import expect

    page.get_by_role("link", name="Forgot/Reset your password? >", exact=True).click()
    expect(heading(page, "Input User ID")).to_be_visible()
    page.get_by_label("User ID", exact=True).fill(user_id)
    sent = len(native.mails(to=email))
    button(page, "SUBMIT").click()
    expect(heading(page, OTP_HEADING)).to_be_visible()
    enter_otp(page, native.wait_for_otp(email, sent + 1))
    set_new_password(page, password)


def set_new_password(page, password: str) -> None:
    """ "Reset Password": "Password", "Confirm password" -> "SUBMIT" -> success -> "Close"."""
    from playwright.sync_api import expect

    expect(heading(page, "Reset Password")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password", exact=True).fill(password)
    button(page, "SUBMIT").click()
    expect(page.get_by_text("Password changed successfully")).to_be_visible()
    page.get_by_role("link", name="Close", exact=True).click()
    expect(heading(page, "User Login")).to_be_visible()


def scan_qr(page) -> str:
    """The otpauth:// URI of the registration page's QR code, decoded from its PNG data URI."""
    import io

    from PIL import Image
    from pyzbar.pyzbar import decode

    src = page.get_by_role("img", name=re.compile("QR code")).get_attribute("src") or ""
    assert src.startswith("data:image/png;base64,"), src[:40]
    symbols = decode(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    assert len(symbols) == 1, f"expected one QR code, found {len(symbols)}"
    return symbols[0].data.decode()


def main() -> None:
    """`python -m tests.native_stack`: the stack by hand, on a throwaway cluster and
    redis-server, until Ctrl-C or SIGTERM (mail lands in the sink's folder)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    native = start_native_stack()  # its own PostgreSQL cluster and redis-server, whatever .env says
    try:
        print("Native stack (the compose services from bin/, on loopback):")
        print(f"  nginx (proxy)   {native.proxy.url}/   (in front of the webs below)")
        for web in native.webs:
            print(f"  web (gunicorn)  {web.url}/   (DMS: {web.url}/dms/)")
        print(f"  worker (Celery) pid {native.worker.pid}, broker {native.redis_url()}")
        print(f"  database        {native.database_url}")
        print(f"  mail            {native.sink.url}; each message is a file in {native.sink.workdir}/")
        print(f"  logs            {native.workdir}/")
        print("Ctrl-C stops everything.", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        native.close()


if __name__ == "__main__":
    main()
