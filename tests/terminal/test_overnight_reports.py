"""Overnight Report Download (issue 8 item 5): the firm's reports, generated nightly by a periodic
Celery task, seeded by seed_demo, each download audited, only the firm's own."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from accounts import demo_data
from accounts.models import AuditEvent, Participant, Role
from terminal import overnight_reports
from terminal.models import OvernightReport
from terminal.tasks import generate_overnight_reports
from tests.factories import GOOD_PASSWORD, enrolled
from tests.logon_helpers import last_email_otp, password_step, strong_login

pytestmark = pytest.mark.django_db
HK = ZoneInfo("Asia/Hong_Kong")
MONDAY = date(2024, 11, 18)
TUESDAY = date(2024, 11, 19)


@pytest.fixture
def futures_firm(db):
    return Participant.objects.create(
        participant_id="HKABC1", name="ABC FUTURES", clearing_house="HKCC", customer_code="ABC", max_users=10
    )


@pytest.fixture
def reports(participant, other_participant):
    """Firm A (B01234) and firm B (B05678), each with Monday's and Tuesday's reports."""
    for firm in (participant, other_participant):
        for day in (MONDAY, TUESDAY):
            overnight_reports.generate_reports(participant=firm, business_date=day)
    return OvernightReport.objects.all()


@pytest.fixture
def business_user(participant):
    return enrolled(participant, "B0123405")


# -- generation ----------------------------------------------------------------------------


def test_generation_makes_the_firms_reports_once(participant):
    made = overnight_reports.generate_reports(participant=participant, business_date=MONDAY)
    assert [r.name for r in made] == ["CCASS Activity Statement", "Statement of Money Ledger", "Settlement Report"]
    report = made[0]
    assert report.participant == participant and report.business_date == MONDAY and report.report_id == "CCASS-ACTS"
    lines = report.content.splitlines()
    assert lines[0] == "CCASS Activity Statement"
    assert lines[1] == "Participant ID,B01234,Participant Name,ABC SECURITIES"
    assert lines[2] == "Business Date,18/11/2024,Report ID,CCASS-ACTS"
    assert lines[-1] == "END OF REPORT"

    again = overnight_reports.generate_reports(participant=participant, business_date=MONDAY)
    assert [r.pk for r in again] == [r.pk for r in made]  # idempotent
    assert OvernightReport.objects.count() == 3
    assert again[0].content == report.content


def test_derivatives_firms_get_ccms_reports(futures_firm):
    made = overnight_reports.generate_reports(participant=futures_firm, business_date=MONDAY)
    assert {r.report_id for r in made} == {"CCMS-COLL", "CCMS-MARG"}


def test_content_is_stable_and_differs_between_firms(participant, other_participant):
    def activity_statement(firm):
        columns = ["Stock Code", "Movement", "Quantity"]
        return overnight_reports.render_report(firm, MONDAY, "CCASS-ACTS", "CCASS Activity Statement", columns)

    a = activity_statement(participant)
    assert a == activity_statement(participant)
    assert a.splitlines()[4:] != activity_statement(other_participant).splitlines()[4:]


@pytest.mark.parametrize(
    "run_at, business_date",
    [
        (datetime(2024, 11, 19, 2, 0, tzinfo=HK), date(2024, 11, 18)),  # Tuesday 02:00: Monday's
        (datetime(2024, 11, 18, 2, 0, tzinfo=HK), date(2024, 11, 15)),  # Monday 02:00: Friday's
        (datetime(2024, 10, 2, 2, 0, tzinfo=HK), date(2024, 9, 30)),  # after National Day: Monday's
    ],
)
def test_the_nightly_task_makes_every_firms_reports_for_the_last_business_day(
    participant, other_participant, futures_firm, run_at, business_date
):
    with time_machine.travel(run_at, tick=False):
        assert generate_overnight_reports() == 8  # 3 + 3 CCASS reports, 2 CCMS reports
        assert generate_overnight_reports() == 8  # a second run (a redelivered task) makes nothing twice
    assert OvernightReport.objects.count() == 8
    assert set(OvernightReport.objects.values_list("business_date", flat=True)) == {business_date}


def test_the_task_takes_a_business_date(participant):
    generate_overnight_reports.delay("2024-11-18")  # eager in the embedded mode
    assert set(OvernightReport.objects.values_list("business_date", flat=True)) == {MONDAY}


def test_beat_runs_the_task_at_two_in_the_morning_hong_kong_time():
    from ccass_portal.celery import app

    entry = app.conf.beat_schedule["overnight-reports"]  # settings hold the crontab fields; the app, the crontab
    assert entry["task"] == "terminal.tasks.generate_overnight_reports"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {0}
    assert settings.CELERY_TIMEZONE == "Asia/Hong_Kong"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_seed_demo_makes_three_business_days_of_reports_for_every_demo_firm_idempotently():
    with time_machine.travel(datetime(2024, 10, 3, 10, 0, tzinfo=HK), tick=False):  # Thursday after National Day
        call_command("seed_demo", verbosity=0)
        first = set(OvernightReport.objects.values_list("pk", "participant_id", "business_date", "report_id"))
        call_command("seed_demo", verbosity=0)
        second = set(OvernightReport.objects.values_list("pk", "participant_id", "business_date", "report_id"))
    assert first == second
    days = {date(2024, 10, 2), date(2024, 9, 30), date(2024, 9, 27)}  # skips 1 October and the weekend
    for pid, *_rest in demo_data.PARTICIPANTS:
        firm = Participant.objects.get(participant_id=pid)
        assert set(firm.overnight_reports.values_list("business_date", flat=True)) == days
    assert OvernightReport.objects.count() == 3 * (3 + 3 + 2 + 2)  # two HKSCC firms, an HKCC and a SEOCH firm


# -- listing and download ------------------------------------------------------------------


def test_the_reports_page_lists_only_the_firms_own_reports(client, reports, business_user):
    strong_login(client, *business_user)
    page = client.get("/reports/").content.decode()
    own = OvernightReport.objects.filter(participant__participant_id="B01234")
    other = OvernightReport.objects.filter(participant__participant_id="B05678")
    assert own.count() == 6 and other.count() == 6
    for report in own:
        assert f'href="/reports/{report.pk}/"' in page
    for report in other:
        assert f'href="/reports/{report.pk}/"' not in page
    assert "CCASS Activity Statement" in page and "19-Nov-24" in page and "18-Nov-24" in page
    assert page.index("19-Nov-24") < page.index("18-Nov-24")  # newest first


def test_no_reports_yet(client, business_user):
    strong_login(client, *business_user)
    assert "No overnight reports are available for your firm." in client.get("/reports/").content.decode()


def test_a_download_sends_the_report_and_writes_one_audit_row(client, reports, business_user):
    user, device = business_user
    strong_login(client, user, device)
    report = OvernightReport.objects.get(
        participant__participant_id="B01234", business_date=MONDAY, report_id="CCASS-ACTS"
    )
    response = client.get(f"/reports/{report.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="B01234_CCASS-ACTS_20241118.csv"'
    assert response.content.decode() == report.content
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    (event,) = AuditEvent.objects.filter(kind="report_downloaded")
    assert event.actor == user and event.participant_id == user.participant_id
    assert event.data == {"report": report.pk, "report_id": "CCASS-ACTS", "business_date": "2024-11-18"}
    client.get(f"/reports/{report.pk}/")
    assert AuditEvent.objects.filter(kind="report_downloaded").count() == 2  # one row per download


def test_another_firms_report_is_not_found_and_nothing_changes(client, reports, business_user):
    strong_login(client, *business_user)
    theirs = OvernightReport.objects.filter(participant__participant_id="B05678").first()
    audit_rows = AuditEvent.objects.count()
    response = client.get(f"/reports/{theirs.pk}/")
    assert response.status_code == 404 and theirs.content.encode() not in response.content
    assert AuditEvent.objects.count() == audit_rows


def test_an_unknown_report_is_not_found_and_nothing_changes(client, reports, business_user):
    strong_login(client, *business_user)
    audit_rows = AuditEvent.objects.count()
    unknown = OvernightReport.objects.order_by("-pk").first().pk + 1000
    assert client.get(f"/reports/{unknown}/").status_code == 404
    assert client.get("/reports/0/").status_code == 404
    assert client.get("/reports/abc/").status_code == 404
    assert client.post(f"/reports/{reports.first().pk}/").status_code == 405
    assert AuditEvent.objects.count() == audit_rows


def test_downloads_need_a_full_terminal_session(client, reports, participant):
    report = OvernightReport.objects.filter(participant=participant).first()
    assert client.get(f"/reports/{report.pk}/")["Location"] == "/login/"
    da = enrolled(participant, "B01234X1", role=Role.DA_MAKER)
    strong_login(client, *da)  # a DA of the same firm: DMS only
    assert client.get(f"/reports/{report.pk}/").status_code == 403
    assert client.get("/reports/").status_code == 403
    assert not AuditEvent.objects.filter(kind="report_downloaded").exists()


def test_login_with_otp_overnight_report_download_leads_to_the_reports(
    client, reports, email_user, django_capture_on_commit_callbacks
):
    response = password_step(
        client, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks, service="reports"
    )
    assert response["Location"] == "/login/otp/"
    assert client.post("/login/otp/", {"otp": last_email_otp()})["Location"] == "/login/success/"
    assert 'href="/reports/"' in client.get("/login/success/").content.decode()
    page = client.get("/reports/").content.decode()
    report = OvernightReport.objects.filter(participant=email_user.participant).first()
    assert f'href="/reports/{report.pk}/"' in page
    assert client.get(f"/reports/{report.pk}/").status_code == 200
