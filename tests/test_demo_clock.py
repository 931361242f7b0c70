"""The demo clock (issue 8 item 7): in demo mode, /demo/clock/ moves simulated time forward for
every rule of the portal (e-mail OTP expiry, lockout window, password expiry, decommissioning,
service hours), and resets it. Authenticator apps keep real time. Absent outside demo mode."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts import policies
from accounts.logon import INVALID_OTP
from accounts.models import AuditEvent, User
from ccass_portal import clock
from ccass_portal.models import DemoClock
from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import last_email_otp, otp_mails, password_step

pytestmark = pytest.mark.django_db
WRONG_PASSWORD = "Wrong(Password)123x"
HK = ZoneInfo("Asia/Hong_Kong")


@pytest.fixture(autouse=True)
def fresh_clock(settings):
    """Each test starts at real time; a rolled-back offset must not linger in this process's cache."""
    settings.PORTAL_DEMO = True
    clock.forget_demo_offset()
    yield
    clock.forget_demo_offset()


def move(client, action, **data):
    return client.post("/demo/clock/", {"action": action, **data})


def ahead() -> float:
    """Seconds the portal's clock runs ahead of real time."""
    return (clock.now() - timezone.now()).total_seconds()


# -- the page and its moves ------------------------------------------------------------------


def test_each_move_shifts_the_one_clock(client):
    assert abs(ahead()) < 1
    response = move(client, "forward_5m")
    assert response.status_code == 302 and response["Location"] == "/demo/clock/"
    assert 299 < ahead() < 302
    move(client, "forward_31m")
    assert 36 * 60 - 1 < ahead() < 36 * 60 + 2
    move(client, "forward_91d")
    expected = timedelta(days=91, minutes=36).total_seconds()
    assert expected - 1 < ahead() < expected + 2
    move(client, "reset")
    assert abs(ahead()) < 1 and DemoClock.objects.get().offset_seconds == 0
    assert [e.data["action"] for e in AuditEvent.objects.filter(kind="demo_clock_moved").order_by("id")] == [
        "forward_5m",
        "forward_31m",
        "forward_91d",
        "reset",
    ]


def test_move_to_a_date_keeps_the_time_of_day(client):
    target = clock.today() + timedelta(days=40)
    before = timezone.localtime(clock.now())
    assert move(client, "to_date", date=target.isoformat()).status_code == 302
    after = timezone.localtime(clock.now())
    assert clock.today() == target
    assert abs((after - before) - timedelta(days=40)) < timedelta(seconds=5)


