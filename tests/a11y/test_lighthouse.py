"""Lighthouse's accessibility score is 100 on the pages issue 20 measured, on desktop and mobile, in
English and Traditional Chinese (issue 20, "Done when"; docs/security.md, "Accessibility on phones and
screen readers"). Lighthouse is pinned by package-lock.json (`npm ci` in `make test`) and drives
Debian's Chromium itself, one Chromium per run; the logged-on pages get the session cookie of a
participant's user or a DA maker who logged on through the real flow in Playwright."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser

from tests.a11y.tour import log_in, people

LIGHTHOUSE = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking"
    " --disable-component-update --disable-sync --no-first-run"
)
QUIET_WAITS = ["pauseAfterFcpMs", "pauseAfterLoadMs", "networkQuietThresholdMs", "cpuQuietThresholdMs"]
PUBLIC = ["/", "/dms/", "/login/"]
TERMINAL = ["/terminal/"]
DMS = ["/dms/home/", "/dms/profiles/create/", "/dms/listings/user-profiles/", "/dms/reports/migration-readiness/"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def session_cookie(browser: Browser, base: str, prefix: str, user, app) -> str:
    """The session cookie of a person who logged on through the real flow (password, then OTP)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        log_in(page, base, prefix, user, app)
        cookies = {c["name"]: c["value"] for c in context.cookies()}
    finally:
        context.close()
    return f"{settings.SESSION_COOKIE_NAME}={cookies[settings.SESSION_COOKIE_NAME]}"


def lighthouse(url: str, cookie: str, form_factor: str) -> dict:
    command = [
        str(LIGHTHOUSE),
        url,
        "--only-categories=accessibility",
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        "--disable-full-page-screenshot",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--extra-headers={json.dumps({'Cookie': cookie})}",
        # Server-rendered pages with little script: a second of quiet after load (Lighthouse's
        # default, made for performance runs) adds minutes over 32 runs and nothing to this category.
        *(f"--{wait}=250" for wait in QUIET_WAITS),
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")  # mobile is Lighthouse's default
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "CHROME_PATH": CHROMIUM}
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def failing_audits(report: dict) -> list[dict]:
    audits = report["audits"]
    failing = []
    for ref in report["categories"]["accessibility"]["auditRefs"]:
        audit = audits[ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            items = (audit.get("details") or {}).get("items") or []
            nodes = [(i.get("node") or {}).get("selector") for i in items][:3]
            failing.append({"id": ref["id"], "title": audit["title"], "nodes": nodes})
    return failing


@pytest.mark.parametrize("form_factor", ["mobile", "desktop"])
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_lighthouse_accessibility_is_100(browser: Browser, live_server, participant, language, form_factor):
    assert LIGHTHOUSE.exists(), "run `npm ci` (make test does)"
    who = people(participant)
    base = live_server.url
    language_cookie = f"{settings.LANGUAGE_COOKIE_NAME}={language}"
    terminal = session_cookie(browser, base, "", *who.user)
    dms = session_cookie(browser, base, "/dms", *who.maker)
    pages = [(url, "") for url in PUBLIC] + [(url, terminal) for url in TERMINAL] + [(url, dms) for url in DMS]
    scores, failures = {}, {}
    for url, session in pages:
        report = lighthouse(base + url, "; ".join(filter(None, [session, language_cookie])), form_factor)
        # a logged-on page that bounced to a logon page would score the wrong page
        assert report["finalDisplayedUrl"] == base + url, (url, report["finalDisplayedUrl"])
        assert report["configSettings"]["formFactor"] == form_factor
        assert all(report["configSettings"][wait] == 250 for wait in QUIET_WAITS)
        scores[url] = report["categories"]["accessibility"]["score"]
        if scores[url] != 1:
            failures[url] = failing_audits(report)
    assert not failures, f"scores {scores}\n" + "\n".join(
        f"{url}: {json.dumps(found, ensure_ascii=False)}" for url, found in failures.items()
    )
