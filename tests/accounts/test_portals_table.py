"""The portals table answers for every portal (issue 16 item 4): where a session that ends
goes, which service hours hold, and where the admin sends an operator to log on. accounts
names no DMS or back-office path of its own (tests/test_architecture.py); these tests prove
the table gives the same answers the paths written out in the middleware used to give."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts import logon
from ccass_portal import clock

pytestmark = pytest.mark.django_db
HK = ZoneInfo("Asia/Hong_Kong")


@pytest.mark.parametrize(
    "path, start",
    [
        ("/terminal/", "/"),
        ("/reports/", "/"),
        ("/dms/home/", "/dms/"),
        ("/backoffice/home/", "/backoffice/login/"),
        ("/admin/", "/backoffice/login/"),
    ],
)
def test_a_session_that_ends_goes_to_the_start_of_the_portal_it_ended_in(client, new_user, path, start):
    with time_machine.travel(datetime(2024, 6, 3, 9, 0, tzinfo=HK), tick=False) as traveller:
        client.force_login(new_user)
        session = client.session
        session[logon.AUTH_AT_KEY] = clock.now().timestamp()
        session.save()
        traveller.shift(timedelta(minutes=16))  # past the 15-minute idle timeout
        response = client.get(path)
    assert response.status_code == 302 and response["Location"] == start
    assert "_auth_user_id" not in client.session


def test_the_admin_sends_an_operator_to_the_back_office_logon(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302 and response["Location"] == "/backoffice/login/"


@pytest.mark.parametrize(
    "when, terminal, dms, backoffice",
    [
        ((2024, 11, 23, 10, 0), 503, 200, 200),  # Saturday morning: DMS only
        ((2024, 11, 24, 10, 0), 503, 503, 200),  # Sunday: the back-office works outside hours
    ],
)
def test_each_portal_keeps_its_own_service_hours(client, settings, when, terminal, dms, backoffice):
    settings.PORTAL_ENFORCE_SERVICE_HOURS = True
    with time_machine.travel(datetime(*when, tzinfo=HK), tick=False):
        assert client.get("/login/").status_code == terminal
        assert client.get("/dms/login/").status_code == dms
        assert client.get("/backoffice/login/").status_code == backoffice


def test_every_path_belongs_to_one_portal():
    assert logon.portal_for_path("/dms/requests/").key == "dms"
    assert logon.portal_for_path("/backoffice/da4/").key == "backoffice"
    assert logon.portal_for_path("/admin/accounts/user/").key == "backoffice"
    assert logon.portal_for_path("/reports/").key == "terminal"
    assert logon.portal_for_path("/dmsx/").key == "terminal"  # a prefix is a whole path segment
