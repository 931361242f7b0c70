"""Passkeys switched off: django-otp-webauthn is not installed and nothing loads it (issue 19;
docs/decisions.md, "Passkeys off: django-otp-webauthn not loaded"). A web worker then carries no
py_webauthn, pyOpenSSL, cbor2 or pyasn1 (~7 MiB), serves the portal as the seeds' portal (the
passkey URLs do not exist), and the passkeys people enrolled while it was on count for nobody, are
still taken away by a registration reset, and come back when passkeys are switched on again.

Each step is a process of its own with the portal's settings, as a deployment restarts with
PORTAL_PASSKEYS changed; the tests' own settings keep passkeys on (PORTAL_DEMO)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.stack import ROOT
from tests.test_deployment import production_env
from tests.test_logging import run as run_in_production

LIBRARY = ("django_otp_webauthn", "webauthn", "cbor2", "OpenSSL", "pyasn1")

PASSKEY_URLS = (
    "/login/passkey/",
    "/login/passkey/begin/",
    "/login/setup/passkey/",
    "/reset/passkey/begin/",
    "/password/authentication-settings/passkey/",
)

SETUP = (
    f"LIBRARY = {LIBRARY!r}\nURLS = {PASSKEY_URLS!r}\n"
    + """
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from accounts.models import Participant, User
from dms import selectors
from tests.factories import GOOD_PASSWORD, make_person
def loaded():
    return sorted({m.split(".")[0] for m in sys.modules} & set(LIBRARY))
def figures():
    readiness, _ = selectors.twofa_readiness(Participant.objects.get(participant_id="B01234"))
    return readiness.by_factor
"""
)


def run(code: str, tmp_path, *, passkeys: bool) -> dict:
    """The last line `code` prints, as JSON, from a process with the portal's settings on one
    SQLite file kept across the steps."""
    result = run_in_production(
        SETUP + textwrap.dedent(code),
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        REDIS_URL="",
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_SECURE_SSL_REDIRECT="false",
        PORTAL_ENFORCE_SERVICE_HOURS="false",
        PORTAL_PASSKEYS="true" if passkeys else "false",
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_switched_off_a_worker_serves_and_logs_on_without_the_passkey_library(tmp_path):
    off = run(
        """
        import ccass_portal.wsgi  # what gunicorn loads in each worker, warm-up included
        from django.test import Client
        participant = Participant.objects.create(participant_id="B01234", name="ABC SECURITIES", max_users=20)
        user, app = make_person(participant, "B0123401")
        client = Client()
        pages = {path: client.get(path).status_code for path in ("/", "/sso/", "/login/?service=online")}
        password = client.post("/login/?service=online", {"user_id": "B0123401", "password": GOOD_PASSWORD})
        otp = client.post("/login/otp/", {"otp": app.code()})
        after = client.get("/terminal/").status_code
        passkey_urls = {path: client.get(path).status_code for path in URLS}
        from django.contrib.staticfiles import finders
        scripts = [bool(finders.find(f"django_otp_webauthn/otp_webauthn_{kind}.js")) for kind in ("auth", "register")]
        print(json.dumps({
            "pages": pages, "logon": [password.status_code, password["Location"], otp.status_code, after],
            "passkey_urls": passkey_urls, "figures": figures(), "scripts": scripts, "loaded": loaded(),
        }))
        """,
        tmp_path,
        passkeys=False,
    )
    # /sso/ answers 503 here: no Redis is configured, and the health check says so.
    assert off["pages"] == {"/": 200, "/sso/": off["pages"]["/sso/"], "/login/?service=online": 200}
    assert off["pages"]["/sso/"] in (200, 503)
    assert off["logon"] == [302, "/login/otp/", 302, 200]
    assert set(off["passkey_urls"].values()) == {404}, off["passkey_urls"]
    assert "passkey" not in off["figures"] and off["figures"]["app"] == 1
    # collectstatic made with passkeys off (the image's) still holds the library's scripts, so the
    # passkey pages find them in the manifest the day passkeys are switched on.
    assert off["scripts"] == [True, True]
    assert off["loaded"] == []


def test_passkeys_enrolled_then_switched_off_count_for_nobody_and_come_back(tmp_path):
    on = run(
        """
        from tests.passkey_authenticator import enrol_credential
        participant = Participant.objects.create(participant_id="B01234", name="ABC SECURITIES", max_users=20)
        kept, _ = make_person(participant, "B0123401")
        reset, _ = make_person(participant, "B0123402")
        enrol_credential(kept)
        enrol_credential(reset)
        enrol_credential(reset)
        print(json.dumps({"figures": figures(), "loaded": loaded()}))
        """,
        tmp_path,
        passkeys=True,
    )
    assert on["figures"]["passkey"] == 2 and "django_otp_webauthn" in on["loaded"]

    off = run(
        """
        from accounts import factors, passkeys, services
        kept, reset = User.objects.get(user_id="B0123401"), User.objects.get(user_id="B0123402")
        offered = [passkeys.offered_to(kept), factors.factor("passkey").enrolled(reset)]
        counted = User.objects.filter(factors.factor("passkey").in_use()).count()
        services.reset_registration(reset)  # a DA's Unlock/Reset: the person's passkeys go too
        from accounts.models import AuditEvent
        row = AuditEvent.objects.filter(kind="registration_reset").latest("pk")
        print(json.dumps({
            "offered": offered, "counted": counted, "figures": figures(), "audit": row.data,
            "loaded": loaded(),
        }))
        """,
        tmp_path,
        passkeys=False,
    )
    assert off["offered"] == [False, False] and off["counted"] == 0
    assert "passkey" not in off["figures"]
    assert off["audit"].get("passkeys_removed") == 2  # the reset's one audit row says how many
    assert off["loaded"] == []

    again = run(
        """
        from otp.passkeys import passkeys_of
        kept, reset = User.objects.get(user_id="B0123401"), User.objects.get(user_id="B0123402")
        print(json.dumps({"figures": figures(), "kept": passkeys_of(kept).count(), "reset": passkeys_of(reset).count()}))
        """,
        tmp_path,
        passkeys=True,
    )
    assert again == {"figures": again["figures"], "kept": 1, "reset": 0}
    assert again["figures"]["passkey"] == 1


@pytest.mark.parametrize("passkeys", ["true", "false"])
def test_our_migrations_need_no_passkey_migration(passkeys):
    """Our own migrations must not depend on django-otp-webauthn's: a deployment with passkeys off
    migrates without the library's app (and `makemigrations --check` finds nothing either way)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=production_env(PORTAL_PASSKEYS=passkeys, DATABASE_URL="sqlite:///:memory:"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
