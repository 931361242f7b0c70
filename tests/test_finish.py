"""Issue 17's "Finish" items a newcomer met on `make demo`, proved through the pages."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import app_logon

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    """A request leaves its language active in the thread; later tests read messages in English."""
    yield
    translation.deactivate()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- Change Password: the labels, one error once, one apostrophe -----------------------------------


def test_change_password_labels_and_each_error_once(client, app_user):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    page = client.get("/password/").content.decode()
    for label, field in (
        ("New password", "new_password1"),
        ("Confirm new password", "new_password2"),
        ("Current password", "old_password"),
    ):
        assert f'<label for="id_{field}">{label}</label>' in page
    rules = page.split('id="id_new_password1-help">', 1)[1].split("</div>", 1)[0]
    assert "firm" in rules and "can" in rules
    assert "\u2019" not in rules  # one kind of apostrophe: "firm's" and "can't"
    response = client.post(
        "/password/",
        {"new_password1": "short", "new_password2": "short", "old_password": GOOD_PASSWORD, "otp": app.code(1)},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("At least 16 characters.") == 1
    assert 'id="id_new_password1-error"' in html  # next to its field


# -- "Close" after a reset returns to the service chosen on the landing page ----------------------


@pytest.mark.parametrize("service", ["online", "reports"])
def test_close_after_a_reset_returns_to_the_chosen_services_login(client, app_user, service):
    from tests.factories import NEW_PASSWORD

    user, app = app_user
    login = client.get(f"/login/?service={service}").content.decode()
    reset_link = re.search(r'href="(/reset/[^"]*)"', login).group(1)
    assert reset_link == f"/reset/?service={service}"
    client.get(reset_link)
    assert client.post(reset_link, {"user_id": user.user_id})["Location"] == "/reset/otp/"
    assert client.post("/reset/otp/", {"otp": app.code()})["Location"] == "/reset/password/"
    assert (
        client.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})["Location"]
        == "/reset/done/"
    )
    done = client.get("/reset/done/").content.decode()
    close = re.search(r'<a class="button primary" href="([^"]+)">Close</a>', done).group(1)
    assert close == f"/login/?service={service}"


# -- DMS menu: one case style, every report reachable from it -----------------------------------


SMALL_WORDS = {"of", "and", "a", "the", "by"}


def test_dms_menu_items_in_one_case_style_and_every_report_in_it(participant):
    from django.test import Client

    from tests.dms.factories import log_in, make_roster

    roster = make_roster(participant)
    client = log_in(Client(), roster.maker, roster.maker_app)
    html = client.get("/dms/home/").content.decode()
    menu = html.split('id="dms-menu"', 1)[1].split("</nav>", 1)[0]
    items = {text.strip(): href for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', menu)}
    for href in ("/dms/reports/requests/", "/dms/reports/2fa-readiness/", "/dms/reports/migration-readiness/"):
        assert href in items.values(), (href, items)
    for text in items:
        words = [w for w in text.split() if w.lower() not in SMALL_WORDS]
        assert all(w[0].isupper() or w[0].isdigit() for w in words), text


# -- Online Functions: which functions are simulated, before a person opens one -------------------


def test_online_functions_menu_says_the_functions_are_simulated(client, app_user):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    html = client.get("/terminal/").content.decode()
    note = html.split('id="functions-simulated"', 1)[1].split("</p>", 1)[0]
    assert "simulated" in note and "Function not available" in note
    assert 'aria-describedby="functions-simulated"' in html  # read with the menu


# -- DMS Create User Profile in Traditional Chinese: the seeds' values translated ------------------


def test_create_user_profile_values_in_traditional_chinese(participant):
    from django.test import Client

    from tests.dms.factories import log_in, make_roster

    roster = make_roster(participant)
    client = log_in(Client(), roster.maker, roster.maker_app)
    client.cookies["django_language"] = "zh-hant"
    html = client.get("/dms/profiles/create/").content.decode()
    for english, chinese in (("EXTERNAL", "外部"), ("ENABLED", "啟用"), ("DISABLED", "停用"), ("Cash", "現貨")):
        assert chinese in html and f">{english}<" not in html and f"> {english}</label>" not in html, english
    assert 'value="EXTERNAL"' in html and 'value="ENABLED"' in html  # the stored values stay the seeds'
    assert html.count("DD/MM/YY") == 2  # one hint per date field


# -- The demo clock page and banner in Traditional Chinese -------------------------------------------


def test_demo_clock_page_and_banner_fully_in_traditional_chinese(client, settings):
    from ccass_portal import clock

    settings.PORTAL_DEMO = True
    clock.forget_demo_offset()
    try:
        client.cookies["django_language"] = "zh-hant"
        client.post("/demo/clock/", {"action": "forward_91d"})
        html = client.get("/demo/clock/").content.decode()
    finally:
        clock.forget_demo_offset()
    # the header's clock keeps the seeds' DD-Mon-YY on every page (templatetags.portal.seed_date)
    page = text_of(re.sub(r'<span class="clock">[^<]*</span>', "", html))
    for english in ("+5 minutes", "an e-mail OTP expires", "passwords expire", "91 days", "YYYY-MM-DD"):
        assert english not in page, english
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)  # dates in the page language's format
    assert not re.search(r"\d\d-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d\d", page)
    assert '<label for="id_date">日期</label>' in html  # the browser's date field shows its own format