def test_the_page_and_the_banner_show_the_simulated_time(client):
    page = client.get("/demo/clock/").content.decode()
    assert "Demo clock" in page and "The demo clock shows real time." in page
    assert "Authenticator apps keep real time" in page
    move(client, "forward_91d")
    landing = client.get("/").content.decode()
    simulated = timezone.localtime(clock.now())
    assert "data-demo-clock" in landing and "91 days 0 h 0 min ahead of real time" in landing
    assert f"{simulated:%d-%b-%y}" in landing and "The demo clock now shows" in landing
    assert "runs 91 days 0 h 0 min ahead" in client.get("/demo/clock/").content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "forward_1y"}, "Unknown demo clock action"),
        ({}, "Choose what the demo clock should do"),
        ({"action": "to_date", "date": "2026-02-31"}, "Enter a real date"),
        ({"action": "to_date", "date": "tomorrow"}, "Enter a real date"),
        ({"action": "to_date", "date": ""}, "Enter the date to move to"),
        ({"action": "to_date", "date": "2001-01-01"}, "only moves forward"),
        ({"action": "to_date", "date": "9999-12-31"}, "more than 10 years"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, data, message):
    move(client, "forward_5m")
    offset = DemoClock.objects.get().offset_seconds
    rows = AuditEvent.objects.count()
    response = client.post("/demo/clock/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert DemoClock.objects.get().offset_seconds == offset and AuditEvent.objects.count() == rows


def test_absent_outside_demo_mode(client, settings, django_assert_num_queries):
    settings.PORTAL_DEMO = False
    assert client.get("/demo/clock/").status_code == 404
    for action in ("forward_5m", "forward_91d", "reset"):
        assert move(client, action).status_code == 404
    assert not DemoClock.objects.exists() and not AuditEvent.objects.exists()
    DemoClock.objects.create(offset_seconds=86400)  # a row left from an earlier demo run is ignored
    with django_assert_num_queries(0):  # outside demo mode the clock never asks the database
        assert abs(ahead()) < 1
    assert "data-demo-clock" not in client.get("/").content.decode()


def test_moves_are_refused_by_the_service_outside_demo_mode(settings):
    from demo import demo_clock

    settings.PORTAL_DEMO = False
    with pytest.raises(demo_clock.DemoClockRefused):
        demo_clock.move_forward("forward_5m")
    assert not DemoClock.objects.exists()


def test_a_move_in_another_worker_counts_on_the_new_time_at_the_next_request(email_user):
    # Issue 12 finding 8. This process serves the attacker's 4 wrong passwords; another worker then moves
    # the clock (it writes the one DemoClock row, as demo_clock._store does there); the very next request
    # here must count on the new time: the first 4 failures are 31 minutes old, so no lock.
    attacker = Client()
    for _ in range(4):
        password_step(attacker, email_user.user_id, WRONG_PASSWORD)
    DemoClock.objects.update_or_create(pk=DemoClock.SINGLETON, defaults={"offset_seconds": 31 * 60})
    password_step(attacker, email_user.user_id, WRONG_PASSWORD)
    email_user.refresh_from_db()
    assert not email_user.is_locked and len(email_user.logon_failures) == 1


def test_a_request_reads_the_offset_once(client, email_user):
    # The hot path stays cheap: one small query per request in demo mode, however often its rules ask
    # the clock (the logon asks for lockout, expiry, service hours, the session and the banner).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    DemoClock.objects.create(pk=DemoClock.SINGLETON, offset_seconds=3600)
    with CaptureQueriesContext(connection) as queries:
        password_step(client, email_user.user_id, WRONG_PASSWORD)
    reads = [q["sql"] for q in queries.captured_queries if "ccass_portal_democlock" in q["sql"]]
    assert len(reads) == 1, reads
    email_user.refresh_from_db()
    assert email_user.logon_failures and 3599 < email_user.logon_failures[-1] - timezone.now().timestamp() < 3602


def test_one_time_for_the_whole_request():
    DemoClock.objects.create(pk=DemoClock.SINGLETON, offset_seconds=3600)
    with clock.demo_offset_scope():
        assert 3599 < ahead() < 3602
        DemoClock.objects.filter(pk=DemoClock.SINGLETON).update(offset_seconds=7200)
        assert 3599 < ahead() < 3602  # a move meanwhile takes effect from the next request
    with clock.demo_offset_scope():
        assert 7199 < ahead() < 7202


# -- the rules follow the demo clock ----------------------------------------------------------


def test_plus_5_minutes_makes_a_real_email_otp_expire(client, email_user, django_capture_on_commit_callbacks):
    response = password_step(client, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    assert response["Location"] == "/login/otp/"
    code = last_email_otp()
    move(client, "forward_5m")
    response = client.post("/login/otp/", {"otp": code})
    assert response.status_code == 400 and str(INVALID_OTP) in response.content.decode()
    email_user.refresh_from_db()
    assert email_user.otp_failures == 1
    # ... and the 5-minute wait before a new code is over too.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/login/otp/", {"action": "request"})
    assert len(otp_mails()) == 2
    assert client.post("/login/otp/", {"otp": last_email_otp()})["Location"] == "/login/success/"


def test_without_moving_the_cooldown_still_holds(client, email_user, django_capture_on_commit_callbacks):
    password_step(client, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/login/otp/", {"action": "request"})
    assert len(otp_mails()) == 1  # refused: an OTP was sent less than 5 minutes ago


def test_plus_31_minutes_ages_out_lockout_failures(client, email_user):
    for _ in range(4):
        password_step(client, email_user.user_id, WRONG_PASSWORD)
    email_user.refresh_from_db()
    assert len(email_user.logon_failures) == 4
    move(client, "forward_31m")
    password_step(client, email_user.user_id, WRONG_PASSWORD)  # the 5th, but the others are 31 minutes old
    email_user.refresh_from_db()
    assert not email_user.is_locked and len(email_user.logon_failures) == 1


def test_plus_91_days_forces_the_expired_password_change_and_reset_restores(client, email_user):
    from accounts.logon import ATTEMPT_KEY

    move(client, "forward_91d")  # the forced change comes after the OTP
    assert password_step(client, email_user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    assert client.session[ATTEMPT_KEY]["expired"]
    move(client, "reset")
    assert password_step(client, email_user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    assert not client.session[ATTEMPT_KEY]["expired"]


def test_plus_91_days_passes_the_demo_decommissioning_date(client, settings):
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = clock.today() + timedelta(weeks=12)
    assert policies.smartcard_available()
    move(client, "forward_91d")
    assert not policies.smartcard_available()
    move(client, "reset")
    assert policies.smartcard_available()


def test_authenticator_apps_keep_real_time(client, app_user):
    user, app = app_user
    move(client, "forward_31m")  # app codes come from the phone's real clock, not the demo's
    response = password_step(client, user.user_id, GOOD_PASSWORD)
    assert response["Location"] == "/login/otp/"
    assert client.post("/login/otp/", {"otp": app.code()})["Location"] == "/login/success/"
    assert User.objects.get(pk=user.pk).otp_failures == 0


def test_service_hours_follow_the_demo_clock(client, settings):
    settings.PORTAL_ENFORCE_SERVICE_HOURS = True
    with time_machine.travel(datetime(2024, 11, 20, 21, 0, tzinfo=HK), tick=False):  # a Wednesday, open
        assert client.get("/login/").status_code == 200
        assert client.get("/demo/clock/").status_code == 200  # the demo pages keep no hours
        move(client, "forward_31m")  # 21:31: closed
        response = client.get("/login/")
    assert response.status_code == 503 and "21-Nov-24 07:00" in response.content.decode()
