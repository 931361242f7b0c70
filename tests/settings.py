"""Test settings: the real settings module, with the environment a test run needs."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("PORTAL_DEMO", "true")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")

from ccass_portal.settings import *  # noqa: E402,F401,F403

# Fast hashing only where a test does not measure it: argon2 stays first.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# the tests make beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: concurrency tests then see SQLite's real
    # locking (busy timeout, IMMEDIATE transactions), as the embedded demo does.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-portal-{os.getpid()}.sqlite3")}  # noqa: F405
