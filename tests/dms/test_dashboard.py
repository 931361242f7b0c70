"""The migration readiness dashboard (issue 8, item 6): its numbers against the seeded
demo firms, the checklist ticks, tenant isolation, the CSV and the query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
from django.utils import translation

from accounts.models import OtpChannel, Participant, User
from ccass_portal import clock
from dms import dashboard
from otp.models import AuthenticatorDevice
from tests.conftest import make_user
from tests.logon_helpers import strong_login

SEEDED = {"B01234": 8, "BNK999": 5, "HKABC1": 5, "HKABC2": 5}  # 3 DAs + users each (accounts.demo_data)


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())
    return {p.participant_id: p for p in Participant.objects.filter(participant_id__in=SEEDED)}


def set_up_2fa(user_id: str, channel: str) -> None:
    User.objects.filter(user_id=user_id).update(otp_channel=channel, twofa_set_up_at=clock.now())


def da_client(user_id: str) -> Client:
    """A seeded DA (or user) still on the smartcard: a smartcard session, as before decommissioning."""
    return strong_login(Client(), User.objects.get(user_id=user_id), method="smartcard")


def operator_client() -> Client:
    operator = make_user(None, "HKEXOP01", is_staff=True, channel=OtpChannel.APP)
    device = AuthenticatorDevice.new_for(operator)
    device.confirmed = True
    device.save()
    return strong_login(Client(), operator, device)


def figures(firm) -> dict[str, int]:
    return {str(label): value for label, value in dashboard.figure_lines(firm)}


# -- the numbers ---------------------------------------------------------------------------


def test_seeded_firms_start_on_the_smartcard_with_every_email_registered(seeded):
    firms = {
        f.participant_id: f for f in dashboard.firms_readiness(Participant.objects.filter(participant_id__in=SEEDED))
    }
    assert {pid: f.readiness.total for pid, f in firms.items()} == SEEDED
    for firm in firms.values():
        r = firm.readiness
        assert (firm.email_registered, firm.set_up, r.by_factor["app"], r.by_factor["email"], r.locked) == (
            r.total,
            0,
            0,
            0,
            0,
        )
        assert r.smartcard_only == r.not_set_up == r.total
        assert (r.roster.makers, r.roster.checkers, r.roster.compliant) == (1, 2, True)
    items = {item.number: item.done for item in dashboard.checklist(firms["B01234"])}
    assert items[1] is True and items[12] is False and items[14] is False
    assert [n for n, done in items.items() if done is None] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15]


def test_each_number_follows_the_profiles(seeded):
    set_up_2fa("B0123401", OtpChannel.APP)
    set_up_2fa("B0123402", OtpChannel.APP)
    set_up_2fa("B01234X1", OtpChannel.EMAIL)
    User.objects.filter(user_id="B0123403").update(email="")
    User.objects.filter(user_id="B0123404").update(locked_at=clock.now())
    User.objects.filter(user_id="B0123405").update(certificate_expiry=clock.now() - timedelta(days=1))
    User.objects.filter(user_id="B01234Z1").update(status=User.Status.DISABLED)  # one checker left

    firm = dashboard.firm_readiness(seeded["B01234"])
    assert figures(firm) == {
        "Profiles": 8,
        "E-mail registered": 7,
        "Without a registered e-mail address": 1,
        "2FA set up": 3,
        "OTP by mobile application": 2,
        "OTP by e-mail": 1,
        "2FA not yet set up": 5,
        "Smartcard only (no 2FA, card still valid)": 4,  # B0123405's certificate has expired
        "Locked": 1,
        "DA makers (enabled)": 1,
        "DA checkers (enabled)": 1,
    }
    assert not firm.readiness.roster.compliant
    items = {item.number: item.done for item in dashboard.checklist(firm)}
    assert (items[1], items[12], items[14]) == (False, False, False)
    # the other firms did not move
    other = dashboard.firm_readiness(seeded["BNK999"])
    assert (other.set_up, other.readiness.locked, other.readiness.roster.compliant) == (0, 0, True)


def test_checklist_ticks_when_every_profile_is_on_2fa(seeded):
    for user in User.objects.filter(participant=seeded["HKABC2"]):
        set_up_2fa(user.user_id, OtpChannel.APP)
    items = {item.number: item.done for item in dashboard.checklist(dashboard.firm_readiness(seeded["HKABC2"]))}
    assert (items[1], items[12], items[14]) == (True, True, True)


def test_no_card_is_valid_after_decommissioning(seeded):
    with override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=clock.today()):
        firm = dashboard.firm_readiness(seeded["B01234"])
    assert firm.readiness.smartcard_only == 0 and firm.readiness.not_set_up == 8


def test_totals_sum_the_firms(seeded):
    set_up_2fa("BNK99901", OtpChannel.EMAIL)
    User.objects.filter(user_id="HKABC1Y1").update(status=User.Status.DISABLED)
    firms = dashboard.firms_readiness(Participant.objects.filter(participant_id__in=SEEDED))
    total = dashboard.totals(firms)
    assert (total.firms, total.compliant_firms) == (4, 3)
    assert (
        total.readiness.total,
        total.set_up,
        total.readiness.by_factor["email"],
        total.readiness.smartcard_only,
    ) == (
        23,
        1,
        1,
        22,
    )


def test_a_firm_without_profiles_counts_zero(participant):
    firm = dashboard.firm_readiness(participant)
    assert firm.readiness.total == 0 and not firm.readiness.roster.compliant
    assert all(segment.width == 0 for chart in dashboard.charts(firm) for segment in chart.segments)


def test_chart_segments_cover_the_bar(seeded):
    set_up_2fa("B0123401", OtpChannel.APP)
    chart = dashboard.charts(dashboard.firm_readiness(seeded["B01234"]))[1]
    assert [s.value for s in chart.segments] == [1, 0, 7, 0]
    assert chart.segments[2].x == 12.5 and chart.segments[2].width == 87.5
    assert sum(s.value for s in chart.segments) == chart.total == 8


# -- the pages -------------------------------------------------------------------------------


def test_da_page_shows_own_firm_only(seeded):
    set_up_2fa("B0123401", OtpChannel.APP)
    response = da_client("B01234X1").get("/dms/reports/migration-readiness/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "B01234" in html and "BNK999" not in html and "ABC FUTURES" not in html
    assert "<svg" in html and '<title id="chart-twofa-title">' in html
    assert 'id="checklist-1" class="done"' in html and 'id="checklist-12" class="not-done"' in html
    assert 'id="checklist-2" class="todo"' in html
    # the other firm's DA sees their own numbers
    other = da_client("BNK999X1").get("/dms/reports/migration-readiness/").content.decode()
    assert "DEMO DESIGNATED BANK" in other and "ABC SECURITIES" not in other


@pytest.mark.parametrize("user_id, status", [("B0123401", 403), ("HKEXOP01", 403), (None, 302)])
def test_who_may_see_the_da_page(seeded, user_id, status):
    if user_id == "HKEXOP01":
        client = operator_client()
    elif user_id:
        client = da_client(user_id)
    else:
        client = Client()
    assert client.get("/dms/reports/migration-readiness/").status_code == status


@pytest.mark.parametrize("user_id", ["B01234X1", "B0123401"])
def test_participants_cannot_see_the_operator_page(seeded, user_id):
    assert da_client(user_id).get("/backoffice/migration-readiness/").status_code == 403


def test_operator_page_one_row_per_firm_and_totals(seeded):
    set_up_2fa("HKABC101", OtpChannel.APP)
    response = operator_client().get("/backoffice/migration-readiness/")
    assert response.status_code == 200
    html = response.content.decode()
    for pid in SEEDED:
        assert f'<th scope="row">{pid}</th>' in html
    assert 'id="dashboard-totals"' in html and "4 of 4" in html


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_da_csv_has_the_figures_and_the_checklist(seeded):
    User.objects.filter(user_id="B0123403").update(email="")
    response = da_client("B01234Y1").get("/dms/reports/migration-readiness/?format=csv")
    assert "migration-readiness-B01234.csv" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["Figure", "Number"]
    assert ["Profiles", "8"] in rows and ["Without a registered e-mail address", "1"] in rows
    assert ["Item", "ITEMS TO BE CHECKED", "Status"] in rows
    item1 = next(row for row in rows if row[:1] == ["1"])
    assert item1[2] == "No"
    assert next(row for row in rows if row[:1] == ["2"])[2] == "Participant to confirm"
    assert not any("BNK999" in cell for row in rows for cell in row)


def test_operator_csv_one_row_per_firm_and_totals(seeded):
    rows = read_csv(operator_client().get("/backoffice/migration-readiness/?format=csv"))
    assert rows[0][:3] == ["Participant ID", "Participant", "Profiles"]
    by_id = {row[0]: row for row in rows[1:]}
    assert set(SEEDED) <= set(by_id)
    assert by_id["B01234"][2] == "8" and by_id["B01234"][-1] == "Yes"
    assert by_id["Total"][2] == "23" and by_id["Total"][-1] == "4 of 4"


def test_page_in_traditional_chinese(seeded):
    client = da_client("B01234X1")
    client.cookies["django_language"] = "zh-hant"
    html = client.get("/dms/reports/migration-readiness/").content.decode()
    assert 'lang="zh-Hant"' in html and "Migration readiness dashboard" not in html


# -- query counts ------------------------------------------------------------------------------


def page_queries(django_assert_max_num_queries, client, url, limit):
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


@pytest.mark.usefixtures("no_demo_clock")
@pytest.mark.parametrize("profiles", [10, 300])
def test_query_count_does_not_grow_with_profiles(seeded, django_assert_max_num_queries, profiles):
    firm = Participant.objects.create(participant_id="C99999", name="BIG FIRM", clearing_house="HKSCC", max_users=1000)
    User.objects.bulk_create(
        User(
            user_id=f"C999{n:04d}",
            participant=firm,
            surname="CHAN",
            email=f"u{n}@x.example",
            otp_channel=OtpChannel.APP if n % 2 else "",
            twofa_set_up_at=clock.now() if n % 2 else None,
            password="!",
        )
        for n in range(profiles)
    )
    with django_assert_max_num_queries(2):
        firms = dashboard.firms_readiness(Participant.objects.all())
    assert {f.participant_id: f.readiness.total for f in firms}["C99999"] == profiles
    with django_assert_max_num_queries(2):
        dashboard.firm_readiness(firm)
    # the whole pages, session and user included
    page_queries(django_assert_max_num_queries, da_client("B01234X1"), "/dms/reports/migration-readiness/", 10)
    page_queries(django_assert_max_num_queries, operator_client(), "/backoffice/migration-readiness/", 10)


# -- one count for both View Reports pages (issue 16, item 1) -----------------------------------


def da_on_2fa(user_id: str) -> Client:
    """A seeded DA who has set up the app: a 2FA session, which decommissioning leaves alone."""
    user = User.objects.get(user_id=user_id)
    set_up_2fa(user_id, OtpChannel.APP)
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    return strong_login(Client(), user, device)


def csv_figures(client: Client, url: str) -> dict[str, str]:
    """The label -> number lines of a page's CSV download (two-cell rows)."""
    return {row[0]: row[1] for row in read_csv(client.get(url + "?format=csv")) if len(row) == 2}


