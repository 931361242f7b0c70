"""The pages of the logon and DMS journeys, rendered in Traditional Chinese, show no English
outside an allowed list: labels the translation deliberately keeps in English (any English in a
msgstr of locale/zh_Hant), the Terminal's function names (kept in English, as on the seed's
screenshot), IDs and codes, brand and product names, and the people's own data. The .po file
alone does not show a message that never reaches gettext (an f-string, a label in a dict)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from django.test import Client

from dms.models import ChangeRequest
from terminal.online_functions import ONLINE_FUNCTIONS
from tests.dms.factories import log_in
from tests.dms.test_views import form_data
from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import password_step

pytestmark = pytest.mark.django_db

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"
MARKUP = re.compile(r"<(script|style|title)\b.*?</\1>|<[^>]+>", re.S)
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ /-][A-Za-z][A-Za-z'’]*)*")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
ALWAYS = {
    # HKEX's contact addresses (ClearingPS@hkex.com.hk, ClearingPSD@hkex.com.hk) stay as they are.
    "ClearingPS",
    "ClearingPSD",
    "hkex",
    "com",
    "hk",
    "HKEX",
    "CCASS",
    "CCMS",
    "DMS",
    "OTP",
    "OATH",
    "ForgeRock",
    "Authenticator",
    "CSV",
    "OK",
    "SRN",
    "DA",
    "English",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",  # dates as the seeds write them
}


def kept_in_english() -> set[str]:
    """Words a msgstr keeps in English on purpose, and the Terminal's function names."""
    words = set()
    for msgstr in re.findall(r'^msgstr(?:\[\d\])? "(.*)"$', PO.read_text(), re.M):
        words.update(WORD.findall(re.sub(r"%\(\w+\)[sd]|\{\w+\}", "", msgstr)))
    for name in ONLINE_FUNCTIONS:
        words.update(WORD.findall(name))
    return words


def english_left(page: str, data: set[str], allowed: set[str]) -> set[str]:
    text = html.unescape(MARKUP.sub(" ", page))
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    phrases = set()
    for phrase in ENGLISH.findall(text):
        words = WORD.findall(phrase)
        if any(w not in allowed and not re.fullmatch(r"[A-Z]{1,4}", w) for w in words):
            phrases.add(phrase)
    return phrases


def chinese(client: Client) -> Client:
    client.cookies["django_language"] = "zh-hant"
    return client


def test_journey_pages_in_traditional_chinese_have_no_english_left(roster, app_user, email_user):
    allowed = ALWAYS | kept_in_english()
    user, app = app_user
    people = [user, email_user, roster.maker, roster.checker, roster.checker2, roster.user]
    data = {p.user_id for p in people} | {p.email for p in people} | {p.surname for p in people}
    data |= {p.other_names for p in people} | {
        roster.maker.participant.name,
        "WONG",
        "Gold",
    }  # "Gold": typed, echoed back
    found: dict[str, set[str]] = {}

    def visit(client, url, data_=None):
        response = client.post(url, data_) if data_ is not None else client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code in (200, 400, 403) and "html" in response.get("Content-Type", ""):
            for phrase in english_left(response.content.decode(), data, allowed):
                found.setdefault(phrase, set()).add(url)
        return response

    anonymous = chinese(Client())
    for url in ("/", "/login/?service=online", "/dms/", "/dms/login/", "/reset/", "/sso/", "/login/smartcard/"):
        visit(anonymous, url)
    visit(anonymous, "/login/?service=online", {"user_id": user.user_id, "password": "Wrong(Password)123x"})
    visit(anonymous, "/reset/", {"user_id": email_user.user_id})

    person = chinese(Client())
    password_step(person, user.user_id, GOOD_PASSWORD)
    visit(person, "/login/otp/")
    visit(person, "/login/otp/", {"otp": "000000"})
    person.post("/login/otp/", {"otp": app.code()})
    for url in (
        "/login/success/",
        "/terminal/",
        "/terminal/functions/delivery-instruction-di/",
        "/reports/",
        "/password/",
        "/password/authentication-settings/",
    ):
        visit(person, url)
    visit(person, "/password/", {"new_password1": "x", "new_password2": "y", "old_password": "z"})

    mailer = chinese(Client())
    password_step(mailer, email_user.user_id, GOOD_PASSWORD)
    visit(mailer, "/login/otp/")

    maker = chinese(log_in(Client(), roster.maker, roster.maker_app))
    subject = roster.user.user_id
    for url in (
        "/dms/home/",
        "/dms/profiles/create/",
        "/dms/profiles/change/",
        "/dms/profiles/enquire/",
        "/dms/profiles/delete/",
        f"/dms/profiles/{subject}/change/",
        f"/dms/profiles/{subject}/enquire/",
        f"/dms/profiles/{subject}/delete/",
        "/dms/requests/",
        "/dms/listings/user-profiles/",
        "/dms/reports/",
        "/dms/reports/requests/",
        "/dms/reports/2fa-readiness/",
        "/dms/login/success/",
    ):
        visit(maker, url)
    visit(maker, "/dms/profiles/change/?user_id=B0123499")
    visit(maker, f"/dms/profiles/{subject}/change/", form_data(roster.user, email="not-an-address"))
    visit(maker, f"/dms/profiles/{subject}/change/", form_data(roster.user, clearing_house_options="Gold"))
    prepared = maker.post(f"/dms/profiles/{subject}/change/", form_data(roster.user, surname="WONG"))
    request_url = prepared["Location"]
    visit(maker, request_url)
    visit(
        maker, request_url, {"action": "confirm", "checker_id": roster.checker.user_id, "authorisation_code": "000000"}
    )
    visit(
        maker,
        request_url,
        {"action": "confirm", "checker_id": roster.maker.user_id, "authorisation_code": roster.maker_app.code()},
    )
    assert ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING).count() == 1

    report = "\n".join(f"{phrase!r} on {sorted(urls)}" for phrase, urls in sorted(found.items()))
    assert not found, f"English left on zh-Hant pages:\n{report}"
