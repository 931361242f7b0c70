"""Demo mode in a reachable deployment (issue 12 finding 4; docs/security.md "Demo mode").

Only the demo operator's own machine (a loopback client, not forwarded by a proxy) or a signed-in
HKEX operator may move the demo clock or read the demo outbox; `check --deploy` warns while demo
mode is on; the demo operator's password is made at install and printed, never a constant."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import AuditEvent, OtpChannel, Role, User
from ccass_portal import clock
from ccass_portal.models import DemoClock, DemoMail
from tests.factories import GOOD_PASSWORD, make_user
from tests.logon_helpers import password_step, strong_login
from tests.stack import ROOT
from tests.test_deployment import production_env

pytestmark = pytest.mark.django_db
WRONG_PASSWORD = "Wrong(Password)123x"
REMOTE = {"REMOTE_ADDR": "203.0.113.7"}  # a client beyond the operator's machine
FORWARDED = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}  # through a proxy on the machine


@pytest.fixture(autouse=True)
def demo_mode(settings):
    settings.PORTAL_DEMO = True
    clock.forget_demo_offset()
    yield
    clock.forget_demo_offset()


# -- who may move the clock and read the outbox ----------------------------------------------


@pytest.mark.parametrize("where", [REMOTE, FORWARDED], ids=["remote", "forwarded-by-a-local-proxy"])
def test_a_remote_client_cannot_step_the_clock_to_defeat_the_lockout(email_user, where):
    attacker = Client(**where)
    for _ in range(4):
        password_step(attacker, email_user.user_id, WRONG_PASSWORD)
    for action in ("forward_31m", "forward_91d", "reset"):
        response = attacker.post("/demo/clock/", {"action": action})
        assert response.status_code == 403
        assert "or for an HKEX operator signed in to the back-office" in response.content.decode()
    assert attacker.get("/demo/clock/").status_code == 403
    assert not DemoClock.objects.exists() and not AuditEvent.objects.filter(kind="demo_clock_moved").exists()
    password_step(attacker, email_user.user_id, WRONG_PASSWORD)
    assert User.objects.get(pk=email_user.pk).is_locked  # the 5th failure within 30 minutes locks


@pytest.mark.parametrize("where", [REMOTE, FORWARDED], ids=["remote", "forwarded-by-a-local-proxy"])
def test_a_remote_client_cannot_read_the_outbox(email_user, where):
    DemoMail.objects.create(
        to=email_user.email, subject="CCASS: One Time Password", body="One Time Password (OTP) for CCASS: 10767258"
    )
    response = Client(**where).get("/demo/outbox/")
    assert response.status_code == 403 and "10767258" not in response.content.decode()
    # The operator, on their own machine, reads it.
    assert "10767258" in Client().get("/demo/outbox/").content.decode()


def test_the_operators_own_machine_moves_the_clock(email_user):
    operator = Client()  # the test client is 127.0.0.1, as a browser on the demo's own machine
    assert operator.get("/demo/clock/").status_code == 200
    assert operator.post("/demo/clock/", {"action": "forward_31m"}).status_code == 302
    assert DemoClock.objects.get().offset_seconds == 31 * 60


def verified(client, person):
    """A full 2FA session of `person` (password and app code) on this client."""
    from otp.models import AuthenticatorDevice

    device = AuthenticatorDevice.new_for(person)
    device.confirmed = True
    device.save()
    return strong_login(client, person, device)


def test_a_signed_in_hkex_operator_may_use_them_from_anywhere_a_da_may_not(participant):
    operator = make_user(None, "HKEXOPS9", password=GOOD_PASSWORD, channel=OtpChannel.APP, is_staff=True)
    da = make_user(participant, "B01234X1", role=Role.DA_MAKER, password=GOOD_PASSWORD, channel=OtpChannel.APP)
    user = make_user(participant, "B0123401", password=GOOD_PASSWORD, channel=OtpChannel.APP)
    for person in (da, user):
        stranger = verified(Client(**REMOTE), person)
        assert stranger.post("/demo/clock/", {"action": "forward_31m"}).status_code == 403
        assert stranger.get("/demo/outbox/").status_code == 403
    assert not DemoClock.objects.exists()
    half_way = Client(**REMOTE)
    half_way.force_login(operator)  # the password step only: no second factor yet
    assert half_way.post("/demo/clock/", {"action": "forward_31m"}).status_code == 403
    signed_in = verified(Client(**REMOTE), operator)
    assert signed_in.get("/demo/outbox/").status_code == 200
    assert signed_in.post("/demo/clock/", {"action": "forward_31m"}).status_code == 302
    assert DemoClock.objects.get().offset_seconds == 31 * 60


def test_the_banner_offers_the_clock_only_where_it_can_be_moved(client):
    assert 'href="/demo/clock/"' in client.get("/").content.decode()
    remote = Client(**REMOTE).get("/").content.decode()
    assert "data-demo-clock" in remote and 'href="/demo/clock/"' not in remote


# -- check --deploy ---------------------------------------------------------------------------


def test_check_deploy_warns_while_demo_mode_is_on():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(PORTAL_DEMO="true"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0 and "portal.W001" in result.stderr + result.stdout
    plain = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(PORTAL_DEMO="true"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert plain.returncode == 0 and "portal.W001" not in plain.stderr + plain.stdout  # only under --deploy


# -- the demo operator's password --------------------------------------------------------------


def _seed(monkeypatch, password: str | None = None) -> str:
    if password is None:
        monkeypatch.delenv("PORTAL_DEMO_OPERATOR_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("PORTAL_DEMO_OPERATOR_PASSWORD", password)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _printed_password(output: str) -> str:
    lines = [line for line in output.splitlines() if "HKEXOPS1" in line and "password" in line]
    assert len(lines) == 1, output
    return lines[0].rsplit(" ", 1)[1]


def test_the_operator_password_is_made_at_install_and_printed(monkeypatch):
    first = _printed_password(_seed(monkeypatch))
    operator = User.objects.get(pk="HKEXOPS1")
    assert operator.check_password(first) and not operator.check_password("Operator!Demo2026pass")
    from django.contrib.auth.password_validation import validate_password

    validate_password(
        first, User(user_id="HKEXOPS2", surname="OPERATOR")
    )  # meets the HKEX rule (its own history aside)
    again = _seed(monkeypatch)  # idempotent: the password stays, and is not printed again
    assert first not in again and "--new-operator-password" in again
    assert User.objects.get(pk="HKEXOPS1").check_password(first)
    User.all_objects.filter(pk="HKEXOPS1").delete()
    second = _printed_password(_seed(monkeypatch))  # another install: another password
    assert second != first
    readme = (ROOT / "README.md").read_text()
    assert "Operator!Demo2026pass" not in readme and first not in readme


def test_a_new_operator_password_on_request_ends_the_old_one(monkeypatch):
    first = _printed_password(_seed(monkeypatch))
    out = io.StringIO()
    call_command("seed_demo", new_operator_password=True, stdout=out)
    second = _printed_password(out.getvalue())
    operator = User.objects.get(pk="HKEXOPS1")
    assert second != first and operator.check_password(second) and not operator.check_password(first)


def test_tests_may_choose_the_operator_password_through_the_environment(monkeypatch):
    output = _seed(monkeypatch, GOOD_PASSWORD)
    assert GOOD_PASSWORD not in output  # a password someone chose is not echoed
    assert User.objects.get(pk="HKEXOPS1").check_password(GOOD_PASSWORD)
