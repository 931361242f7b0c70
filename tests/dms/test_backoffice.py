"""The HKEX back-office: eServices DA3 and DA4, behind an operator's 2FA session."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import AuditEvent, OtpChannel, Participant, Role, User
from dms import backoffice
from dms.models import EServiceRecord
from dms.services import DmsRefusal
from otp.models import AuthenticatorDevice
from tests.factories import make_user

Action = EServiceRecord.Action


@pytest.fixture
def operator_client(operator, logged_in_client):
    user, app = operator
    return logged_in_client(user, app, portal="backoffice")


# -- access ---------------------------------------------------------------------------------

BACKOFFICE_PAGES = [
    "/backoffice/home/",
    "/backoffice/da3/add-da/",
    "/backoffice/da3/da-action/",
    "/backoffice/da3/assign-role/",
    "/backoffice/da4/",
    "/backoffice/scard1/",
    "/backoffice/processed/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", BACKOFFICE_PAGES)
def test_backoffice_pages_need_an_operators_2fa_session(client, roster, logged_in_client, operator_client, url):
    assert client.get(url)["Location"] == "/backoffice/login/"
    da_client = logged_in_client(roster.maker, roster.maker_app)  # a DA's DMS session is not an operator's
    assert da_client.get(url).status_code in (302, 403)
    assert operator_client.get(url).status_code == 200


@pytest.mark.django_db
def test_a_da_cannot_log_on_to_the_backoffice(client, roster):
    from tests.factories import GOOD_PASSWORD

    response = client.post("/backoffice/login/", {"user_id": roster.maker.user_id, "password": GOOD_PASSWORD})
    assert "Only HKEX operators" in response.content.decode()


# -- DA3 --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_add_da_gets_the_next_da_format_id_and_is_audited(roster, operator_client, operator):
    response = operator_client.post(
        "/backoffice/da3/add-da/",
        {
            "participant": "B01234",
            "role": Role.DA_CHECKER,
            "surname": "NG",
            "other_names": "KA YAN",
            "email": "ng@abc.example",
        },
    )
    assert response["Location"] == "/backoffice/processed/"
    da = User.objects.get(user_id="B01234X4")
    assert da.role == Role.DA_CHECKER and da.created_after_launch and not da.has_usable_password()
    record = EServiceRecord.objects.get()
    assert (record.service, record.action, record.subject_user_id) == ("DA3", Action.ADD_DA, "B01234X4")
    event = AuditEvent.objects.get(kind=backoffice.BackofficeEvent.DA3_PROCESSED)
    assert event.actor == operator[0] and event.subject == da and event.data["reference"] == record.reference
    listed = operator_client.get("/backoffice/processed/").content.decode()
    assert record.reference in listed and "B01234X4" in listed


@pytest.mark.django_db
def test_add_da_refused_without_a_spare_account(roster, operator_client):
    Participant.objects.filter(participant_id="B01234").update(max_users=4)
    response = operator_client.post(
        "/backoffice/da3/add-da/",
        {
            "participant": "B01234",
            "role": Role.DA_MAKER,
            "surname": "NG",
            "email": "ng@abc.example",
        },
    )
    assert response.status_code == 400 and "no spare user account" in response.content.decode()
    assert not EServiceRecord.objects.exists() and not User.all_objects.filter(user_id="B01234X4").exists()


@pytest.mark.django_db
def test_bad_input_on_backoffice_forms(roster, operator_client):
    for url, data in [
        ("/backoffice/da3/add-da/", {"participant": "ZZZZZZ", "role": "DA_MAKER", "surname": "NG", "email": "x"}),
        ("/backoffice/da3/da-action/", {"participant": "B01234", "user_id": "B01234X2", "action": "EXPLODE"}),
        ("/backoffice/da4/", {"participant": "B01234", "accounts": "0"}),
        ("/backoffice/da4/", {"participant": "B01234", "accounts": "many"}),
    ]:
        assert operator_client.post(url, data).status_code == 400
    assert not EServiceRecord.objects.exists()


@pytest.mark.django_db
def test_unlock_and_reset_a_das_otp_registration(roster, operator):
    User.objects.filter(pk=roster.checker.pk).update(locked_at="2024-01-01T00:00:00Z")
    backoffice.act_on_da(
        operator=operator[0], participant=roster.checker.participant, user_id="b01234x2", action=Action.UNLOCK
    )
    assert not User.objects.get(pk=roster.checker.pk).is_locked
    backoffice.act_on_da(
        operator=operator[0], participant=roster.checker.participant, user_id="B01234X2", action=Action.RESET_OTP
    )
    checker = User.objects.get(pk=roster.checker.pk)
    assert checker.otp_channel == OtpChannel.NONE and not checker.has_usable_password()
    assert not AuthenticatorDevice.objects.filter(user=checker).exists()
    assert EServiceRecord.objects.filter(service="DA3").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("action", [Action.UNLOCK, Action.RESET_OTP])
def test_a_da3_reset_tells_the_da_by_mail(roster, operator, action, django_capture_on_commit_callbacks):
    """HKEX's DA3 reset is a change of the DA's authentication settings: the DA is told by
    e-mail (docs/security.md, "Step-up and change notices"), no link, no User ID."""
    from django.core import mail

    checker = roster.checker
    with django_capture_on_commit_callbacks(execute=True):
        backoffice.act_on_da(
            operator=operator[0], participant=checker.participant, user_id=checker.user_id, action=action
        )
    [notice] = [m for m in mail.outbox if m.to == [checker.email]]
    assert "reset" in notice.body and "重設" in notice.body
    assert checker.user_id not in notice.body + notice.subject and "http" not in notice.body
    assert not [m for m in mail.outbox if operator[0].email in m.to]


@pytest.mark.django_db
def test_disable_or_delete_that_breaks_the_roster_is_refused(roster, operator_client):
    for action in (Action.DISABLE, Action.DELETE):
        response = operator_client.post(
            "/backoffice/da3/da-action/",
            {
                "participant": "B01234",
                "user_id": roster.checker.user_id,
                "action": action,
                "email": roster.checker.email,
                "submitter_email": "cc-admin@abc-securities.example",
            },
        )
        assert response.status_code == 400 and "fewer than one DA maker" in response.content.decode()
    checker = User.objects.get(pk=roster.checker.pk)
    assert checker.status == User.Status.ENABLED and checker.deleted_at is None
    assert not EServiceRecord.objects.exists()


@pytest.mark.django_db
def test_disable_enable_delete_a_da_above_the_minimum(roster, operator):
    extra = make_user(roster.maker.participant, "B01234X4", role=Role.DA_CHECKER)
    kwargs = {"operator": operator[0], "participant": extra.participant, "user_id": extra.user_id}
    stamp = extra.security_stamp
    backoffice.act_on_da(action=Action.DISABLE, **kwargs)
    extra.refresh_from_db()
    assert extra.status == User.Status.DISABLED and extra.security_stamp != stamp
    backoffice.act_on_da(action=Action.ENABLE, **kwargs)
    assert User.objects.get(pk=extra.pk).status == User.Status.ENABLED
    backoffice.act_on_da(action=Action.DELETE, **kwargs)
    assert User.all_objects.get(pk=extra.pk).deleted_at is not None
    assert backoffice.user_ids.next_free_user_id(extra.participant, delegated_administrator=True) == "B01234X5"


@pytest.mark.django_db
def test_da3_actions_only_touch_das_of_the_named_participant(roster, other_roster, operator):
    for participant, user_id in [
        (roster.maker.participant, roster.user.user_id),
        (roster.maker.participant, other_roster.checker.user_id),
    ]:
        with pytest.raises(DmsRefusal, match="has no Delegated Administrator"):
            backoffice.act_on_da(operator=operator[0], participant=participant, user_id=user_id, action=Action.DISABLE)


@pytest.mark.django_db
def test_assign_da_role_to_an_existing_user(roster, operator):
    record = backoffice.assign_da_role(
        operator=operator[0], participant=roster.user.participant, user_id=roster.user.user_id, role=Role.DA_CHECKER
    )
    assert User.objects.get(pk=roster.user.pk).role == Role.DA_CHECKER
    assert record.details == {"role": Role.DA_CHECKER, "previous_role": Role.USER}
    # The only maker cannot be turned into a checker.
    with pytest.raises(DmsRefusal, match="fewer than one DA maker"):
        backoffice.assign_da_role(
            operator=operator[0],
            participant=roster.maker.participant,
            user_id=roster.maker.user_id,
            role=Role.DA_CHECKER,
        )
    with pytest.raises(DmsRefusal, match="already has this role"):
        backoffice.assign_da_role(
            operator=operator[0], participant=roster.maker.participant, user_id=roster.maker.user_id, role=Role.DA_MAKER
        )


@pytest.mark.django_db
def test_assign_da_role_to_a_user_with_business_groups_only_after_decommissioning(roster, operator):
    User.objects.filter(pk=roster.user.pk).update(user_groups=["11"])
    with override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=date(2099, 1, 1)):
        with pytest.raises(DmsRefusal, match="Before the decommissioning"):
            backoffice.assign_da_role(
                operator=operator[0],
                participant=roster.user.participant,
                user_id=roster.user.user_id,
                role=Role.DA_MAKER,
            )
    with override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=date(2023, 9, 4)):
        backoffice.assign_da_role(
            operator=operator[0], participant=roster.user.participant, user_id=roster.user.user_id, role=Role.DA_MAKER
        )
    assert User.objects.get(pk=roster.user.pk).role == Role.DA_MAKER


# -- DA4 --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_da4_grants_accounts_and_records_the_fee(roster, operator_client):
    response = operator_client.post("/backoffice/da4/", {"participant": "B01234", "accounts": "3"})
    assert response["Location"] == "/backoffice/processed/"
    roster.maker.participant.refresh_from_db()
    assert roster.maker.participant.max_users == 23
    record = EServiceRecord.objects.get(service="DA4")
    assert record.accounts_granted == 3 and record.fee_hkd == Decimal("750.00")
    event = AuditEvent.objects.get(kind=backoffice.BackofficeEvent.DA4_PROCESSED)
    assert event.participant == roster.maker.participant and event.data["fee_hkd"] == "750.00"
    assert "750.00" in operator_client.get("/backoffice/processed/").content.decode()


@pytest.mark.django_db
def test_da4_shows_in_the_listing_footer(roster, operator, logged_in_client):
    backoffice.grant_accounts(operator=operator[0], participant=roster.maker.participant, accounts=50)
    page = logged_in_client(roster.maker, roster.maker_app).get("/dms/listings/user-profiles/").content.decode()
    assert "MAX. NO. OF USERS</th><td>: 70<" in page


@pytest.mark.django_db
def test_operators_see_dms_records_read_only_in_the_admin(roster, operator_client, operator):
    from dms import services
    from dms.models import ChangeRequest

    from .test_services import change_payload

    cr = services.prepare_request(
        maker=roster.maker,
        kind=ChangeRequest.Kind.CHANGE,
        subject_user_id=roster.user.user_id,
        payload=change_payload(roster.user, surname="LEE"),
    )
    backoffice.grant_accounts(operator=operator[0], participant=roster.maker.participant, accounts=1)
    listing = operator_client.get("/admin/dms/changerequest/")
    assert listing.status_code == 200 and roster.user.user_id in listing.content.decode()
    assert operator_client.get("/admin/dms/eservicerecord/").status_code == 200
    assert operator_client.get("/admin/dms/changerequest/add/").status_code == 403
    detail = operator_client.get(f"/admin/dms/changerequest/{cr.pk}/change/")
    assert detail.status_code == 200 and "secret_hash" not in detail.content.decode()


def test_an_empty_eservice_post_gets_messages_next_to_the_fields(operator_client):
    response = operator_client.post("/backoffice/da4/", {})
    assert response.status_code == 400
    assert b"field-error" in response.content


# -- DA3 "Unlock DA Account" and SCard 1 (issue 17, items 2 and 3) ---------------------------------


@pytest.mark.django_db
def test_da3_needs_the_das_registered_email_and_changes_nothing_otherwise(roster, operator, mailoutbox):
    User.objects.filter(pk=roster.checker.pk).update(locked_at="2024-01-01T00:00:00Z")
    with pytest.raises(DmsRefusal) as refused:
        backoffice.act_on_da(
            operator=operator[0],
            participant=roster.checker.participant,
            user_id=roster.checker.user_id,
            action=Action.UNLOCK,
            email="other@abc-securities.example",
            submitter_email="cc@abc-securities.example",
        )
    assert refused.value.field == "email"
    assert User.objects.get(pk=roster.checker.pk).is_locked
    assert not EServiceRecord.objects.exists() and not mailoutbox


@pytest.mark.django_db(transaction=True)
def test_unlock_da_account_resets_the_registration_and_notifies_the_submitter(roster, operator, mailoutbox):
    User.objects.filter(pk=roster.checker.pk).update(locked_at="2024-01-01T00:00:00Z")
    record = backoffice.act_on_da(
        operator=operator[0],
        participant=roster.checker.participant,
        user_id=roster.checker.user_id,
        action=Action.UNLOCK,
        email=roster.checker.email.upper(),
        submitter_email="cc@abc-securities.example",
    )
    checker = User.objects.get(pk=roster.checker.pk)
    assert not checker.is_locked and not checker.has_twofa and not checker.has_usable_password()
    # The submitter's notice; the DA's own change notice is tests' test_a_da3_reset_tells_the_da_by_mail.
    [notice] = [m for m in mailoutbox if m.to == ["cc@abc-securities.example"]]
    assert record.reference in notice.subject
    assert "noreply_connect@" in notice.from_email and checker.user_id not in notice.body


@pytest.mark.django_db
def test_scard1_resets_a_das_smartcard_only_while_cards_log_on(roster, operator):
    User.objects.filter(pk=roster.checker.pk).update(srn="0101101200012AB2")
    kwargs = {"operator": operator[0], "participant": roster.checker.participant, "user_id": roster.checker.user_id}
    with override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=date(2000, 1, 1)), pytest.raises(DmsRefusal):
        backoffice.reset_da_smartcard_password(smartcard_password="13579135", **kwargs)
    with pytest.raises(DmsRefusal):  # a user's card is the DA's job in DMS
        backoffice.reset_da_smartcard_password(
            **{**kwargs, "user_id": roster.user.user_id}, smartcard_password="13579135"
        )
    record = backoffice.reset_da_smartcard_password(smartcard_password="13579135", **kwargs)
    assert record.service == "SCARD1" and record.reference.startswith("SCARD1_")
    assert User.objects.get(pk=roster.checker.pk).check_smartcard_password("13579135")
    event = AuditEvent.objects.get(kind=backoffice.BackofficeEvent.SCARD1_PROCESSED)
    assert "13579135" not in str(event.data)


@pytest.mark.django_db
def test_da3_assign_role_and_da4_answer_in_the_operators_language(roster, operator_client):
    """The assign-role and DA4 pages and their done messages are translated like every other
    eService's (issue 16 item 8): in Traditional Chinese, no English sentence is left."""
    operator_client.cookies["django_language"] = "zh-hant"
    assert "DA3 - 指派現有用戶為授權管理員" in operator_client.get("/backoffice/da3/assign-role/").content.decode()
    assert "DA4 - 增設用戶帳戶" in operator_client.get("/backoffice/da4/").content.decode()
    response = operator_client.post("/backoffice/da4/", {"participant": "B01234", "accounts": "3"}, follow=True)
    page = response.content.decode()
    assert "增設 3 個用戶帳戶；費用港幣 750.00 元" in page and "additional user account" not in page


def test_the_eservices_are_named_as_the_seeds_name_them():
    """The records' eService names (the operators' list and filter) are the circular's, verbatim
    (the circular names DA3 twice, with and without "Terminal"; the portal uses the first)."""
    names = dict(EServiceRecord.Service.choices)
    assert names["DA3"] == "DA3 - CCASS/ CCMS Terminal Delegated Administrator Application/ Maintenance Form"
    assert names["DA4"] == "DA4 - CCASS / CCMS User Account Application Form"
    assert names["SCARD1"] == "SCard 1 - Smartcard Maintenance for DA"
