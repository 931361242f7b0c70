"""The native stack (tests/native_stack.py), started once per session for the tests
marked `stack`: PostgreSQL, Redis, an SMTP sink, bin/release, bin/worker and two
bin/web (gunicorn) on loopback ports. Under CI=true a missing service fails the run."""

from __future__ import annotations

import glob
import os
import shutil

import pytest
from playwright.sync_api import Page, expect

from tests.factories import GOOD_PASSWORD, AuthenticatorApp, need
from tests.native_stack import NativeStack, set_up_2fa, start_native_stack

TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

# Seeded demo accounts (accounts/demo_data.py) given a password and 2FA for the tests
# that start from an ongoing logon; the others stay as seed_demo made them (no password,
# first-time logon). Each test uses its own accounts, so the order of tests is free.
PREPARED = {
    "B0123403": "APP",  # lockout journey
    "B0123404": "APP",  # self-service reset journey
    "B01234X1": "APP",  # DMS maker
    "B01234Y1": "APP",  # DMS checker
    "BNK999X1": "APP",  # DMS maker (unlock/reset)
    "BNK999Y1": "APP",  # DMS checker (unlock/reset)
    "BNK99901": "EMAIL",  # unlocked and reset by the DAs, then first-time logon
    "BNK99902": "APP",  # 50 concurrent wrong passwords on two gunicorns
    "HKABC101": "EMAIL",  # SEC 30 broker down
    "HKABC102": "EMAIL",  # SEC 31 rolled back / only an id
    "HKABC201": "EMAIL",  # SEC 32 worker killed mid-send
    "HKABC202": "EMAIL",  # SEC 33 SMTP down
}


def _postgres_available() -> bool:
    url = os.environ.get("DATABASE_URL", "")
    return url.startswith(("postgres://", "postgresql://")) or bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@pytest.fixture(scope="session")
def native_stack() -> NativeStack:
    need(_postgres_available(), "PostgreSQL is required for the native stack (run `make test`)")
    need(bool(os.environ.get("TEST_REDIS_URL") or shutil.which("redis-server")), "redis-server is required")
    native = start_native_stack(os.environ.get("DATABASE_URL", ""), os.environ.get("TEST_REDIS_URL", ""))
    try:
        native.apps = {
            user_id: AuthenticatorApp(key) for user_id, key in set_up_2fa(native, PREPARED, GOOD_PASSWORD).items()
        }
        yield native
    finally:
        native.close()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, native_stack):
    need(os.path.exists("/usr/bin/chromium"), "Debian's Chromium is required (apt-get install chromium)")
    return {**browser_context_args, "base_url": native_stack.proxy.url, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    return page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed stack test's report ends with the errors its processes logged."""
    outcome = yield
    report = outcome.get_result()
    native = getattr(item, "funcargs", {}).get("native_stack")
    if report.failed and native is not None:
        report.sections.append(("native stack: errors in the logs", native.problems()))
