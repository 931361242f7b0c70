"""`make bench` (issues 7 and 19) still runs end to end: a miniature run of bench.run, its own PostgreSQL,
Redis, SMTP sink, gunicorn and Celery worker included. Speed is not asserted here (the benchmark
measures it); what is asserted holds whatever the machine: every logon of both sites succeeded, every
target of issue 19 has a row that shows it as a ratio, the exactness checks (lockout across two
instances, listing query count, every e-mail delivered) came out right, and the Met column of the
report agrees with the numbers it shows, judged here from the rendered row and not by bench/run.py's
own comparisons."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.stack import ROOT

TARGET_ROW = re.compile(
    r"^\| (?P<name>[^|]+?) \| (?P<required>[^|]+?) \| (?P<measured>[^|]+?) \| (?P<met>yes|\*\*no\*\*) \|$"
)
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


def numbers(text: str) -> list[tuple[float, float]]:
    """Each number shown in `text`, with half a unit of its last digit (what rounding may hide)."""
    out = []
    for shown in NUMBER.findall(text):
        plain = shown.replace(",", "")
        decimals = len(plain.split(".")[1]) if "." in plain else 0
        out.append((float(plain), 0.5 * 10**-decimals))
    return out


def compare(value: tuple[float, float], required: str) -> bool | None:
    """Whether `value` meets `required` (">= 58%", "<= 0.70x", "<= +10 MiB", ">= 0.60", "<= 1 s");
    None when the shown value is within rounding of the bound, so either answer may be right."""
    ((bound, _),) = numbers(required)[-1:]
    shown, slack = value
    if "<= 1 s" in required:
        bound *= 1000  # the measured side is in ms
    if abs(shown - bound) <= slack:
        return None
    return shown >= bound if required.startswith(">=") else shown <= bound


def judge(name: str, required: str, measured: str) -> bool | None:
    """The Met a reader would write from the row's own Required and Measured columns."""
    shown = numbers(measured)
    if " = " in measured:  # a ratio: "a of b = 85%", "a / b ms = 0.42x", "a − b MiB = +12.0 MiB"
        return compare(shown[-1], required)
    if name.startswith("E-mail OTP SUBMIT-to-mailbox p95"):
        p95 = re.search(r"p95 (\d+) ms", measured)
        errors = re.search(r"(\d+) errors", measured)
        met = compare(numbers(p95.group(1))[0], required)
        return False if int(errors.group(1)) else met
    if name.startswith("Peak RSS per worker over idle"):
        allowance = numbers(required)[-1][0]
        verdicts = [compare(x, f"<= {allowance}") for x in shown]
        return False if False in verdicts else (None if None in verdicts else True)
    if name.startswith("User Profile Listing: query count independent of N"):
        return len({counts for _, counts in re.findall(r"(\d+): ([\d/]+)", measured)}) == 1
    if name.startswith("Lockout through two instances"):
        counted = re.search(r"(\d+) counted, (\d+) lock", measured)
        return counted.group(1) == "5" and counted.group(2) == "1"
    return compare(shown[0], required)  # "3.2 ms", "1234 (0.81 ms CPU/request)", "12.3"


def met_column_errors(report: str) -> list[str]:
    errors = []
    rows = [TARGET_ROW.match(line) for line in report.splitlines()]
    rows = [row for row in rows if row]
    if not rows:
        return ["no target rows in the report"]
    for row in rows:
        verdict = judge(row["name"], row["required"], row["measured"])
        if verdict is not None and verdict != (row["met"] == "yes"):
            errors.append(f"{row['name']}: {row['measured']} vs {row['required']} marked {row['met']}")
    return errors


