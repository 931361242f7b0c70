"""The load generator: a separate process of client threads speaking plain HTTP/1.1.

    python -m bench.load logon   --site portal|peer --base URL --people FILE --clients C --duration S
    python -m bench.load pages   --base URL --paths /,/sso/ --clients C --duration S
    python -m bench.load lockout --bases URL1,URL2 --user ID --attempts K
    python -m bench.load email   --base URL --people FILE --sink-dir DIR --clients C

Each prints one JSON document on stdout. A client is a browser reduced to what
the logon needs: a cookie jar, the CSRF token read from the form, redirects
checked rather than followed. The TOTP code is computed with pyotp, as the
person's phone would. Latencies are wall-clock milliseconds per request.
gunicorn's sync workers close each connection, so every request opens one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
import threading
import time
from email import message_from_bytes, policy
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyotp

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
OTP_BODY = re.compile(r"One Time Password \(OTP\) for CCASS: (\d{8})")


class Failure(Exception):
    pass


class Browser:
    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, dict, bytes, float]:
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "bench/1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, dict(response.headers), content, elapsed

    @staticmethod
    def token(content: bytes) -> str:
        match = CSRF.search(content)
        if not match:
            raise Failure("no CSRF token on the page")
        return match.group(1).decode()


def expect(status: int, want: int, headers: dict, location: str | None = None, step: str = "") -> None:
    if status != want or (location is not None and headers.get("Location") != location):
        raise Failure(f"{step}: {status} {headers.get('Location', '')}")


# -- the two logons ------------------------------------------------------------------


def get_page(b: Browser, path: str, timings: dict, step: str) -> bytes:
    status, h, page, t = b.request("GET", path)
    expect(status, 200, h, step=step)
    timings[step] = t
    return page


def portal_logon(base: str, person: dict, password: str, timings: dict) -> None:
    """GET /login/?service=online, POST it, GET /login/otp/, POST the code, GET /login/success/."""
    b = Browser(base)
    page = get_page(b, "/login/?service=online", timings, "login_page")
    data = {"csrfmiddlewaretoken": b.token(page), "user_id": person["user_id"], "password": password}
    status, h, _, t = b.request("POST", "/login/?service=online", data)
    expect(status, 302, h, "/login/otp/", "password")
    timings["password"] = t
    page = get_page(b, "/login/otp/", timings, "otp_page")
    code = pyotp.TOTP(person["key"]).now()
    status, h, _, t = b.request("POST", "/login/otp/", {"csrfmiddlewaretoken": b.token(page), "otp": code})
    expect(status, 302, h, "/login/success/", "otp")
    timings["otp"] = t
    get_page(b, "/login/success/", timings, "success")


def peer_logon(base: str, person: dict, password: str, timings: dict) -> None:
    """django-two-factor-auth's wizard: GET the form, POST auth (answers the token form), POST token, GET /success/."""
    b = Browser(base)
    page = get_page(b, "/account/login/", timings, "login_page")
    data = {
        "csrfmiddlewaretoken": b.token(page),
        "login_view-current_step": "auth",
        "auth-username": person["user_id"],
        "auth-password": password,
    }
    status, h, page, t = b.request("POST", "/account/login/", data)
    if status != 200 or b"token-otp_token" not in page:
        raise Failure(f"password: {status}")
    timings["password"] = t
    code = pyotp.TOTP(person["key"]).now()
    data = {"csrfmiddlewaretoken": b.token(page), "login_view-current_step": "token", "token-otp_token": code}
    status, h, _, t = b.request("POST", "/account/login/", data)
    expect(status, 302, h, "/success/", "otp")
    timings["otp"] = t
    get_page(b, "/success/", timings, "success")


LOGONS = {"portal": portal_logon, "peer": peer_logon}


def run_logons(site: str, base: str, people: list[dict], password: str, clients: int, duration: float) -> dict:
    """`clients` threads each run whole logons back to back; none starts after `duration`.
    Each person logs on at most once (a TOTP code is accepted once)."""
    logon = LOGONS[site]
    lock = threading.Lock()
    queue = iter(people)
    steps: dict[str, list[float]] = {}
    totals: list[float] = []
    errors: list[str] = []
    ok = [0]
    ran_out = [False]
    start = time.perf_counter()
    deadline = start + duration

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                person = next(queue, None)
            if person is None:
                ran_out[0] = True
                return
            timings: dict[str, float] = {}
            began = time.perf_counter()
            try:
                logon(base, person, password, timings)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{person['user_id']}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                ok[0] += 1
                totals.append((time.perf_counter() - began) * 1000)
                for name, ms in timings.items():
                    steps.setdefault(name, []).append(ms)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "site": site,
        "clients": clients,
        "duration": duration,
        "wall": time.perf_counter() - start,
        "logons": ok[0],
        "errors": len(errors),
        "error_samples": errors[:5],
        "ran_out_of_people": ran_out[0],
        "steps": steps,
        "totals": totals,
    }


# -- pages that do not hash ------------------------------------------------------------


