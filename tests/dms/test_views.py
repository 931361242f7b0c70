"""DMS pages through the real logon: menus, Create/Change/Enquire/Delete, the checker's
fields on the same page, Pending Requests, listing, reports, bad input, tenant isolation."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import user_ids
from accounts.models import AuditEvent, OtpChannel, Participant, Role, User
from dms.models import ChangeRequest
from dms.services import DmsEvent
from tests.factories import GOOD_PASSWORD, make_person, make_user

from .test_services import change_payload

SUCCESS = "THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY"
MENU = [
    "Maintain User Profile",
    "Create User Profile",
    "Change User Profile",
    "Enquire User Profile",
    "Delete User Profile",
    "View Listings",
    "User Profile Listing",
    "View Reports",
    "Pending Requests",
]
FOOTER = [
    "MAX. NO. OF USERS",
    "TOTAL NO. OF USERS",
    "TOTAL NO. OF DELEGATED ADMINISTRATORS",
    "TOTAL NO. OF USERS EXCEPT DELEGATED ADMINISTRATORS",
    "*** END OF REPORT ***",
]


def form_data(user: User, **changes) -> dict:
    """The Change User Profile form as the page would post it."""
    payload = change_payload(user)
    data = {
        "internal_external": payload["internal_external"],
        "status": payload["status"],
        "surname": payload["surname"],
        "other_names": payload["other_names"],
        "email": payload["email"],
        "enable_from": "",
        "disable_after": "",
        "clearing_house_options": payload["clearing_house_options"],
        "access_channel": payload["access_channel"],
        "user_groups": payload["user_groups"],
        "transaction_limit": payload["transaction_limit"],
        "action": "change",
    }
    data.update(changes)
    return data


def field_error(html: str, field: str) -> str:
    match = re.search(rf'id="id_{field}-error">([^<]*)<', html)
    return match.group(1) if match else ""


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def maker_client(roster, logged_in_client):
    return logged_in_client(roster.maker, roster.maker_app)


# -- access -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sec26_dms_needs_a_full_2fa_session(client, roster):
    assert client.get("/dms/home/")["Location"] == "/dms/login/"
    client.post("/dms/login/", {"user_id": roster.maker.user_id, "password": GOOD_PASSWORD})
    # Password step done, OTP not yet: nothing protected is reachable.
    assert client.get("/dms/profiles/create/")["Location"] == "/dms/login/"


@pytest.mark.django_db
def test_menus_use_the_seeds_labels(maker_client):
    page = text(maker_client.get("/dms/home/"))
    assert all(label in page for label in MENU)


@pytest.mark.django_db
def test_dms_warns_while_the_roster_is_short(roster, maker_client):
    assert 'id="roster-warning"' not in text(maker_client.get("/dms/home/"))
    User.objects.filter(pk=roster.checker2.pk).update(status=User.Status.DISABLED)
    page = text(maker_client.get("/dms/home/"))
    assert 'id="roster-warning"' in page and "two DA checkers" in page


# -- Create User Profile with the checker on the same page -----------------------------------------


@pytest.mark.django_db
def test_create_with_generate_user_id_and_checker_on_the_same_page(roster, maker_client):
    page = text(maker_client.get("/dms/profiles/create/"))
    for label in (
        "Organisation",
        "Internal/External",
        "User ID",
        "Generate User ID",
        "User Status",
        "Surname",
        "Other Names",
        "Email",
        "Enable From",
        "Disable After",
        "DD/MM/YY",
        "Clearing House Options",
        "Access Channel",
    ):
        assert label in page
    generated = maker_client.post("/dms/profiles/create/", {"action": "generate", "surname": "WONG"})
    assert generated.status_code == 200 and 'value="B0123402"' in text(generated)
    assert 'value="WONG"' in text(generated)  # what was typed stays
    response = maker_client.post(
        "/dms/profiles/create/",
        {
            "action": "create",
            "internal_external": "EXTERNAL",
            "user_id": "02",
            "status": "ENABLED",
            "surname": "wong",
            "other_names": "siu ming",
            "email": "wong@abc.example",
            "enable_from": "01/07/24",
            "disable_after": "",
            "clearing_house_options": "Cash",
            "access_channel": "C3T",
            "transaction_limit": "0",
        },
    )
    cr = ChangeRequest.objects.get()
    assert response["Location"] == f"/dms/requests/{cr.pk}/"
    assert not User.objects.filter(user_id="B0123402").exists()
    page = text(maker_client.get(response["Location"]))
    assert "Checker ID" in page and "Authorisation Code" in page and ">Confirm<" in page
    done = maker_client.post(
        response["Location"],
        {
            "action": "confirm",
            "checker_id": roster.checker.user_id,
            "authorisation_code": roster.checker_app.code(),
        },
        follow=True,
    )
    assert "THE ABOVE USER PROFILE IS CREATED SUCCESSFULLY" in text(done)  # not "CHANGED" (issue 17.6)
    created = User.objects.get(user_id="B0123402")
    assert (created.surname, created.other_names, str(created.enable_from)) == ("WONG", "SIU MING", "2024-07-01")


@pytest.mark.django_db
def test_generate_user_id_says_when_no_account_is_left(roster, maker_client):
    Participant.objects.filter(pk=roster.maker.participant_id).update(max_users=4)
    response = maker_client.post("/dms/profiles/create/", {"action": "generate"})
    assert response.status_code == 400
    assert "no spare user account" in field_error(text(response), "user_id")
    assert not ChangeRequest.objects.exists()


# -- Change User Profile ------------------------------------------------------------------------


@pytest.mark.django_db
def test_change_email_prompt_detail_confirm(roster, maker_client):
    prompt = maker_client.get("/dms/profiles/change/", {"user_id": roster.user.user_id.lower(), "action": "submit"})
    assert prompt["Location"] == f"/dms/profiles/{roster.user.user_id}/change/"
    page = text(maker_client.get(prompt["Location"]))
    assert "Unlock/Reset OTP Device Registration" in page
    # 2FA and smartcard fields show only in Enquire and Delete.
    assert 'id="change-otp-enabled"' in page and "SRN (for user using smartcard)" not in page  # App. D.c's screen
    response = maker_client.post(prompt["Location"], form_data(roster.user, email="abc@abc.com.hk"))
    cr = ChangeRequest.objects.get()
    assert response["Location"] == f"/dms/requests/{cr.pk}/"
    done = maker_client.post(
        response["Location"],
        {
            "action": "confirm",
            "checker_id": roster.checker.user_id,
            "authorisation_code": roster.checker_app.code(),
        },
        follow=True,
    )
    assert SUCCESS in text(done) and "abc@abc.com.hk" in text(done)
    assert User.objects.get(pk=roster.user.pk).email == "abc@abc.com.hk"


BAD_INPUT = [
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"enable_from": "2024-01-01"}, "enable_from", "DD/MM/YY"),
    ({"enable_from": "31/02/24"}, "enable_from", "DD/MM/YY"),
    ({"enable_from": "02/01/25", "disable_after": "01/01/25"}, "disable_after", "must not be before Enable From"),
    ({"transaction_limit": "-1"}, "transaction_limit", "greater than or equal to 0"),
    ({"transaction_limit": "99999999999"}, "transaction_limit", "less than or equal to"),
    ({"transaction_limit": "lots"}, "transaction_limit", "amount in HKD"),
    ({"surname": "   "}, "surname", "required"),
    ({"status": "GONE"}, "status", "valid choice"),
    ({"user_groups": ["NOPE"]}, "user_groups", "valid choice"),
    ({"access_channel": "X"}, "access_channel", "valid choice"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("changes, field, message", BAD_INPUT, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD_INPUT)])
def test_bad_input_is_refused_next_to_the_field(roster, maker_client, changes, field, message):
    response = maker_client.post(f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, **changes))
    assert response.status_code == 400
    assert message.lower() in field_error(text(response), field).lower()
    assert not ChangeRequest.objects.exists()


@pytest.mark.django_db
def test_a_rule_refusal_is_shown_next_to_its_field(roster, maker_client):
    response = maker_client.post(
        f"/dms/profiles/{roster.checker.user_id}/change/", form_data(roster.checker, status="DISABLED")
    )
    assert response.status_code == 400
    assert "fewer than one DA maker and two DA checkers" in field_error(text(response), "status")


@pytest.mark.django_db
def test_prompt_with_unknown_or_foreign_user_id(roster, other_roster, maker_client):
    for user_id in ("B0123499", other_roster.user.user_id, "<script>"):
        response = maker_client.get("/dms/profiles/change/", {"user_id": user_id, "action": "submit"})
        assert response.status_code == 400 and "no active user profile" in field_error(text(response), "user_id")
        assert "<script>" not in text(response)


@pytest.mark.django_db
def test_sec24_same_page_self_check_refusals(roster, maker_client):
    response = maker_client.post(
        f"/dms/profiles/{roster.checker.user_id}/change/", form_data(roster.checker, email="new@abc.example")
    )
    url = response["Location"]
    as_maker = maker_client.post(
        url,
        {
            "action": "confirm",
            "checker_id": roster.maker.user_id,
            "authorisation_code": roster.maker_app.code(1),
        },
    )
    assert as_maker.status_code == 400
    assert "maker of a request cannot authorise" in field_error(text(as_maker), "checker_id")
    as_subject = maker_client.post(
        url,
        {
            "action": "confirm",
            "checker_id": roster.checker.user_id,
            "authorisation_code": roster.checker_app.code(),
        },
    )
    assert as_subject.status_code == 400
    assert "concerns themselves" in field_error(text(as_subject), "checker_id")
    wrong = maker_client.post(
        url,
        {
            "action": "confirm",
            "checker_id": roster.checker2.user_id,
            "authorisation_code": "12345",
        },
    )
    assert wrong.status_code == 400 and "6-digit" in field_error(text(wrong), "authorisation_code")
    assert User.objects.get(pk=roster.checker.pk).email != "new@abc.example"
    assert AuditEvent.objects.filter(kind=DmsEvent.AUTHORISATION_REFUSED).count() == 2


# -- Unlock/Reset of a locked user, then that user's first-time logon ------------------------------


@pytest.mark.django_db
def test_unlock_reset_of_a_locked_user_then_first_time_logon(
    roster, maker_client, client, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=roster.user.pk).update(locked_at="2024-01-01T00:00:00Z")
    refused = client.post("/login/", {"user_id": roster.user.user_id, "password": GOOD_PASSWORD})
    assert "This account is locked." in text(refused)  # the locked message (issue 12, finding 5)
    response = maker_client.post(
        f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, unlock_reset="on")
    )
    assert "Will Unlock/Reset OTP Device Registration" in text(maker_client.get(response["Location"]))
    maker_client.post(
        response["Location"],
        {
            "action": "confirm",
            "checker_id": roster.checker.user_id,
            "authorisation_code": roster.checker_app.code(),
        },
    )
    user = User.objects.get(pk=roster.user.pk)
    assert not user.is_locked and user.otp_channel == OtpChannel.NONE and not user.has_usable_password()
    # The next logon is a first-time logon (App. C): "Forgot/Reset your password?" -> e-mail OTP ->
    # new password -> User Login -> set up the OTP channel.
    from django.core import mail

    from tests.factories import NEW_PASSWORD

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/reset/", {"user_id": roster.user.user_id})
    assert started.status_code == 302 and started["Location"] == "/reset/otp/"
    code = mail.outbox[-1].body.rsplit(" ", 1)[1]
    assert client.post("/reset/otp/", {"otp": code})["Location"] == "/reset/password/"
    done = client.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == "/reset/done/"
    logon = client.post("/login/", {"user_id": roster.user.user_id, "password": NEW_PASSWORD})
    assert logon["Location"] == "/login/setup/"  # "REGISTER DEVICE" or "SKIP THIS STEP"


# -- Enquire and Delete ------------------------------------------------------------------------


@pytest.mark.django_db
def test_enquire_lists_by_user_id_or_name(roster, maker_client):
    make_user(roster.maker.participant, "B0123402", surname="WONG", other_names="SIU MING")
    by_name = text(
        maker_client.get("/dms/profiles/enquire/", {"action": "list", "search_by": "name", "search_filter": "siu"})
    )
    assert "B0123402" in by_name and "WONG SIU MING" in by_name and "B0123401" not in by_name
    every = text(maker_client.get("/dms/profiles/enquire/", {"action": "list", "search_by": "user_id"}))
    assert all(uid in every for uid in ("B0123401", "B0123402", "B01234X1", "B01234X2", "B01234X3"))


@pytest.mark.django_db
def test_enquire_shows_lock_and_otp_always_and_smartcard_fields_before_setup(roster, maker_client):
    after = text(maker_client.get(f"/dms/profiles/{roster.user.user_id}/enquire/"))
    assert "Locked" in after and "OTP Enabled" in after
    assert "SRN (for user using smartcard)" not in after and "Certificate Expiry Date" not in after
    make_user(roster.maker.participant, "B0123402", srn="0101101200012AB2")
    before = text(maker_client.get("/dms/profiles/B0123402/enquire/"))
    assert "SRN (for user using smartcard)" in before and "0101101200012AB2" in before
    assert "Certificate Expiry Date" in before
    # every lock shows, also before the 2FA set-up (issue 17.4)
    assert '<td id="profile-locked">No</td>' in before and '<td id="profile-otp-enabled">No</td>' in before
    delete_page = text(maker_client.get("/dms/profiles/B0123402/delete/"))
    assert "SRN (for user using smartcard)" in delete_page and 'id="delete-profile"' in delete_page


@pytest.mark.django_db
def test_delete_through_the_pages(roster, maker_client):
    make_user(roster.maker.participant, "B0123402")
    response = maker_client.post("/dms/profiles/B0123402/delete/")
    cr = ChangeRequest.objects.get(kind=ChangeRequest.Kind.DELETE)
    assert response["Location"] == f"/dms/requests/{cr.pk}/"
    maker_client.post(
        response["Location"],
        {
            "action": "confirm",
            "checker_id": roster.checker.user_id,
            "authorisation_code": roster.checker_app.code(),
        },
    )
    assert User.all_objects.get(user_id="B0123402").deleted_at is not None
    assert maker_client.get("/dms/profiles/B0123402/enquire/").status_code == 404


@pytest.mark.django_db
def test_deleting_a_needed_da_is_refused_on_the_page(roster, maker_client):
    response = maker_client.post(f"/dms/profiles/{roster.checker.user_id}/delete/")
    assert response.status_code == 400 and "fewer than one DA maker" in text(response)


# -- Pending Requests: the checker's own session -------------------------------------------------


@pytest.mark.django_db
def test_checker_authorises_from_pending_requests(roster, maker_client, logged_in_client):
    maker_client.post(f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, surname="LEE"))
    cr = ChangeRequest.objects.get()
    checker_client = logged_in_client(roster.checker, roster.checker_app)
    listed = text(checker_client.get("/dms/requests/"))
    assert f"/dms/requests/{cr.pk}/" in listed and roster.user.user_id in listed
    page = text(checker_client.get(f"/dms/requests/{cr.pk}/"))
    assert f'value="{roster.checker.user_id}"' in page and 'id="reject"' in page
    # the logon's own code was just used: the next one authorises
    done = checker_client.post(
        f"/dms/requests/{cr.pk}/",
        {
            "action": "confirm",
            "checker_id": roster.checker.user_id,
            "authorisation_code": roster.checker_app.code(1),
        },
        follow=True,
    )
    assert SUCCESS in text(done)
    assert User.objects.get(pk=roster.user.pk).surname == "LEE"
    assert cr.pk not in [r.pk for r in ChangeRequest.objects.filter(status="PENDING")]


@pytest.mark.django_db
def test_checker_rejects_and_maker_withdraws(roster, maker_client, logged_in_client):
    maker_client.post(f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, surname="LEE"))
    maker_client.post(f"/dms/profiles/{roster.checker.user_id}/change/", form_data(roster.checker, surname="HO"))
    first, second = ChangeRequest.objects.order_by("pk")
    checker_client = logged_in_client(roster.checker2, roster.checker2_app)
    no_reason = checker_client.post(f"/dms/requests/{first.pk}/", {"action": "reject", "reason": ""})
    assert no_reason.status_code == 400 and field_error(text(no_reason), "reason")
    rejected = checker_client.post(f"/dms/requests/{first.pk}/", {"action": "reject", "reason": "Typo"})
    assert rejected["Location"] == "/dms/requests/"
    assert ChangeRequest.objects.get(pk=first.pk).status == ChangeRequest.Status.REJECTED
    # a checker cannot withdraw the maker's request
    assert checker_client.post(f"/dms/requests/{second.pk}/", {"action": "withdraw"}).status_code == 400
    assert maker_client.post(f"/dms/requests/{second.pk}/", {"action": "withdraw"})["Location"] == "/dms/requests/"
    assert ChangeRequest.objects.get(pk=second.pk).status == ChangeRequest.Status.WITHDRAWN
    stale = maker_client.post(
        f"/dms/requests/{second.pk}/",
        {
            "action": "confirm",
            "checker_id": roster.checker2.user_id,
            "authorisation_code": roster.checker2_app.code(1),
        },
    )
    assert stale.status_code == 400 and "already been authorised, rejected or withdrawn" in text(stale)


@pytest.mark.django_db
def test_email_checker_code_is_sent_from_the_makers_page(roster, maker_client, django_capture_on_commit_callbacks):
    from django.core import mail

    User.objects.filter(pk=roster.checker.pk).update(otp_channel=OtpChannel.EMAIL)
    maker_client.post(f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, surname="LEE"))
    cr = ChangeRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        sent = maker_client.post(
            f"/dms/requests/{cr.pk}/", {"action": "send-code", "checker_id": roster.checker.user_id}
        )
    assert sent.status_code == 302 and len(mail.outbox) == 1
    code = mail.outbox[0].body.rsplit(" ", 1)[1]
    done = maker_client.post(
        f"/dms/requests/{cr.pk}/",
        {
            "action": "confirm",
            "checker_id": roster.checker.user_id,
            "authorisation_code": code,
        },
        follow=True,
    )
    assert SUCCESS in text(done)


# -- User Profile Listing and View Reports ---------------------------------------------------------


@pytest.mark.django_db
def test_listing_ends_with_the_five_footer_lines_and_downloads_as_csv(roster, maker_client):
    page = text(maker_client.get("/dms/listings/user-profiles/"))
    assert roster.user.email in page
    positions = [page.index(line) for line in FOOTER]
    assert positions == sorted(positions) and max(positions) > page.index(roster.user.user_id)
    assert re.search(r"MAX. NO. OF USERS</th><td>: 20<", page)
    assert re.search(r"TOTAL NO. OF USERS</th><td>: 4<", page)
    assert re.search(r"TOTAL NO. OF DELEGATED ADMINISTRATORS</th><td>: 3<", page)
    assert re.search(r"TOTAL NO. OF USERS EXCEPT DELEGATED ADMINISTRATORS</th><td>: 1<", page)
    response = maker_client.get("/dms/listings/user-profiles/", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["User ID", "User Name", "Email"]
    assert [row[0] for row in rows[-5:]] == FOOTER
    assert rows[-5][1] == ": 20" and rows[-4][1] == ": 4"
    assert {row[0] for row in rows[1:-5]} == {"B0123401", "B01234X1", "B01234X2", "B01234X3"}


def _profiles(participant, count):
    User.objects.bulk_create(
        User(user_id=participant.participant_id + suffix, participant=participant, surname="BULK", password="!")
        for suffix in user_ids.USER_SUFFIXES[9 : 9 + count]
    )


@pytest.mark.django_db
def test_listing_query_count_does_not_grow_with_the_number_of_profiles(roster, maker_client):
    participant = roster.maker.participant
    _profiles(participant, 10)
    with CaptureQueriesContext(connection) as small:
        assert maker_client.get("/dms/listings/user-profiles/").status_code == 200
    User.objects.filter(surname="BULK").delete()
    _profiles(participant, 200)
    with CaptureQueriesContext(connection) as large:
        response = maker_client.get("/dms/listings/user-profiles/")
    assert response.content.decode().count("BULK") == 200

    # Only the queries on profiles, participants and DMS records count: the session and the
    # demo clock are read or saved now and then by middleware, whatever the page.
    def ours(captured):
        return [
            q["sql"] for q in captured if any(t in q["sql"] for t in ("accounts_user", "accounts_participant", "dms_"))
        ]

    assert len(ours(large.captured_queries)) == len(ours(small.captured_queries)) <= 6, ours(large.captured_queries)
    with CaptureQueriesContext(connection) as csv_large:
        maker_client.get("/dms/listings/user-profiles/", {"format": "csv"})
    assert len(ours(csv_large.captured_queries)) <= len(ours(small.captured_queries))


@pytest.mark.django_db
@pytest.mark.usefixtures("no_demo_clock")
def test_listing_and_readiness_read_a_firm_in_a_fixed_number_of_queries(roster, django_assert_num_queries):
    from dms import selectors

    _profiles(roster.maker.participant, 200)
    with django_assert_num_queries(1):
        rows, footer = selectors.profile_listing(roster.maker.participant)
    assert footer.total_users == 204 and len(rows) == 204
    with django_assert_num_queries(3):  # counts (roster included), smartcard-only profiles, rows
        readiness, rows = selectors.twofa_readiness(roster.maker.participant)
    assert readiness.total == 204 and len(rows) == 204


@pytest.mark.django_db
def test_reports_audit_trail_and_2fa_readiness(roster, maker_client):
    make_user(roster.maker.participant, "B0123402", email="", srn="0101101200012AB2")
    maker_client.post(f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, surname="LEE"))
    cr = ChangeRequest.objects.get()
    from dms import services

    services.authorise_request(
        cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id, code=roster.checker_app.code()
    )
    menu = text(maker_client.get("/dms/reports/"))
    assert "/dms/reports/requests/" in menu and "/dms/reports/2fa-readiness/" in menu
    trail = text(maker_client.get("/dms/reports/requests/"))
    assert f'<a href="/dms/requests/{cr.pk}/">#{cr.pk}</a>' in trail
    assert roster.checker.user_id in trail and "Authorised" in trail and "Surname: CHAN -&gt; LEE" in trail
    rows = list(csv.reader(io.StringIO(maker_client.get("/dms/reports/requests/", {"format": "csv"}).content.decode())))
    assert rows[1][2:6] == [roster.user.user_id, roster.maker.user_id, roster.checker.user_id, "Authorised"]
    assert "Surname=CHAN" in rows[1][9] and "Surname=LEE" in rows[1][10]
    readiness = text(maker_client.get("/dms/reports/2fa-readiness/"))
    assert (
        "Smartcard only (no 2FA, card still valid)" in readiness and "Without a registered e-mail address" in readiness
    )
    summary = dict(
        row[:2]
        for row in csv.reader(
            io.StringIO(maker_client.get("/dms/reports/2fa-readiness/", {"format": "csv"}).content.decode())
        )
        if len(row) >= 2
    )
    assert summary["Without a registered e-mail address"] == "1"
    assert summary["2FA not yet set up"] == "1" and summary["Smartcard only (no 2FA, card still valid)"] == "1"
    assert summary["OTP by mobile application"] == "4"
    assert summary["At least one DA maker and two DA checkers"] == "Yes"


@pytest.mark.django_db
def test_csv_cells_cannot_carry_formulas(roster, maker_client):
    make_user(roster.maker.participant, "B0123402", surname="=HYPERLINK(1)")
    content = maker_client.get("/dms/listings/user-profiles/", {"format": "csv"}).content.decode()
    assert "'=HYPERLINK(1)" in content


# -- tenant isolation (SECURITY.md 23) ----------------------------------------------------------------

OBJECT_URLS = [
    ("get", "/dms/profiles/{user}/change/", {}),
    ("post", "/dms/profiles/{user}/change/", {"action": "change"}),
    ("get", "/dms/profiles/{user}/enquire/", {}),
    ("get", "/dms/profiles/{user}/delete/", {}),
    ("post", "/dms/profiles/{user}/delete/", {}),
    ("get", "/dms/profiles/{da}/enquire/", {}),
    ("get", "/dms/requests/{request}/", {}),
    (
        "post",
        "/dms/requests/{request}/",
        {"action": "confirm", "checker_id": "{checker}", "authorisation_code": "123456"},
    ),
    ("post", "/dms/requests/{request}/", {"action": "send-code", "checker_id": "{checker}"}),
    ("post", "/dms/requests/{request}/", {"action": "reject", "reason": "no"}),
    ("post", "/dms/requests/{request}/", {"action": "withdraw"}),
]


def _pending_request(firm_roster) -> ChangeRequest:
    from dms import services

    return services.prepare_request(
        maker=firm_roster.maker,
        kind=ChangeRequest.Kind.CHANGE,
        subject_user_id=firm_roster.user.user_id,
        payload=change_payload(firm_roster.user, surname="LEE"),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, url, data", OBJECT_URLS, ids=[f"{m} {u} {d.get('action', '')}" for m, u, d in OBJECT_URLS]
)
@pytest.mark.parametrize("who", ["maker", "checker"])
def test_sec23_another_firms_users_and_requests_answer_404(
    roster, other_roster, logged_in_client, method, url, data, who
):
    theirs = _pending_request(other_roster)
    values = {
        "user": other_roster.user.user_id,
        "da": other_roster.checker.user_id,
        "request": theirs.pk,
        "checker": roster.checker2.user_id,
    }
    me, app = (roster.maker, roster.maker_app) if who == "maker" else (roster.checker, roster.checker_app)
    client = logged_in_client(me, app)
    response = getattr(client, method)(url.format(**values), {k: v.format(**values) for k, v in data.items()})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_pending and User.objects.get(pk=other_roster.user.pk).surname == "CHAN"
    # The same URL for one's own firm answers (so the 404 above is the firm check).
    mine = _pending_request(roster) if "{request}" in url else None
    own = {
        "user": roster.user.user_id,
        "da": roster.checker.user_id,
        "request": getattr(mine, "pk", 0),
        "checker": roster.checker2.user_id,
    }
    assert client.get(url.format(**own)).status_code == 200


FIRM_PAGES = [
    "/dms/home/",
    "/dms/profiles/create/",
    "/dms/profiles/change/",
    "/dms/profiles/enquire/?action=list",
    "/dms/profiles/delete/?action=list&search_by=name&search_filter=CHAN",
    "/dms/requests/",
    "/dms/listings/user-profiles/",
    "/dms/listings/user-profiles/?format=csv",
    "/dms/reports/",
    "/dms/reports/requests/",
    "/dms/reports/requests/?format=csv",
    "/dms/reports/2fa-readiness/",
    "/dms/reports/2fa-readiness/?format=csv",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", FIRM_PAGES)
def test_sec23_firm_pages_show_nothing_of_another_firm(roster, other_roster, maker_client, url):
    _pending_request(other_roster)
    response = maker_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "B05678" not in body and "XYZ BROKERS" not in body


@pytest.mark.django_db
def test_a_business_user_cannot_use_dms(roster, client):
    response = client.post("/dms/login/", {"user_id": roster.user.user_id, "password": GOOD_PASSWORD})
    assert "Only Delegated Administrators" in text(response)
    assert client.get("/dms/home/")["Location"] == "/dms/login/"


@pytest.mark.django_db
def test_other_methods_are_refused(maker_client):
    assert maker_client.put("/dms/profiles/create/").status_code == 405
    assert maker_client.delete("/dms/requests/1/").status_code == 405


@pytest.mark.django_db
def test_an_unknown_action_is_a_bad_request_not_an_error(roster, maker_client):
    cr = _pending_request(roster)
    assert maker_client.post(f"/dms/requests/{cr.pk}/", {"action": "explode"}).status_code == 400
    assert maker_client.post(f"/dms/requests/{cr.pk}/", {"action": "confirm"}).status_code == 400
    assert maker_client.get("/dms/profiles/change/?search_by=nonsense&action=list").status_code == 400
    assert ChangeRequest.objects.get(pk=cr.pk).is_pending


@pytest.mark.django_db
def test_a_new_da_maker_sees_role_specific_controls(roster, logged_in_client):
    cr = _pending_request(roster)
    maker_page = text(logged_in_client(roster.maker, roster.maker_app).get(f"/dms/requests/{cr.pk}/"))
    assert 'id="withdraw"' in maker_page and 'id="reject"' not in maker_page
    second_maker, app = make_person(roster.maker.participant, "B01234X4", role=Role.DA_MAKER)
    other_page = text(logged_in_client(second_maker, app).get(f"/dms/requests/{cr.pk}/"))
    assert 'id="withdraw"' not in other_page and 'id="reject"' not in other_page


@pytest.mark.django_db
def test_send_code_refusals_are_shown_next_to_the_checker_id(roster, maker_client):
    from django.core import mail

    cr = _pending_request(roster)
    for checker_id, message in [
        (roster.checker.user_id, "authenticator app"),
        (roster.maker.user_id, "maker of a request cannot authorise"),
        ("", "required"),
    ]:
        response = maker_client.post(f"/dms/requests/{cr.pk}/", {"action": "send-code", "checker_id": checker_id})
        assert response.status_code == 400
        assert message in field_error(text(response), "checker_id")
        assert 'id="id_authorisation_code"' in text(response)
    assert len(mail.outbox) == 0


@pytest.mark.django_db
def test_sec19_dms_state_changes_need_the_csrf_token(roster, logged_in_client):
    from django.test import Client

    cr = _pending_request(roster)
    client = logged_in_client(roster.maker, roster.maker_app)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    for url, data in [
        (
            f"/dms/requests/{cr.pk}/",
            {
                "action": "confirm",
                "checker_id": roster.checker.user_id,
                "authorisation_code": roster.checker_app.code(),
            },
        ),
        (f"/dms/requests/{cr.pk}/", {"action": "send-code", "checker_id": roster.checker.user_id}),
        (f"/dms/profiles/{roster.user.user_id}/delete/", {}),
        ("/dms/profiles/create/", {"action": "generate"}),
    ]:
        assert strict.post(url, data).status_code == 403
    assert ChangeRequest.objects.get(pk=cr.pk).is_pending and ChangeRequest.objects.count() == 1


@pytest.mark.django_db
def test_sec27_no_code_or_secret_reaches_the_audit_trail(roster, maker_client):
    cr = _pending_request(roster)
    code = roster.checker_app.code()
    maker_client.post(
        f"/dms/requests/{cr.pk}/",
        {"action": "confirm", "checker_id": roster.checker.user_id, "authorisation_code": code},
    )
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeRequest.Status.APPROVED
    for event in AuditEvent.objects.all():
        assert code not in str(event.data) and GOOD_PASSWORD not in str(event.data)


@pytest.mark.django_db
def test_profile_text_is_escaped_in_tables(roster, maker_client):
    make_user(roster.maker.participant, "B0123402", surname="<script>alert(1)</script>")
    from dms import services

    services.prepare_request(
        maker=roster.maker,
        kind=ChangeRequest.Kind.CHANGE,
        subject_user_id="B0123402",
        payload=change_payload(User.objects.get(user_id="B0123402"), other_names="<b>X</b>"),
    )
    for url in (
        "/dms/listings/user-profiles/",
        "/dms/reports/requests/",
        "/dms/profiles/B0123402/enquire/",
        "/dms/requests/",
    ):
        body = text(maker_client.get(url))
        assert "<script>alert(1)</script>" not in body and "<b>X</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(maker_client.get("/dms/listings/user-profiles/"))


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", ["%00", "B01234%0001", "x" * 300, "..", "B0123401;DROP", "%E2%80%AE"])
def test_odd_user_ids_in_the_path_answer_404(roster, maker_client, user_id):
    for action in ("change", "enquire", "delete"):
        assert maker_client.get(f"/dms/profiles/{user_id}/{action}/").status_code == 404


@pytest.mark.django_db
def test_huge_request_numbers_answer_404(maker_client):
    for number in (2**63, 10**20, 10**40):
        assert maker_client.get(f"/dms/requests/{number}/").status_code == 404
        assert maker_client.post(f"/dms/requests/{number}/", {"action": "withdraw"}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["disable", "delete"])
def test_sec18_disabling_or_deleting_a_user_ends_their_sessions(roster, maker_client, logged_in_client, how):
    from dms import services

    person, app = make_person(roster.maker.participant, "B0123402")
    terminal = logged_in_client(person, app, portal="terminal")
    assert terminal.get("/terminal/").status_code == 200
    if how == "disable":
        cr = services.prepare_request(
            maker=roster.maker,
            kind=ChangeRequest.Kind.CHANGE,
            subject_user_id=person.user_id,
            payload=change_payload(person, status="DISABLED"),
        )
    else:
        cr = services.prepare_request(
            maker=roster.maker, kind=ChangeRequest.Kind.DELETE, subject_user_id=person.user_id
        )
    services.authorise_request(
        cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id, code=roster.checker_app.code()
    )
    assert terminal.get("/terminal/")["Location"].startswith("/login/")


@pytest.mark.django_db
def test_smartcard_password_reset_on_the_change_page(roster, maker_client, settings):
    from datetime import date

    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2099, 1, 1)
    card_user = make_user(roster.maker.participant, "B0123402", srn="0101101200012AB2")
    url = f"/dms/profiles/{card_user.user_id}/change/"
    assert "Reset Smartcard Password" in text(maker_client.get(url))
    assert "Reset Smartcard Password" not in text(maker_client.get(f"/dms/profiles/{roster.user.user_id}/change/"))
    bad = maker_client.post(url, form_data(card_user, smartcard_password="12ab56"))
    assert bad.status_code == 400 and "6-8 digits" in field_error(text(bad), "smartcard_password")
    response = maker_client.post(url, form_data(card_user, smartcard_password="13572468"))
    assert "13572468" not in text(maker_client.get(response["Location"]))
    maker_client.post(
        response["Location"],
        {"action": "confirm", "checker_id": roster.checker.user_id, "authorisation_code": roster.checker_app.code()},
    )
    assert User.objects.get(pk=card_user.pk).check_smartcard_password("13572468")
    settings.PORTAL_SMARTCARD_DECOMMISSION_DATE = date(2023, 9, 4)
    assert "Reset Smartcard Password" not in text(maker_client.get(url))


@pytest.mark.django_db
def test_ccms_participants_offer_derivatives(logged_in_client):
    from tests.dms.factories import make_roster

    firm = Participant.objects.create(
        participant_id="HKABC1", name="ABC FUTURES", clearing_house="HKCC", customer_code="ABC", max_users=20
    )
    firm_roster = make_roster(firm)
    client = logged_in_client(firm_roster.maker, firm_roster.maker_app)
    page = text(client.get("/dms/profiles/create/"))
    assert '<option value="Derivatives"' in page and '<option value="Cash"' not in page
    generated = text(client.post("/dms/profiles/create/", {"action": "generate"}))
    assert 'value="HKABC102"' in generated
