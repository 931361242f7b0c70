"""`make bench`: the portal's complete 2FA logon under load, beside django-two-factor-auth's.

    .venv/bin/python -m bench.run [--embedded] [--users N] [--clients C] [--duration S] [--no-write]

One run, on this machine, in about three minutes:

1. PostgreSQL, Redis and an SMTP sink on loopback (tests.stack), or SQLite with --embedded;
   `bin/release` (migrations), the peer's migrations, the people (bench.seed);
2. the argon2id hash time with the configured parameters, alone and two at once;
3. the portal under `bin/web` (gunicorn, 2 workers) and a Celery worker (`bin/worker`);
   from a separate process (bench.load): pages that do not hash, one client's logons
   (OTP latency when not saturated), C clients' logons for S seconds (saturated),
   e-mail OTPs from SUBMIT to the sink, a lockout attack through two gunicorn instances;
4. in-process (bench.inproc): the 10,000-profile User Profile Listing, queries per step,
   a pyinstrument profile of logons;
5. the peer (bench/peer) under the same gunicorn settings and the same client;
6. the results, the targets of issue 19 (ratios inside this run) and the checks of issue 7, printed and
   appended to docs/benchmarks.md.

Every process started here is stopped by its pid (process group for bin/ scripts) at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests import stack
from tests.stack import ROOT, Service

PY = sys.executable
TICK = os.sysconf("SC_CLK_TCK")
SECRET = "bench-secret-key-not-for-production-0123456789abcdefghijkl"  # nosec B105


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- /proc ------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(int(entry))[1]) == pid:
                    out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return sorted(out)


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes, in seconds."""
    total = 0
    for pid in pids:
        f = _stat_fields(pid)
        total += int(f[11]) + int(f[12])
    return total / TICK


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pids: list[int]) -> None:
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS


