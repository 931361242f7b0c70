"""`make bench` (issue 7) still runs end to end: a miniature run of bench.run, its own PostgreSQL,
Redis, SMTP sink, gunicorn and Celery worker included. Speed is not asserted here (the benchmark
measures it); what is asserted holds whatever the machine: every logon of both sites succeeded, every
target has a row, and the exactness checks (lockout across two instances, listing query count,
every e-mail delivered) came out right."""

import json
import subprocess
import sys

from tests.stack import ROOT


def test_make_bench_runs_end_to_end_in_miniature(tmp_path):
    out = tmp_path / "bench.json"
    command = [
        sys.executable, "-m", "bench.run", "--no-write", "--json", str(out),
        "--users", "150", "--email-users", "3", "--listing-profiles", "150", "--clients", "2",
        "--duration", "2", "--unsaturated-seconds", "1", "--page-clients", "2", "--page-seconds", "1",
        "--profile-logons", "2",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report, data = done.stdout, json.loads(out.read_text())
    r, d = data["results"], data["derived"]

    for site in ("portal", "peer"):
        for run in ("unsaturated", "saturated"):
            assert r[site][run]["logons"] > 0 and r[site][run]["errors"] == 0, (site, run, r[site][run])
    assert d["portal"]["queries"] == sum(r["portal_inproc"]["queries_per_step"].values())
    assert r["lockout"]["counted"] == 5 and r["lockout"]["locks"] == 1 and r["lockout"]["locked"]
    assert len({tuple(x["queries"]) for x in r["portal_inproc"]["listing"].values()}) == 1  # 100 and 150 profiles
    assert r["email"]["completed"] == r["email"]["n"] == 3 and r["email"]["errors"] == 0

    for row in ["Logons per worker-CPU-second vs the argon2 bound", "CPU per logon other than hashing vs the peer",
                "OTP step p95, not saturated", "`/` requests/s per core", "`/sso/` requests/s per core",
                "User Profile Listing: query count independent of N", "E-mail OTP SUBMIT-to-mailbox p95",
                "Peak RSS per worker over idle", "Lockout through two instances"]:
        assert f"| {row}" in report, row
    assert "Machine: `nproc` = " in report and "Command: `" in report
