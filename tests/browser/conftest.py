"""Fixtures of the browser tests: Playwright (Debian's Chromium, see tests/conftest.py)
against pytest-django's live server, in the same process as the tests.

The live server runs in a thread of this process, so the tests can read
django.core.mail.outbox (tests.settings uses the locmem backend) and use the ORM
beside the browser (tests.settings sets DJANGO_ALLOW_ASYNC_UNSAFE).
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

DEFAULT_TIMEOUT_MS = 10_000

expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Own SQLite file per run: other people run the suite in the same worktree at the
    same time, and tests.settings names one fixed file (var/test-portal.sqlite3)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    test_name = db.get("TEST", {}).get("NAME")
    if db["ENGINE"] == "django.db.backends.sqlite3" and test_name and test_name != ":memory:":
        stem, dot, ext = test_name.rpartition(".")
        db["TEST"]["NAME"] = f"{stem}-browser-{os.getpid()}{dot}{ext}" if dot else f"{test_name}-browser-{os.getpid()}"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {**browser_context_args, "base_url": live_server.url, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return page