def run_pages(base: str, paths: list[str], clients: int, duration: float) -> dict:
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {p: [] for p in paths}
    bad: dict[str, int] = {p: 0 for p in paths}
    start = time.perf_counter()
    deadline = start + duration

    def client(n: int) -> None:
        b = Browser(base)
        i = n
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            b.cookies.clear()  # each request as a new visitor
            try:
                status, _, _, t = b.request("GET", path)
            except OSError:
                status, t = 0, 0.0
            with lock:
                if status == 200:
                    latencies[path].append(t)
                else:
                    bad[path] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"wall": time.perf_counter() - start, "latencies": latencies, "bad": bad}


# -- lockout through two instances -------------------------------------------------------


def run_lockout(bases: list[str], user_id: str, attempts: int) -> dict:
    """`attempts` wrong passwords for one account, all sent at once, alternating between instances."""
    browsers, tokens = [], []
    for n in range(attempts):
        b = Browser(bases[n % len(bases)])
        status, h, page, _ = b.request("GET", "/login/?service=online")
        expect(status, 200, h, step="login_page")
        browsers.append(b)
        tokens.append(b.token(page))
    barrier = threading.Barrier(attempts)
    statuses = [0] * attempts

    def attack(n: int) -> None:
        data = {"csrfmiddlewaretoken": tokens[n], "user_id": user_id, "password": f"Wrong(Pass)word{n}x"}
        barrier.wait()
        statuses[n] = browsers[n].request("POST", "/login/?service=online", data)[0]

    threads = [threading.Thread(target=attack, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"attempts": attempts, "instances": len(bases), "statuses": statuses}


# -- e-mail OTP: SUBMIT to the mailbox -------------------------------------------------------


class Mailbox:
    """Watches the SMTP sink's folder; notes when each message was first seen."""

    def __init__(self, folder: str):
        self.folder = Path(folder)
        self.seen: set[str] = set()
        self.arrived: dict[str, tuple[float, str]] = {}  # address -> (perf_counter when seen, code)
        self.cond = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping:
            for name in os.listdir(self.folder):
                if not name.endswith(".eml") or name in self.seen:
                    continue
                seen_at = time.perf_counter()
                self.seen.add(name)
                msg = message_from_bytes((self.folder / name).read_bytes(), policy=policy.default)
                match = OTP_BODY.search(msg.get_body(("plain",)).get_content())
                with self.cond:
                    self.arrived[str(msg["To"]).strip().lower()] = (seen_at, match.group(1) if match else "")
                    self.cond.notify_all()
            time.sleep(0.002)

    def wait(self, address: str, timeout: float = 10.0) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while address not in self.arrived:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"no mail to {address} in {timeout}s")
                self.cond.wait(left)
            return self.arrived[address]


def run_email(base: str, people: list[dict], password: str, sink_dir: str, clients: int) -> dict:
    mailbox = Mailbox(sink_dir)
    lock = threading.Lock()
    queue = iter(people)
    latencies, submit_ms, errors = [], [], []
    completed = [0]

    def client() -> None:
        while True:
            with lock:
                person = next(queue, None)
            if person is None:
                return
            try:
                b = Browser(base)
                status, h, page, _ = b.request("GET", "/login/?service=online")
                expect(status, 200, h, step="login_page")
                data = {"csrfmiddlewaretoken": b.token(page), "user_id": person["user_id"], "password": password}
                submitted = time.perf_counter()
                status, h, _, t = b.request("POST", "/login/?service=online", data)
                expect(status, 302, h, "/login/otp/", "password")
                seen_at, code = mailbox.wait(person["email"].lower())
                status, h, page, _ = b.request("GET", "/login/otp/")
                expect(status, 200, h, step="otp_page")
                status, h, _, _ = b.request("POST", "/login/otp/", {"csrfmiddlewaretoken": b.token(page), "otp": code})
                expect(status, 302, h, "/login/success/", "otp")
                with lock:
                    latencies.append((seen_at - submitted) * 1000)
                    submit_ms.append(t)
                    completed[0] += 1
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"{person['user_id']}: {type(exc).__name__}: {exc}")
            time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mailbox.stopping = True
    return {
        "latencies": latencies,
        "submit_ms": submit_ms,
        "completed": completed[0],
        "errors": len(errors),
        "error_samples": errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["logon", "pages", "lockout", "email"])
    parser.add_argument("--site", default="portal", choices=sorted(LOGONS))
    parser.add_argument("--base", default="")
    parser.add_argument("--bases", default="")
    parser.add_argument("--people", default="")
    parser.add_argument("--key", default="users")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--paths", default="/,/sso/")
    parser.add_argument("--user", default="")
    parser.add_argument("--attempts", type=int, default=12)
    parser.add_argument("--sink-dir", default="")
    args = parser.parse_args()
    people, password = [], ""
    if args.people:
        seeded = json.loads(Path(args.people).read_text())
        password = seeded["password"]
        people = seeded[args.key][args.offset :]
        if args.count:
            people = people[: args.count]
    if args.mode == "logon":
        result = run_logons(args.site, args.base, people, password, args.clients, args.duration)
    elif args.mode == "pages":
        result = run_pages(args.base, args.paths.split(","), args.clients, args.duration)
    elif args.mode == "lockout":
        result = run_lockout(args.bases.split(","), args.user, args.attempts)
    else:
        result = run_email(args.base, people, password, args.sink_dir, args.clients)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
