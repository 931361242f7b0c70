"""Measurements made inside one Django process (the site's settings, the bench's database).

    python -m bench.inproc portal SEED.json OUT.json [--profile-logons K] [--offset I]
    python -m bench.inproc peer SEED.json OUT.json [--offset I]

- the User Profile Listing of the 10,000-profile firm and of a 100-profile firm:
  server time (the whole request through Django's middleware, no network) and
  query count, after a real DMS logon (User ID, password, app code);
- the SQL queries of each logon step;
- with --profile-logons K: K complete logons under pyinstrument, and the CPU
  time of a logon spent outside the password hasher.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import django
import pyotp

CAPTURE = True  # count queries (Django's debug cursor: a little slower); bench.whatif turns it off


class _NoCapture:
    captured_queries: list = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


STEP_CPU: list[float] = []  # CPU ms of each request made through _step, in order
STEP_WALL: list[float] = []  # and its wall-clock ms
LAST_CPU_MS = 0.0


_CLIENT = None


def _client():
    """A browser with no cookies. One django.test.Client is reused: a new one would load the
    middleware again (WhiteNoise indexes every static file), which gunicorn does once per worker."""
    global _CLIENT
    from http.cookies import SimpleCookie

    from django.test import Client

    if _CLIENT is None:
        _CLIENT = Client()
    _CLIENT.cookies = SimpleCookie()
    return _CLIENT


def _step(client, method, path, data=None, **extra):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    global LAST_CPU_MS
    with CaptureQueriesContext(connection) if CAPTURE else _NoCapture() as queries:
        started, cpu = time.perf_counter(), time.process_time()
        call = getattr(client, method)
        response = call(path, data, **extra) if data is not None else call(path, **extra)
        elapsed = (time.perf_counter() - started) * 1000
        LAST_CPU_MS = (time.process_time() - cpu) * 1000
    STEP_CPU.append(LAST_CPU_MS)
    STEP_WALL.append(elapsed)
    return response, len(queries.captured_queries), elapsed


def portal_logon(client, person, password, prefix="", service="?service=online") -> dict:
    """The same screens as bench.load.portal_logon; returns the queries of each step."""
    out = {}
    r, out["login_page"], _ = _step(client, "get", f"{prefix}/login/{service}")
    assert r.status_code == 200, r.status_code
    r, out["password"], _ = _step(
        client, "post", f"{prefix}/login/{service}", {"user_id": person["user_id"], "password": password}
    )
    assert r.status_code == 302 and r["Location"] == f"{prefix}/login/otp/", (r.status_code, r.get("Location"))
    r, out["otp_page"], _ = _step(client, "get", f"{prefix}/login/otp/")
    assert r.status_code == 200
    r, out["otp"], _ = _step(client, "post", f"{prefix}/login/otp/", {"otp": pyotp.TOTP(person["key"]).now()})
    assert r.status_code == 302 and r["Location"] == f"{prefix}/login/success/", (r.status_code, r.get("Location"))
    r, out["success"], _ = _step(client, "get", f"{prefix}/login/success/")
    assert r.status_code == 200
    return out


def passkey_logon(client, person, password, authenticator) -> dict:
    """The Terminal logon with a passkey as the second factor (PORTAL_PASSKEYS on): the password,
    the passkey page, the ceremony's options and its answer (signed by a software authenticator,
    tests/passkey_authenticator.py), the success page."""
    out = {}
    service = "?service=online"
    r, out["login_page"], _ = _step(client, "get", f"/login/{service}")
    assert r.status_code == 200, r.status_code
    r, out["password"], _ = _step(
        client, "post", f"/login/{service}", {"user_id": person["user_id"], "password": password}
    )
    assert r.status_code == 302 and r["Location"] == "/login/passkey/", (r.status_code, r.get("Location"))
    r, out["passkey_page"], _ = _step(client, "get", "/login/passkey/")
    assert r.status_code == 200
    r, out["passkey_begin"], _ = _step(client, "post", "/login/passkey/begin/", {})
    assert r.status_code == 200, r.content
    answer = json.dumps(authenticator.assert_(r.json()))
    r, out["passkey_complete"], _ = _step(
        client, "post", "/login/passkey/complete/", answer, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["redirect_url"] == "/login/success/", r.content
    r, out["success"], _ = _step(client, "get", "/login/success/")
    assert r.status_code == 200
    return out


def passkey_beside_totp(seed: dict, people: list[dict], k: int, verify_cpu_ms: float) -> dict:
    """k passkey logons and k TOTP logons, interleaved in this process (PORTAL_PASSKEYS on for both):
    CPU per logon other than hashing, CPU per step, the second factor's wall-clock p95 and the
    statements of one logon of each."""
    from django.contrib.auth import get_user_model

    from tests.passkey_authenticator import enrol_credential

    global CAPTURE
    password, users = seed["password"], get_user_model().objects
    holders = [(p, enrol_credential(users.get(pk=p["user_id"]))[0]) for p in people[: k + 1]]
    plain = people[k + 1 : 2 * k + 2]
    CAPTURE = True  # one logon of each, counting statements (the debug cursor costs CPU: not timed)
    queries = {
        "passkey": passkey_logon(_client(), holders[0][0], password, holders[0][1]),
        "totp": portal_logon(_client(), plain[0], password),
    }
    CAPTURE = False
    out = {name: {"cpu_ms": [], "second_factor_wall_ms": [], "steps": {}} for name in ("passkey", "totp")}
    for (holder, authenticator), person in zip(holders[1:], plain[1:]):
        for name, run in (
            ("passkey", partial(passkey_logon, person=holder, password=password, authenticator=authenticator)),
            ("totp", partial(portal_logon, person=person, password=password)),
        ):
            del STEP_CPU[:], STEP_WALL[:]
            steps = run(_client())
            o = out[name]
            o["cpu_ms"].append(sum(STEP_CPU) - verify_cpu_ms)
            for step, ms in zip(steps, STEP_CPU):
                o["steps"].setdefault(step, []).append(ms)
            walls = dict(zip(steps, STEP_WALL))
            second = ("passkey_begin", "passkey_complete") if name == "passkey" else ("otp",)
            o["second_factor_wall_ms"].append(sum(walls[s] for s in second))
    result = {}
    for name, o in out.items():
        walls = sorted(o["second_factor_wall_ms"])
        result[name] = {
            "logons": len(o["cpu_ms"]),
            "non_hash_cpu_ms": statistics.median(o["cpu_ms"]),
            "step_cpu_ms": {s: statistics.median(v) for s, v in o["steps"].items()},
            "second_factor_p95_ms": walls[min(len(walls) - 1, max(0, round(0.95 * len(walls) + 0.4999) - 1))],
            "requests": len(queries[name]),
            "queries": sum(queries[name].values()),
            "queries_per_step": queries[name],
        }
    return result


def peer_logon(client, person, password) -> dict:
    out = {}
    r, out["login_page"], _ = _step(client, "get", "/account/login/")
    assert r.status_code == 200
    r, out["password"], _ = _step(
        client,
        "post",
        "/account/login/",
        {"login_view-current_step": "auth", "auth-username": person["user_id"], "auth-password": password},
    )
    assert r.status_code == 200 and b"token-otp_token" in r.content
    r, out["otp"], _ = _step(
        client,
        "post",
        "/account/login/",
        {"login_view-current_step": "token", "token-otp_token": pyotp.TOTP(person["key"]).now()},
    )
    assert r.status_code == 302, r.status_code
    r, out["success"], _ = _step(client, "get", "/success/")
    assert r.status_code == 200
    return out


def listing(seed: dict, repeats: int = 5) -> dict:
    out = {}
    for firm, info in seed["listing"].items():
        client = _client()
        portal_logon(client, info["das"][0], seed["password"], prefix="/dms", service="")
        _step(client, "get", "/dms/listings/user-profiles/")  # warm the template and the cache of the plan
        times, counts, size = [], set(), 0
        for _ in range(repeats):
            r, queries, ms = _step(client, "get", "/dms/listings/user-profiles/")
            assert r.status_code == 200
            assert f": {info['profiles']}<".encode() in r.content, "the footer does not count every profile"
            times.append(ms)
            counts.add(queries)
            size = len(r.content)
        out[firm] = {
            "profiles": info["profiles"],
            "ms_median": statistics.median(times),
            "ms_max": max(times),
            "queries": sorted(counts),
            "bytes": size,
        }
    return out


def verify_cpu(password: str) -> float:
    """CPU ms of one verify by the configured hasher, timed in this process (the hash a logon's
    CPU is reduced by, just before the logons it is subtracted from)."""
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    encoded = hasher.encode(password, hasher.salt())
    started = time.process_time()
    for _ in range(10):
        hasher.verify(password, encoded)
    return (time.process_time() - started) * 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("site", choices=["portal", "peer"])
    parser.add_argument("seed")
    parser.add_argument("out")
    parser.add_argument("--offset", type=int, default=0, help="first person of the seed's users to use")
    parser.add_argument("--profile-logons", type=int, default=0)
    parser.add_argument("--profile-out", default="")
    parser.add_argument("--passkey-logons", type=int, default=0, help="only: passkey beside TOTP (PORTAL_PASSKEYS on)")
    args = parser.parse_args()
    django.setup()
    seed = json.loads(Path(args.seed).read_text())
    people = seed["users"][args.offset :]
    password = seed["password"]
    if args.passkey_logons:
        verify_cpu_ms = verify_cpu(password)
        result = passkey_beside_totp(seed, people, args.passkey_logons, verify_cpu_ms)
        result["verify_cpu_ms"] = verify_cpu_ms
        Path(args.out).write_text(json.dumps(result))
        return
    logon = portal_logon if args.site == "portal" else peer_logon
    result = {"queries_per_step": logon(_client(), people[0], password)}
    people = people[1:]
    if args.site == "portal" and seed.get("listing"):
        result["listing"] = listing(seed)
    k = args.profile_logons
    if k:
        from pyinstrument import Profiler

        global CAPTURE
        CAPTURE = False  # the queries were counted above; the debug cursor would add its own cost
        logon(_client(), people[0], password)  # warm
        verify_cpu_ms = verify_cpu(password)
        batch = people[1 : 1 + k]
        cpu, wall = time.process_time(), time.perf_counter()
        per_step: dict[str, list[float]] = {}
        for person in batch:
            del STEP_CPU[:]
            steps = logon(_client(), person, password)
            for name, ms in zip(steps, STEP_CPU):
                per_step.setdefault(name, []).append(ms)
        result["inproc_step_cpu_ms"] = {name: statistics.median(v) for name, v in per_step.items()}
        result["inproc_logon"] = {
            "logons": k,
            "cpu_ms": 1000 * (time.process_time() - cpu) / k,
            "wall_ms": 1000 * (time.perf_counter() - wall) / k,
        }
        result["inproc_logon"]["verify_cpu_ms"] = verify_cpu_ms
        result["inproc_logon"]["cpu_ms_without_hash"] = result["inproc_logon"]["cpu_ms"] - verify_cpu_ms
        profiler = Profiler(interval=0.0005)
        with profiler:
            for person in people[1 + k : 1 + 2 * k]:
                logon(_client(), person, password)
        if args.profile_out:
            Path(args.profile_out).write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccass_portal.settings")
    sys.exit(main())