SHARED_FIGURES = (
    "Profiles",
    "Without a registered e-mail address",
    "2FA not yet set up",
    "OTP by mobile application",
    "OTP by e-mail",
    "Smartcard only (no 2FA, card still valid)",
    "Locked",
)


@pytest.mark.parametrize("decommissioned", [False, True], ids=["before", "after-decommissioning"])
def test_readiness_report_and_dashboard_show_the_same_numbers_for_every_demo_firm(seeded, decommissioned):
    # One card expired and one profile created after the launch (no card that logs on):
    # neither is "smartcard only", on either page.
    User.objects.filter(user_id="B0123405").update(certificate_expiry=clock.now() - timedelta(days=1))
    User.objects.filter(user_id="HKABC101").update(created_after_launch=True)
    clients = {pid: da_on_2fa(f"{pid}X1") for pid in SEEDED}
    when = clock.today() if decommissioned else clock.today() + timedelta(days=3650)
    with override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=when):
        for pid, client in clients.items():
            report = csv_figures(client, "/dms/reports/2fa-readiness/")
            board = csv_figures(client, "/dms/reports/migration-readiness/")
            assert {k: report.get(k) for k in SHARED_FIGURES} == {k: board[k] for k in SHARED_FIGURES}, pid
            expected = 0 if decommissioned else SEEDED[pid] - 1 - (pid in ("B01234", "HKABC1"))
            assert board["Smartcard only (no 2FA, card still valid)"] == str(expected), pid


# -- shares add up to 100 % (issue 17, "Finish") -----------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_chart_shares_add_up_to_100_by_largest_remainder(seeded, language):
    """8 profiles as 1 app, 1 e-mail, 6 smartcard-only: 12.5 / 12.5 / 75 would round to 13+13+75 = 101."""
    set_up_2fa("B0123401", OtpChannel.APP)
    set_up_2fa("B0123402", OtpChannel.EMAIL)
    chart = dashboard.charts(dashboard.firm_readiness(seeded["B01234"]))[1]
    assert [s.value for s in chart.segments] == [1, 1, 6, 0]
    assert sum(s.share for s in chart.segments) == 100 and sorted(s.share for s in chart.segments) == [0, 12, 13, 75]
    client = da_client("B01234X1")
    client.cookies["django_language"] = language
    try:
        html = client.get("/dms/reports/migration-readiness/").content.decode()
    finally:
        translation.deactivate()  # the request left its language active in this thread
    table = html.split('id="chart-twofa-data"', 1)[1].split("</table>", 1)[0]
    shares = [int(cell) for cell in re.findall(r"<td>(\d+)%</td>", table)]
    assert len(shares) == 4 and sum(shares) == 100