def test_the_met_column_check_catches_a_wrong_verdict():
    good = (
        "| CPU per logon other than hashing, portal / peer | <= 0.70x | 26.4 / 28.1 ms = 0.94x | **no** |\n"
        "| Logons per worker-CPU-second / argon2 bound | >= 58% | 30.1 of 45.6 = 66% | yes |\n"
        "| Idle RSS per worker, portal − peer | <= +10 MiB | 64.0 − 57.8 MiB = +6.2 MiB | yes |\n"
        "| `/` per worker-CPU-second / cheapest Django view | >= 0.60 | 544 / 1110 = 0.49 | **no** |\n"
        "| Lockout through two instances | 5 counted, 1 lock | 5 counted, 1 lock(s), 7 refused as locked "
        "(12 attempts at once) | yes |\n"
        "| Peak RSS per worker over idle | <= 1.1 x 19 MiB = 20.9 MiB | +20.2 MiB, +20.4 MiB | yes |\n"
    )
    assert met_column_errors(good) == []
    assert met_column_errors(good.replace("= 0.94x | **no** |", "= 0.94x | yes |"))
    assert met_column_errors(good.replace("= 66% | yes |", "= 56% | yes |"))
    assert met_column_errors(good.replace("= +6.2 MiB | yes |", "= +16.2 MiB | yes |"))
    assert met_column_errors(good.replace("= 0.49 | **no** |", "= 0.61 | **no** |"))
    assert met_column_errors(good.replace("5 counted, 1 lock(s)", "6 counted, 1 lock(s)"))
    assert met_column_errors(good.replace("+20.4 MiB", "+21.4 MiB"))
    assert met_column_errors("no table") == ["no target rows in the report"]


def test_make_bench_runs_end_to_end_in_miniature(tmp_path):
    out = tmp_path / "bench.json"
    command = [
        sys.executable,
        "-m",
        "bench.run",
        "--no-write",
        "--json",
        str(out),
        "--users",
        "400",  # each logon uses up a person (TOTP replay); a quiet machine logs on ~150 in the runs
        "--email-users",
        "3",
        "--listing-profiles",
        "150",
        "--clients",
        "2",
        "--duration",
        "2",
        "--unsaturated-seconds",
        "1",
        "--page-clients",
        "2",
        "--page-seconds",
        "1",
        "--profile-logons",
        "2",
        "--passkey-logons",
        "2",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report, data = done.stdout, json.loads(out.read_text())
    r = data["results"]

    for site in ("portal", "peer"):
        for run in ("unsaturated", "saturated"):
            assert r[site][run]["logons"] > 0 and r[site][run]["errors"] == 0, (site, run, r[site][run])
    # The password and OTP steps of a real logon read and write the database (a count of 0 would
    # mean the in-process measurement missed them), and the report shows the counts measured.
    steps = r["portal_inproc"]["queries_per_step"]
    assert steps["password"] > 0 and steps["otp"] > 0, steps
    assert "SQL queries per step: portal " + ", ".join(f"{k} {v}" for k, v in steps.items()) in report
    assert r["lockout"]["counted"] == 5 and r["lockout"]["locks"] == 1 and r["lockout"]["locked"]
    assert len({tuple(x["queries"]) for x in r["portal_inproc"]["listing"].values()}) == 1  # 100 and 150 profiles
    assert r["email"]["completed"] == r["email"]["n"] == 3 and r["email"]["errors"] == 0
    # The passkey logon beside the TOTP logon, in-process (issue 19): both completed, both shown.
    assert r["portal_passkey"]["passkey"]["logons"] == r["portal_passkey"]["totp"]["logons"] == 2
    assert "### Passkey logon beside the TOTP logon" in report
    assert r["email"]["worker_cpu_ms_per_mail"] > 0 and "E-mail OTP pipeline: the Celery worker spent" in report

    # The targets of issue 19, each shown as a ratio of two figures of this run (never an absolute),
    # then the checks of issue 7 that are not speeds.
    for row in [
        "CPU per logon other than hashing, portal / peer | <= 0.70x | ",
        "Logons per worker-CPU-second / argon2 bound | >= 58% | ",
        "OTP step p95 not saturated, portal / peer | <= 0.70x | ",
        "Idle RSS per worker, portal − peer | <= +10 MiB | ",
        "Peak RSS per worker over idle | <= 1.1 x ",
        "`/` per worker-CPU-second / cheapest Django view | >= 0.60 | ",
        "`/sso/` per worker-CPU-second / cheapest Django view | >= 0.45 | ",
        "User Profile Listing: query count independent of N",
        "E-mail OTP SUBMIT-to-mailbox p95",
        "Lockout through two instances",
    ]:
        assert f"| {row}" in report, row
    assert met_column_errors(report) == [], report
    ratios = [line for line in report.splitlines() if line.startswith("| ") and " = " in line and "|---" not in line]
    assert len(ratios) >= 6, report  # both sides measured in this run: "a / b = r", "a of b = r%", "a − b = d"
    for gone in ("<= 5 ms", ">= 1,000", ">= 30 |", "<= 0.5x", "<= 10 ms"):  # issue 7's absolute targets
        assert f"| {gone}" not in report, gone
    assert "Machine: `nproc` = " in report and "Command: `" in report