def machine_busy_seconds() -> float:
    """CPU-seconds the whole machine has been busy (all cores, /proc/stat)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = f[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


def speed_index() -> float:
    """CPU ms of a fixed pure-Python loop (3 M iterations), best of 3: lower is a faster (or less shared) CPU.
    Runs of this benchmark on different days are comparable only at a similar index."""
    best = float("inf")
    for _ in range(3):
        cpu, x = time.process_time(), 0
        for i in range(3_000_000):
            x += i * i
        best = min(best, (time.process_time() - cpu) * 1000)
    return best


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.4999))  # nearest rank
    return ordered[min(rank, len(ordered)) - 1]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99)}


# -- the run ------------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        self.services: list[Service] = []
        self.results: dict = {"embedded": args.embedded}
        self.redis_url = ""
        self.sink: Service | None = None

    # processes
    def own(self, service: Service) -> Service:
        self.services.append(service)
        return service

    def stop(self, service: Service) -> None:
        service.stop()
        if service in self.services:
            self.services.remove(service)

    def close(self) -> None:
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as exc:  # keep stopping the others
                log(f"could not stop {service.name} ({service.pid}): {exc}")
        self.services.clear()

    def env(self, site: str, **extra: str) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "EMAIL_URL")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="ccass_portal.settings" if site == "portal" else "bench.peer.settings",
            DJANGO_SECRET_KEY=SECRET,
            DATABASE_URL=self.db_urls[site],
            DJANGO_SECURE_COOKIES="false",
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
            PORTAL_DEMO="false",
            # The run must not depend on the hour it is started at (Terminal and DMS hours).
            PORTAL_ENFORCE_SERVICE_HOURS="false",
            PYTHONUNBUFFERED="1",
        )
        if site == "portal":
            env["REDIS_URL"] = self.redis_url
            env["EMAIL_URL"] = self.sink.url if self.sink else ""
        env.update(extra)
        return env

    def run(self, cmd: list[str], site: str, name: str, timeout: float = 240, **extra) -> subprocess.Popen:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env(site, **extra),
            stdout=subprocess.PIPE,
            stderr=open(self.workdir / f"{name}.log", "ab"),
            text=True,
        )

    def wait(self, proc: subprocess.Popen, name: str, timeout: float = 240) -> str:
        out, _ = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            tail = (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} failed ({proc.returncode}):\n{tail}")
        return out

    def call(self, cmd: list[str], site: str, name: str, timeout: float = 240, **extra) -> str:
        return self.wait(self.run(cmd, site, name, **extra), name, timeout)

    def load(self, *argv: str, timeout: float = 240) -> dict:
        return json.loads(self.call([PY, "-m", "bench.load", *argv], "portal", "load", timeout))

    def start_web(self, site: str, name: str) -> tuple[Service, str, list[int]]:
        port = stack.free_port()
        log_path = str(self.workdir / f"{name}.log")
        if site == "portal":
            service = stack.run_script(
                "web", self.env(site, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2"), log=log_path
            )
        else:  # the same gunicorn options bin/web gives the portal
            service = self.gunicorn("bench.peer.wsgi:application", port, "peer-web", log_path)
        service.name, service.port = name, port
        self.own(service)
        stack.wait_for_port(port, timeout=60, proc=service.proc)
        deadline = time.monotonic() + 30
        while len(children(service.pid)) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: gunicorn workers did not start")
            time.sleep(0.1)
        return service, f"http://127.0.0.1:{port}", children(service.pid)

    # phases
    def services_up(self) -> None:
        if self.args.embedded:
            self.db_urls = {s: f"sqlite:///{self.workdir / (s + '.sqlite3')}" for s in ("portal", "peer")}
        else:
            import psycopg

            pg = self.own(stack.start_postgres())
            with psycopg.connect(pg.url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
                for name in ("bench_portal", "bench_peer"):
                    conn.execute(f"CREATE DATABASE {name}")
            self.db_urls = {s: pg.url.rsplit("/", 1)[0] + f"/bench_{s}" for s in ("portal", "peer")}
            self.redis_url = self.own(stack.start_redis()).url
            self.results["postgres"] = subprocess.run(
                [stack._pg_bin("postgres"), "--version"], capture_output=True, text=True
            ).stdout.strip()
        self.sink = self.own(stack.start_smtp_sink())

    def prepare(self) -> None:
        a = self.args
        release = self.run([str(ROOT / "bin/release")], "portal", "release")
        peer = self.run([PY, "-m", "django", "migrate", "--noinput"], "peer", "peer-migrate")
        self.wait(release, "release")
        self.wait(peer, "peer-migrate")
        seeds = [
            self.run(
                [
                    PY,
                    "-m",
                    "bench.seed",
                    "portal",
                    str(self.workdir / "portal.json"),
                    "--users",
                    str(a.users),
                    "--email-users",
                    str(a.email_users),
                    "--listing-profiles",
                    str(a.listing_profiles),
                ],
                "portal",
                "seed-portal",
            ),
            self.run(
                [PY, "-m", "bench.seed", "peer", str(self.workdir / "peer.json"), "--users", str(a.users)],
                "peer",
                "seed-peer",
            ),
        ]
        self.wait(seeds[0], "seed-portal")
        self.wait(seeds[1], "seed-peer")
        self.settle_databases()
        log("hash timing (machine quiet)")
        self.call(
            [PY, "-m", "bench.seed", "hashtime", str(self.workdir / "hash.json"), "--rounds", "20"],
            "portal",
            "hashtime",
        )
        self.results["hash"] = json.loads((self.workdir / "hash.json").read_text())

    def settle_databases(self) -> None:
        """The seeds bulk-load ~12,000 rows; without this, autovacuum and the checkpoint that follow
        run during the first site's measurements (the portal's) and not during the peer's."""
        if self.args.embedded:
            return
        import psycopg

        log("VACUUM ANALYZE and CHECKPOINT after seeding")
        for url in self.db_urls.values():
            with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                conn.execute("CHECKPOINT")

    def pages(self, base: str, workers: list[int], paths, seconds: float | None = None) -> dict:
        """Each path alone for a few seconds from several clients: req/s and worker CPU per request."""
        a, pages = self.args, {}
        for path in paths:
            before = cpu_seconds(workers)
            r = self.load(
                "pages",
                "--base",
                base,
                "--paths",
                path,
                "--clients",
                str(a.page_clients),
                "--duration",
                str(seconds or a.page_seconds),
            )
            cpu = cpu_seconds(workers) - before
            lat = r["latencies"][path]
            pages[path] = {
                "requests": len(lat),
                "bad": r["bad"][path],
                "rps": len(lat) / r["wall"],
                "worker_cpu_s": cpu,
                "rps_per_core": len(lat) / cpu if cpu else float("nan"),
                "cpu_ms_per_request": 1000 * cpu / len(lat) if lat else float("nan"),
                **summary(lat),
            }
        return pages

    def gunicorn(self, app: str, port: int, name: str, log_path: str) -> Service:
        """gunicorn with the options bin/web gives the portal, in a process group of its own."""
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                app,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "30",
                "--access-logfile",
                "-",
                "--error-logfile",
                "-",
            ],
            cwd=ROOT,
            env=self.env("peer"),
            stdout=open(log_path, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return Service(name, proc.pid, port, proc=proc, extra={"group": True})

    def floor(self) -> dict:
        """gunicorn (same options, 2 workers) serving a WSGI app that does nothing."""
        port = stack.free_port()
        service = self.own(self.gunicorn("bench.floor:app", port, "floor", str(self.workdir / "floor.log")))
        stack.wait_for_port(port, timeout=30, proc=service.proc)
        while len(children(service.pid)) < 2:
            time.sleep(0.1)
        try:
            return self.pages(f"http://127.0.0.1:{port}", children(service.pid), ("/",), seconds=3)["/"]
        finally:
            self.stop(service)

    def hashtime(self, label: str) -> dict:
        out = self.workdir / f"hash-{label}.json"
        self.call([PY, "-m", "bench.seed", "hashtime", str(out), "--rounds", "10"], "portal", f"hashtime-{label}")
        return json.loads(out.read_text())

    def logon_run(
        self, site: str, base: str, workers: list[int], *, clients: int, duration: float, offset: int, count: int
    ) -> dict:
        people = str(self.workdir / f"{site}.json")
        before = cpu_seconds(workers)
        result = self.load(
            "logon",
            "--site",
            site,
            "--base",
            base,
            "--people",
            people,
            "--offset",
            str(offset),
            "--count",
            str(count),
            "--clients",
            str(clients),
            "--duration",
            str(duration),
        )
        result["worker_cpu_s"] = cpu_seconds(workers) - before
        result["steps"] = {name: summary(v) for name, v in result["steps"].items()}
        result["totals"] = summary(result["totals"])
        if result["errors"]:
            log(f"{site}: {result['errors']} failed logons, e.g. {result['error_samples']}")
        return result

    def measure_site(self, site: str, name: str) -> dict:
        """Warm-up, idle RSS, (portal: pages, unsaturated OTP), saturated logons, peak RSS."""
        a, out = self.args, {}
        web, base, workers = self.start_web(site, name)
        out["workers"] = workers
        warm = 2 * a.clients
        # Idle: every page that does not hash served by each worker, no password checked yet. One
        # path at a time from two clients: with the paths interleaved, a worker could miss one (`/sso/`
        # loads the Redis client: 6.6 MiB), and the logons after would count its loading as peak.
        for path in ("/", "/sso/", "/login/?service=online") if site == "portal" else ("/ping/", "/account/login/"):
            self.load("pages", "--base", base, "--paths", path, "--clients", "2", "--duration", "0.6")
        out["idle_rss_kib"] = [status_kib(p, "VmRSS") for p in workers]
        reset_peak(workers)
        w = self.logon_run(site, base, workers, clients=2, duration=30, offset=0, count=warm)
        if w["errors"] or not w["logons"]:
            raise RuntimeError(
                f"{site}: the warm-up logons failed: {w['error_samples']} (see {self.workdir}/{name}.log)"
            )
        out["rss_after_warm_logons_kib"] = [status_kib(p, "VmRSS") for p in workers]
        used = warm
        out["pages"] = self.pages(base, workers, ("/", "/sso/") if site == "portal" else ("/ping/",))
        log(f"{site}: one client's logons (not saturated)")
        out["unsaturated"] = self.logon_run(
            site,
            base,
            workers,
            clients=1,
            duration=a.unsaturated_seconds,  # the same for both sites: the OTP p95 ratio compares them
            offset=used,
            count=a.users,
        )
        used += out["unsaturated"]["logons"] + out["unsaturated"]["errors"]
        out["hash_before"] = self.hashtime(f"{site}-before")
        log(f"{site}: {a.clients} clients' logons for {a.duration:.0f} s (saturated)")
        busy, loadavg = machine_busy_seconds(), Path("/proc/loadavg").read_text().split()[:3]
        out["saturated"] = self.logon_run(
            site, base, workers, clients=a.clients, duration=a.duration, offset=used, count=a.users
        )
        out["saturated"]["machine_busy_s"] = machine_busy_seconds() - busy
        out["saturated"]["loadavg_before"] = loadavg
        out["hash_after"] = self.hashtime(f"{site}-after")
        used += out["saturated"]["logons"] + out["saturated"]["errors"]
        out["peak_rss_kib"] = [status_kib(p, "VmHWM") for p in workers]
        out["people_used"] = used
        return out | {"_web": web, "_base": base}

    def email_and_lockout(self, base: str) -> None:
        a = self.args
        if not self.args.embedded:
            worker = self.own(
                stack.run_script(
                    "worker", self.env("portal", WORKER_CONCURRENCY="2"), log=str(self.workdir / "worker.log")
                )
            )
            worker.name = "worker"
            deadline = time.monotonic() + 60
            while "ready." not in (self.workdir / "worker.log").read_text(errors="replace"):
                if time.monotonic() > deadline or worker.proc.poll() is not None:
                    raise RuntimeError("the Celery worker did not start")
                time.sleep(0.1)
        log("e-mail OTP: SUBMIT to the SMTP sink")
        # The Celery worker's CPU per mail (its main process and its pool): the capacity model's
        # e-mail OTP rate (docs/benchmarks.md).
        worker_procs = [] if self.args.embedded else [worker.pid, *children(worker.pid)]
        worker_cpu = cpu_seconds(worker_procs)
        r = self.load(
            "email",
            "--base",
            base,
            "--people",
            str(self.workdir / "portal.json"),
            "--key",
            "email_users",
            "--sink-dir",
            self.sink.workdir,
            "--clients",
            "2",
        )
        self.results["email"] = {
            "completed": r["completed"],
            "errors": r["errors"],
            "error_samples": r["error_samples"],
            "through": "in-process task (embedded)" if a.embedded else "Redis + bin/worker",
            **summary(r["latencies"]),
            "submit": summary(r["submit_ms"]),
        }
        if worker_procs and r["completed"]:
            self.results["email"]["worker_cpu_ms_per_mail"] = (
                1000 * (cpu_seconds(worker_procs) - worker_cpu) / r["completed"]
            )
        log("lockout through two gunicorn instances")
        second, base2, _ = self.start_web("portal", "web-2")
        seed = json.loads((self.workdir / "portal.json").read_text())
        target = seed["lockout_user"]["user_id"]
        r = self.load("lockout", "--bases", f"{base},{base2}", "--user", target, "--attempts", str(a.attack))
        self.stop(second)
        code = (
            "import json; from accounts.models import AuditEvent as A, User; "
            f"q = A.objects.filter(subject_id='{target}'); "
            "print(json.dumps({'counted': q.filter(kind='logon_failure').exclude(data__reason='locked').count(), "
            "'refused_locked': q.filter(kind='logon_failure', data__reason='locked').count(), "
            "'locks': q.filter(kind='account_locked').count(), "
            f"'locked': User.objects.get(pk='{target}').locked_at is not None}}))"
        )
        counts = json.loads(
            self.call([PY, "manage.py", "shell", "-c", code], "portal", "lockout-count").strip().splitlines()[-1]
        )
        self.results["lockout"] = {**r, **counts}

    def inproc(self, site: str, offset: int) -> None:
        """bench.inproc for one site: listing, queries per step, a profile of logons."""
        self.call(
            [
                PY,
                "-m",
                "bench.inproc",
                site,
                str(self.workdir / f"{site}.json"),
                str(self.workdir / f"inproc-{site}.json"),
                "--offset",
                str(offset),
                "--profile-logons",
                str(self.args.profile_logons),
                "--profile-out",
                str(self.workdir / f"profile-{site}.txt"),
            ],
            site,
            f"inproc-{site}",
            timeout=300,
        )
        self.results[f"{site}_inproc"] = json.loads((self.workdir / f"inproc-{site}.json").read_text())

    def everything(self) -> None:
        a = self.args
        started = time.perf_counter()
        log(f"work directory {self.workdir}")
        self.results["speed_index_start"] = speed_index()
        self.services_up()
        self.prepare()
        log("portal under bin/web")
        portal = self.measure_site("portal", "web-1")
        self.email_and_lockout(portal["_base"])
        self.stop(portal.pop("_web"))
        portal.pop("_base")
        self.results["portal"] = portal
        log("in-process: listing, queries per step, profile")
        self.inproc("portal", portal["people_used"])
        if a.passkey_logons:
            log("in-process: passkey logons beside TOTP logons (PORTAL_PASSKEYS on)")
            out = self.workdir / "inproc-passkey.json"
            # After the people bench.inproc used above (2 + 2 x --profile-logons).
            offset = portal["people_used"] + 2 + 2 * a.profile_logons
            # Switching passkeys on is a release with them on: its migrations make django-otp-webauthn's
            # tables, which bin/release left out with them off (docs/decisions.md, "Passkeys off").
            self.call([PY, "manage.py", "migrate", "--noinput"], "portal", "passkey-migrate", PORTAL_PASSKEYS="true")
            self.call(
                [PY, "-m", "bench.inproc", "portal", str(self.workdir / "portal.json"), str(out)]
                + ["--offset", str(offset), "--passkey-logons", str(a.passkey_logons)],
                "portal",
                "inproc-passkey",
                timeout=300,
                PORTAL_PASSKEYS="true",
            )
            self.results["portal_passkey"] = json.loads(out.read_text())
        if not a.no_peer:
            log("peer (django-two-factor-auth) under gunicorn")
            peer = self.measure_site("peer", "peer-web")
            self.stop(peer.pop("_web"))
            peer.pop("_base")
            self.results["peer"] = peer
            self.inproc("peer", peer["people_used"])
        log("floor: gunicorn serving a WSGI app that does nothing")
        self.results["floor"] = self.floor()
        self.results["speed_index_end"] = speed_index()
        self.results["seconds"] = time.perf_counter() - started
        for name in ("profile-portal.txt", "profile-peer.txt"):
            if (self.workdir / name).exists():
                self.results[name] = (self.workdir / name).read_text()


# -- what the numbers say ------------------------------------------------------------------


def derive(r: dict) -> dict:
    """The figures of issue 7, from the raw results.

    The hash time subtracted from a site's CPU per logon is the one measured right before and
    right after that site's saturated run, two hashes at once (as in the two busy workers):
    on a shared machine the CPU time of the same work moves with what else runs."""
    h = r["hash"]
    d = {
        "hash_ms": h["verify_cpu_ms"],
        "hash_ms_parallel": h["verify_cpu_ms_parallel"],
        "bound_quiet": 1000 / h["verify_cpu_ms"],
    }
    argon_kib = h["params"]["memory_cost_kib"]
    for site in ("portal", "peer"):
        s = r.get(site)
        if not s:
            continue
        sat = s["saturated"]
        hash_ms = (s["hash_before"]["verify_cpu_ms_parallel"] + s["hash_after"]["verify_cpu_ms_parallel"]) / 2
        cpu_per_logon = 1000 * sat["worker_cpu_s"] / sat["logons"] if sat["logons"] else float("nan")
        bound = 1000 / hash_ms  # logons per CPU-second if hashing were all
        d[site] = {
            "hash_ms": hash_ms,
            "bound": bound,
            "logons_per_s": sat["logons"] / sat["wall"],
            "cpu_ms_per_logon": cpu_per_logon,
            "logons_per_cpu_s": 1000 / cpu_per_logon,
            "of_bound": (1000 / cpu_per_logon) / bound,
            "non_hash_cpu_ms": cpu_per_logon - hash_ms,
            "non_hash_cpu_ms_quiet_hash": cpu_per_logon - h["verify_cpu_ms"],
            "peak_over_idle_mib": [(pk - idle) / 1024 for pk, idle in zip(s["peak_rss_kib"], s["idle_rss_kib"])],
            "rss_allowance_mib": 1.1 * argon_kib / 1024,
            "otp_p95_unsaturated": s["unsaturated"]["steps"]["otp"]["p95"],
            "idle_rss_mib": sum(s["idle_rss_kib"]) / len(s["idle_rss_kib"]) / 1024,
            "machine_busy": sat.get("machine_busy_s", float("nan")) / sat["wall"],
            "workers_busy": sat["worker_cpu_s"] / sat["wall"],
        }
    d["bound"] = d["portal"]["bound"]
    ping = r.get("peer", {}).get("pages", {}).get("/ping/")
    if ping:  # the cheapest Django view: the peer's `/ping/` (middleware only), in this run
        d["cheapest_view_per_cpu_s"] = ping["rps_per_core"]
    if "peer" in d:
        d["ratio_non_hash"] = d["portal"]["non_hash_cpu_ms"] / d["peer"]["non_hash_cpu_ms"]
        d["ratio_cpu_per_logon"] = d["portal"]["cpu_ms_per_logon"] / d["peer"]["cpu_ms_per_logon"]
        d["ratio_logons_per_s"] = d["portal"]["logons_per_s"] / d["peer"]["logons_per_s"]
    return d


Row = tuple[str, str, str, bool | None]  # (target, required, measured, met); met None: not measured


def _ratio_row(name: str, required: str, bound: float, portal: float, peer: float | None, unit: str = " ms") -> Row:
    """A portal / peer row: at most `bound` times the peer's, both measured in this run."""
    if peer is None:
        return (name, required, "— (run without the peer)", None)
    ratio = portal / peer
    return (name, required, f"{portal:.1f} / {peer:.1f}{unit} = {ratio:.2f}x", ratio <= bound)


def targets(r: dict, d: dict) -> list[Row]:
    """The targets of issue 19: each a ratio of two figures measured in this one run, so that a
    busy or slow machine moves both sides alike."""
    p, q = d["portal"], d.get("peer")
    out = [
        _ratio_row(
            "CPU per logon other than hashing, portal / peer",
            "<= 0.70x",
            0.70,
            p["non_hash_cpu_ms"],
            q and q["non_hash_cpu_ms"],
        ),
        (
            "Logons per worker-CPU-second / argon2 bound",
            ">= 58%",
            f"{p['logons_per_cpu_s']:.1f} of {d['bound']:.1f} = {100 * p['of_bound']:.0f}%",
            p["of_bound"] >= 0.58,
        ),
        _ratio_row(
            "OTP step p95 not saturated, portal / peer",
            "<= 0.70x",
            0.70,
            p["otp_p95_unsaturated"],
            q and q["otp_p95_unsaturated"],
        ),
    ]
    if q:
        extra = p["idle_rss_mib"] - q["idle_rss_mib"]
        measured = f"{p['idle_rss_mib']:.1f} − {q['idle_rss_mib']:.1f} MiB = {extra:+.1f} MiB"
        out.append(("Idle RSS per worker, portal − peer", "<= +10 MiB", measured, extra <= 10))
    else:
        out.append(("Idle RSS per worker, portal − peer", "<= +10 MiB", "— (run without the peer)", None))
    out.append(
        (
            "Peak RSS per worker over idle",
            f"<= 1.1 x {r['hash']['params']['memory_cost_kib'] // 1024} MiB = {p['rss_allowance_mib']:.1f} MiB",
            ", ".join(f"{x:+.1f} MiB" for x in p["peak_over_idle_mib"]),
            all(x <= p["rss_allowance_mib"] for x in p["peak_over_idle_mib"]),
        )
    )
    cheapest = d.get("cheapest_view_per_cpu_s")
    for path, required in (("/", 0.60), ("/sso/", 0.45)):
        name = f"`{path}` per worker-CPU-second / cheapest Django view"
        page = r["portal"]["pages"][path]
        if cheapest:
            ratio = page["rps_per_core"] / cheapest
            out.append(
                (
                    name,
                    f">= {required:.2f}",
                    f"{page['rps_per_core']:.0f} / {cheapest:.0f} = {ratio:.2f}",
                    ratio >= required,
                )
            )
        else:
            out.append((name, f">= {required:.2f}", "— (run without the peer's `/ping/`)", None))
    return out


def checks(r: dict) -> list[Row]:
    """What issue 7 asked that is not a speed: exact counts, and the listing and e-mail latencies."""
    out = []
    listing = r.get("portal_inproc", {}).get("listing", {})
    if listing:
        sizes = sorted(listing.values(), key=lambda x: x["profiles"])
        big = sizes[-1]
        same = len({tuple(x["queries"]) for x in sizes}) == 1
        out.append(
            (
                "User Profile Listing: query count independent of N",
                "same",
                ", ".join(f"{x['profiles']}: {'/'.join(map(str, x['queries']))}" for x in sizes),
                same,
            )
        )
        out.append(
            (
                f"User Profile Listing, {big['profiles']:,} profiles, server time",
                "<= 200 ms",
                f"{big['ms_median']:.0f} ms (median of 5; max {big['ms_max']:.0f})",
                big["ms_median"] <= 200,
            )
        )
    e = r["email"]
    out.append(
        (
            f"E-mail OTP SUBMIT-to-mailbox p95 ({e['through']})",
            "<= 1 s",
            f"p50 {e['p50']:.0f} ms, p95 {e['p95']:.0f} ms ({e['completed']} mails, {e['errors']} errors)",
            e["p95"] <= 1000 and not e["errors"],
        )
    )
    lk = r["lockout"]
    out.append(
        (
            "Lockout through two instances",
            "5 counted, 1 lock",
            f"{lk['counted']} counted, {lk['locks']} lock(s), {lk['refused_locked']} refused as locked "
            f"({lk['attempts']} attempts at once)",
            lk["counted"] == 5 and lk["locks"] == 1 and lk["locked"],
        )
    )
    return out


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "mem_gib": int(mem) / 1024 / 1024,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def render(r: dict, d: dict, command: str) -> str:
    m = r["machine"]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "accounts", "otp", "ccass_portal", "dms", "templates", "static", "bin"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if dirty:  # the run measured the work tree, not only the commit
        rev += f" + uncommitted changes in {len(dirty.splitlines())} product files"
    db = "SQLite (embedded)" if r["embedded"] else f"{r.get('postgres', 'PostgreSQL')} + Redis on loopback"
    lines = [
        f"## {when} — commit {rev}",
        "",
        f"- Machine: `nproc` = {m['nproc']}, {m['cpu']}, {m['mem_gib']:.1f} GiB, Python {m['python']}, "
        f"Linux {m['kernel']}",
        f"- Command: {command} ({r['seconds']:.0f} s); database: {db}; gunicorn 2 sync workers; "
        f"{r['args']['clients']} clients for {r['args']['duration']:.0f} s (saturated), 1 client for "
        f"{r['args']['unsaturated_seconds']:.0f} s (not saturated)",
        f"- argon2id m={r['hash']['params']['memory_cost_kib'] // 1024} MiB, t={r['hash']['params']['time_cost']}, "
        f"p={r['hash']['params']['parallelism']}: verify {d['hash_ms']:.1f} ms CPU alone, "
        f"{d['hash_ms_parallel']:.1f} ms CPU with two at once; hash (encode) {r['hash']['encode_cpu_ms']:.1f} ms; "
        f"bound {d['bound_quiet']:.1f} logons per CPU-second (quiet), {d['bound']:.1f} next to the portal's run",
        f"- Machine load: Python speed index {r['speed_index_start']:.0f} ms at the start, {r['speed_index_end']:.0f} ms "
        f"at the end (CPU ms of a fixed loop; lower is faster); during the portal's saturated run the machine was "
        f"busy {d['portal']['machine_busy']:.2f} of {m['nproc']} cores, its two workers {d['portal']['workers_busy']:.2f} "
        f"(load average before: {' '.join(r['portal']['saturated']['loadavg_before'])})",
        "",
        "### Targets (issue 19: ratios inside this run)",
        "",
        "| Target | Required | Measured | Met |",
        "|---|---|---|---|",
    ]
    verdict = {True: "yes", False: "**no**", None: "—"}
    for name, required, measured, met in targets(r, d):
        lines.append(f"| {name} | {required} | {measured} | {verdict[met]} |")
    lines += ["", "### Checks (issue 7)", "", "| Check | Required | Measured | Met |", "|---|---|---|---|"]
    for name, required, measured, met in checks(r):
        lines.append(f"| {name} | {required} | {measured} | {verdict[met]} |")
    lines += [
        "",
        "### Portal and peer, same client, same run",
        "",
        "| | Portal | Peer (django-two-factor-auth) | Portal / peer |",
        "|---|---|---|---|",
    ]
    has_peer = "peer" in d

    def row(label, key, fmt="{:.1f}"):
        pv = d["portal"][key]
        qv = d["peer"][key] if has_peer else None
        numeric = isinstance(pv, (int, float)) and isinstance(qv, (int, float))
        ratio = f"{pv / qv:.2f}x" if has_peer and numeric and qv else "—"
        lines.append(f"| {label} | {fmt.format(pv)} | {fmt.format(qv) if has_peer else '—'} | {ratio} |")

    row("Complete logons/s (2 workers, saturated)", "logons_per_s")
    row("Worker CPU per logon (ms)", "cpu_ms_per_logon")
    row("Logons per worker-CPU-second", "logons_per_cpu_s")
    row("CPU per logon other than hashing (ms)", "non_hash_cpu_ms")
    row("argon2id verify CPU next to the run, two at once (ms)", "hash_ms")
    row("… other than hashing, with the quiet hash time (ms)", "non_hash_cpu_ms_quiet_hash")
    row("OTP step p95, not saturated (ms)", "otp_p95_unsaturated")
    for site in ("portal", "peer"):
        if site in r:
            s = r[site]
            d[site]["idle"] = "/".join(f"{x / 1024:.0f}" for x in s["idle_rss_kib"])
            d[site]["peak"] = "/".join(f"{x / 1024:.0f}" for x in s["peak_rss_kib"])
            d[site]["warm"] = "/".join(f"{x / 1024:.0f}" for x in s["rss_after_warm_logons_kib"])
            d[site]["errors"] = s["saturated"]["errors"] + s["unsaturated"]["errors"]
            q = r.get(f"{site}_inproc", {})
            d[site]["queries"] = sum(q.get("queries_per_step", {}).values())
            d[site]["inproc_cpu"] = q.get("inproc_logon", {}).get("cpu_ms_without_hash", float("nan"))
    row("Idle RSS per worker, before any hash (MiB)", "idle", "{}")
    row("RSS after the warm-up logons (MiB)", "warm", "{}")
    row("Peak RSS per worker (MiB)", "peak", "{}")
    row("SQL queries in one logon (all steps)", "queries", "{}")
    row("In-process CPU per logon other than hashing (ms)", "inproc_cpu")
    row("Failed logons during the run", "errors", "{}")
    pk = r.get("portal_passkey")
    if pk:
        t, k = pk["totp"], pk["passkey"]
        lines += [
            "",
            f"### Passkey logon beside the TOTP logon (in-process, PORTAL_PASSKEYS on, {k['logons']} of each, "
            "interleaved)",
            "",
            "| | TOTP (app code) | Passkey | Passkey / TOTP |",
            "|---|---|---|---|",
        ]
        for label, key in (
            ("CPU per logon other than hashing (ms, median)", "non_hash_cpu_ms"),
            (
                "Second factor p95, wall clock (ms; TOTP: the OTP POST; passkey: options + answer)",
                "second_factor_p95_ms",
            ),
            ("Requests per logon", "requests"),
            ("SQL statements per logon", "queries"),
        ):
            lines.append(f"| {label} | {t[key]:.1f} | {k[key]:.1f} | {k[key] / t[key]:.2f}x |")
        lines += [
            "",
            "CPU per step (ms, median): TOTP "
            + ", ".join(f"{n} {v:.1f}" for n, v in t["step_cpu_ms"].items())
            + "; passkey "
            + ", ".join(f"{n} {v:.1f}" for n, v in k["step_cpu_ms"].items())
            + " (`password` includes the hash).",
        ]
    lines += [
        "",
        "Latency per step, saturated run (ms, p50 / p95 / p99; requests of each site):",
        "",
        "| Step | Portal | Peer |",
        "|---|---|---|",
    ]
    names = list(r["portal"]["saturated"]["steps"])
    for name in names + ["total"]:
        cells = []
        for site in ("portal", "peer"):
            if site not in r:
                cells.append("—")
                continue
            s = r[site]["saturated"]["totals"] if name == "total" else r[site]["saturated"]["steps"].get(name)
            cells.append(f"{s['p50']:.0f} / {s['p95']:.0f} / {s['p99']:.0f}" if s else "(in `password`)")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    u = r["portal"]["unsaturated"]["steps"]
    lines += [
        "",
        "Not saturated (portal, 1 client; ms p50 / p95 / p99): "
        + "; ".join(f"{k} {v['p50']:.1f} / {v['p95']:.1f} / {v['p99']:.1f}" for k, v in u.items())
        + ".",
    ]
    lines += [
        "",
        "Pages that do not hash (portal, "
        f"{r['args']['page_clients']} clients, {r['args']['page_seconds']:.0f} s each): "
        + "; ".join(
            f"`{p}` {v['rps']:.0f} req/s, {v['rps_per_core']:.0f} per worker-CPU-second, p95 {v['p95']:.1f} ms"
            for p, v in r["portal"]["pages"].items()
        )
        + ".",
    ]
    per_mail = r["email"].get("worker_cpu_ms_per_mail")
    if per_mail:
        lines += [
            "",
            f"E-mail OTP pipeline: the Celery worker spent {per_mail:.1f} ms CPU per mail delivered "
            f"({1000 / per_mail:.0f} mails per worker-CPU-second; Redis in, SMTP out).",
        ]
    floor = r.get("floor")
    ping = r.get("peer", {}).get("pages", {}).get("/ping/")
    if floor:
        lines += [
            "",
            f"Floor of one request under the same gunicorn (4 clients): a WSGI app that does nothing "
            f"{floor['cpu_ms_per_request']:.2f} ms worker CPU/request ({floor['rps_per_core']:.0f} per "
            f"worker-CPU-second)"
            + (
                f"; the peer's cheapest Django view (`/ping/`: middleware, no template, "
                f"no database) {ping['cpu_ms_per_request']:.2f} ms ({ping['rps_per_core']:.0f})"
                if ping
                else ""
            )
            + ".",
        ]
    si = r.get("portal_inproc", {}).get("inproc_step_cpu_ms", {})
    if si:
        lines += [
            "",
            "In-process CPU per step (portal, median, ms; django.test.Client, no network): "
            + ", ".join(f"{k} {v:.1f}" for k, v in si.items())
            + " (`password` includes the hash).",
        ]
    q = r.get("portal_inproc", {}).get("queries_per_step", {})
    qp = r.get("peer_inproc", {}).get("queries_per_step", {})
    lines += [
        "",
        "SQL queries per step: portal "
        + ", ".join(f"{k} {v}" for k, v in q.items())
        + ("; peer " + ", ".join(f"{k} {v}" for k, v in qp.items()) if qp else "")
        + ".",
    ]
    return "\n".join(lines) + "\n"


HEADER = """# Benchmarks

`make bench` (scripts in `bench/`, see `bench/run.py`) measures the complete 2FA logon under
gunicorn and the figures of issues 7 and 19, beside a peer built on django-two-factor-auth
(`bench/peer/`). Each run appends a dated section below; older runs are kept for comparison.
Definitions: *CPU per logon* is the user+system CPU of the two gunicorn workers
(`/proc/<pid>/stat`) over the saturated run divided by the complete logons; *other than hashing*
subtracts one argon2id verify timed in a separate process; *per core* means per worker-CPU-second.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--embedded", action="store_true", help="SQLite and in-process tasks instead of PostgreSQL+Redis"
    )
    parser.add_argument("--users", type=int, default=1500, help="2FA-enrolled people per site")
    parser.add_argument("--email-users", type=int, default=40)
    parser.add_argument("--listing-profiles", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=6, help="concurrent clients in the saturated run")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of the saturated run")
    parser.add_argument("--unsaturated-seconds", type=float, default=8.0)
    parser.add_argument("--page-clients", type=int, default=4)
    parser.add_argument("--page-seconds", type=float, default=5.0)
    parser.add_argument("--attack", type=int, default=12, help="wrong passwords sent at once in the lockout test")
    parser.add_argument("--profile-logons", type=int, default=10)
    parser.add_argument(
        "--passkey-logons", type=int, default=10, help="in-process passkey and TOTP logons each (0: none)"
    )
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    parser.add_argument("--json", default="", help="also write the raw results here")
    parser.add_argument("--render", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    command = f"`{shlex.join(['.venv/bin/python', '-m', 'bench.run', *sys.argv[1:]])}`"
    if os.environ.get("MAKELEVEL"):  # started by `make bench` (BENCH_ARGS passes options)
        extra = os.environ.get("BENCH_ARGS", "")
        command = f"`make bench{' BENCH_ARGS=' + shlex.quote(extra) if extra else ''}` (runs {command})"
    if args.render:  # re-render a saved run (--json) without running anything
        r = json.loads(Path(args.render).read_text())["results"]
        print(render(r, derive(r), command))
        return 0
    bench = Bench(args)
    try:
        bench.everything()
    finally:
        bench.close()
    r = bench.results
    r["args"] = vars(args)
    r["machine"] = machine()
    (bench.workdir / "results.json").write_text(json.dumps({"results": r}, default=str))
    d = derive(r)
    text = render(r, d, command)
    print(text)
    for name in ("profile-portal.txt", "profile-peer.txt"):
        if name in r:
            print(f"--- {name} (pyinstrument, {args.profile_logons} logons in-process)\n{r[name]}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"results": r, "derived": d}, indent=1, default=str))
    if not args.no_write:
        doc = ROOT / "docs" / "benchmarks.md"
        existing = doc.read_text() if doc.exists() else HEADER
        doc.write_text(existing.rstrip("\n") + "\n\n" + text)
        log(f"appended to {doc.relative_to(ROOT)}")
    import shutil

    shutil.rmtree(bench.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
