"""Landing pages, /sso/, demo outbox, settings, seed_demo, admin (issue 2)."""

import os
import subprocess
import sys
from datetime import date

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from accounts.models import Participant, Role, User
from ccass_portal.models import DemoMail
from tests.stack import ROOT

TERMINAL_OPTIONS = [
    "Login with Smartcard - Online Functions and Overnight Report Download",
    "Login with OTP - Online Functions",
    "Login with OTP - Overnight Report Download",
]
DMS_OPTIONS = ["Login with Smartcard – Security Management Functions", "Login with OTP – Security Management Functions"]


@pytest.mark.django_db
@pytest.mark.embedded
@override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=date(2023, 9, 4))
def test_landing_pages_before_and_after_decommissioning(client):
    with time_machine.travel("2023-09-03 12:00 +0800", tick=False):
        terminal = client.get("/").content.decode()
        dms = client.get("/dms/").content.decode()
        assert all(label in terminal for label in TERMINAL_OPTIONS)
        assert all(label in dms for label in DMS_OPTIONS)
        assert client.get("/login/smartcard/").status_code == 200
    with time_machine.travel("2023-09-04 00:00 +0800", tick=False):
        terminal = client.get("/").content.decode()
        dms = client.get("/dms/").content.decode()
        assert TERMINAL_OPTIONS[0] not in terminal
        assert all(label in terminal for label in TERMINAL_OPTIONS[1:])
        assert DMS_OPTIONS[0] not in dms and DMS_OPTIONS[1] in dms
        assert client.get("/login/smartcard/").status_code == 404
        assert client.get("/dms/login/smartcard/").status_code == 404


@pytest.mark.django_db
def test_landing_options_lead_to_the_logon_pages(client):
    page = client.get("/").content.decode()
    assert 'href="/login/?service=online"' in page
    assert 'href="/login/?service=reports"' in page
    assert "User Login" in client.get("/login/?service=online").content.decode()
    assert "User Login" in client.get("/dms/login/").content.decode()


@pytest.mark.django_db
@pytest.mark.embedded
def test_sso_answers_without_login_and_reports_the_database(client, settings):
    # Embedded mode has no queue: the page reports the database only, and is healthy. With a
    # queue configured, its row is proved by test_sso_reports_real_redis and ..._redis_down_as_503.
    settings.REDIS_URL = ""
    response = client.get("/sso/")
    assert response.status_code == 200
    assert b'data-check="database">OK' in response.content
    assert b'data-check="redis"' not in response.content


@pytest.mark.django_db
def test_sso_reports_redis_down_as_503(client, settings):
    from tests.stack import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/sso/")
    assert response.status_code == 503
    assert b'data-check="redis">NOT ANSWERING' in response.content


@pytest.mark.django_db
def test_sso_reports_real_redis(client, settings):
    url = os.environ.get("TEST_REDIS_URL")
    from tests.factories import need

    need(bool(url), "redis-server is required (run `make test`)")
    settings.REDIS_URL = url
    response = client.get("/sso/")
    assert response.status_code == 200
    assert b'data-check="redis">OK' in response.content


@pytest.mark.django_db
@pytest.mark.embedded
def test_demo_outbox_keeps_mail_and_exists_only_in_demo(client, settings):
    settings.PORTAL_DEMO = True
    settings.EMAIL_BACKEND = "ccass_portal.mail.DemoOutboxEmailBackend"
    mail.send_mail(
        "CCASS: One Time Password", "One Time Password (OTP) for CCASS: 12345678", "a@b.example", ["x@y.example"]
    )
    assert DemoMail.objects.count() == 1
    page = client.get("/demo/outbox/")
    assert page.status_code == 200
    assert b"One Time Password (OTP) for CCASS: 12345678" in page.content
    assert b"DEMO ENVIRONMENT" in page.content
    settings.PORTAL_DEMO = False
    assert client.get("/demo/outbox/").status_code == 404
    assert b"DEMO ENVIRONMENT" not in client.get("/").content


def _import_settings(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import ccass_portal.settings as s; print(s.DEBUG)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_refuse_to_start_without_secret_key_unless_debug():
    refused = _import_settings({"DJANGO_DEBUG": "false"})
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in refused.stderr
    assert _import_settings({"DJANGO_DEBUG": "true"}).returncode == 0
    assert _import_settings({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50}).returncode == 0


def test_settings_read_the_environment():
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import ccass_portal.settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
            " s.PORTAL_LAUNCH_DATE, s.PORTAL_SMARTCARD_DECOMMISSION_DATE, s.TIME_ZONE, s.EMAIL_BACKEND)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SECRET_KEY": "k" * 50,
            "PORTAL_LAUNCH_DATE": "2023-06-12",
            "PORTAL_SMARTCARD_DECOMMISSION_DATE": "2023-09-04",
            "EMAIL_URL": "smtp://127.0.0.1:2525",
            "REDIS_URL": "redis://127.0.0.1:6399/0",
        },
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [
        "django.db.backends.sqlite3",
        "False",
        "2023-06-12",
        "2023-09-04",
        "Asia/Hong_Kong",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


@pytest.mark.django_db
@pytest.mark.embedded
def test_seed_demo_is_idempotent_and_complete():
    call_command("seed_demo", verbosity=0)
    first = (Participant.objects.count(), User.all_objects.count())
    call_command("seed_demo", verbosity=0)
    assert (Participant.objects.count(), User.all_objects.count()) == first
    abc = Participant.objects.get(participant_id="B01234")
    assert abc.name == "ABC SECURITIES" and abc.spare_accounts() > 0
    assert User.objects.get(pk="B01234X1").role == Role.DA_MAKER
    assert {u.pk for u in User.objects.filter(role=Role.DA_CHECKER, participant=abc)} == {"B01234Y1", "B01234Z1"}
    users = User.objects.filter(participant=abc, role=Role.USER).order_by("pk")
    assert [u.pk for u in users] == [f"B012340{i}" for i in range(1, 6)]
    for user in users:
        assert user.email.endswith("@abc-securities.example")
        assert user.srn and user.check_smartcard_password("246810")
        assert not user.has_twofa and not user.has_usable_password()
    for pid, house in [("BNK999", "HKSCC"), ("HKABC1", "HKCC"), ("HKABC2", "SEOCH")]:
        firm = Participant.objects.get(participant_id=pid)
        firm.full_clean()
        assert firm.clearing_house == house
        assert firm.active_users().filter(role=Role.DA_CHECKER).count() == 2
        assert firm.active_users().filter(role=Role.USER).exists()
    assert Participant.objects.get(participant_id="BNK999").is_designated_bank
    operator = User.objects.get(pk="HKEXOPS1")
    # Its password is made at install and printed (tests/security/test_demo_exposure.py), never a constant.
    assert operator.is_staff and operator.participant is None and operator.has_usable_password()


@pytest.mark.django_db
def test_admin_needs_a_verified_2fa_session(client, participant):
    from tests.factories import GOOD_PASSWORD, make_user

    operator = make_user(None, "HKEXOPS9", password=GOOD_PASSWORD, is_staff=True, is_superuser=True)
    assert client.get("/admin/").status_code == 302
    client.force_login(operator)  # a session without the OTP step
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/admin/login/")["Location"] == "/backoffice/login/"


def test_readme_names_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    head = readme[:1500]
    assert "make demo" in head and "make test" in head
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
