"""Maker-checker rules of DMS (SPEC.md "DMS", SECURITY.md 24, 27), at the service level."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from accounts import lockout, user_ids
from accounts.models import AuditEvent, OtpChannel, Role, User
from dms import profiles, rules, services
from dms.models import ChangeRequest
from dms.roster import roster_of
from dms.services import DmsEvent, DmsRefusal
from otp import services as otp_services
from otp.models import AuthenticatorDevice
from tests.factories import make_person, make_user

# The maker-checker rules also run in the SQLite (embedded, one-command demo) pass of `make test`.
pytestmark = pytest.mark.embedded

Kind = ChangeRequest.Kind
PAST = date(2023, 9, 4)  # decommissioning already happened
FUTURE = date(2099, 1, 1)  # decommissioning still to come


def change_payload(user: User, **changes) -> dict:
    payload = {field: value for field, value in profiles.snapshot(user).items() if field in profiles.PROFILE_FIELDS}
    payload.update(changes)
    return payload


def create_payload(**changes) -> dict:
    payload = {
        "internal_external": "EXTERNAL",
        "status": "ENABLED",
        "surname": "WONG",
        "other_names": "SIU MING",
        "email": "wong@abc-securities.example",
        "enable_from": None,
        "disable_after": None,
        "clearing_house_options": "Cash",
        "access_channel": "C3T",
        "user_groups": ["11", "A"],
        "transaction_limit": "1000000.00",
    }
    payload.update(changes)
    return payload


def prepare_change(roster, subject, **changes) -> ChangeRequest:
    return services.prepare_request(
        maker=roster.maker,
        kind=Kind.CHANGE,
        subject_user_id=subject.user_id,
        payload=change_payload(subject, **changes),
    )


def authorise(roster, cr, *, checker=None, app=None, code=None):
    checker = checker or roster.checker
    app = app or roster.checker_app
    return services.authorise_request(
        cr.pk, participant_id=cr.participant_id, checker_id=checker.user_id, code=code or app.code()
    )


def kinds(kind: str) -> int:
    return AuditEvent.objects.filter(kind=kind).count()


# -- preparing -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_prepare_keeps_a_pending_request_and_changes_nothing(roster):
    cr = prepare_change(roster, roster.user, email="new@abc-securities.example")
    assert cr.status == ChangeRequest.Status.PENDING
    assert cr.before["email"] == roster.user.email
    assert cr.payload["email"] == "new@abc-securities.example"
    roster.user.refresh_from_db()
    assert roster.user.email != "new@abc-securities.example"
    event = AuditEvent.objects.get(kind=DmsEvent.REQUEST_PREPARED)
    assert event.actor_id == roster.maker.pk and event.subject_id == roster.user.pk
    assert event.data["fields"] == ["email"] and event.participant_id == roster.maker.participant_id


@pytest.mark.django_db
def test_only_a_da_maker_prepares(roster):
    with pytest.raises(DmsRefusal, match="Only a DA maker"):
        services.prepare_request(
            maker=roster.checker,
            kind=Kind.CHANGE,
            subject_user_id=roster.user.user_id,
            payload=change_payload(roster.user, surname="LEE"),
        )
    assert not ChangeRequest.objects.exists()


@pytest.mark.django_db
def test_a_second_request_for_the_same_profile_is_refused(roster):
    first = prepare_change(roster, roster.user, surname="LEE")
    with pytest.raises(DmsRefusal, match=f"request #{first.pk}"):
        prepare_change(roster, roster.user, surname="HO")
    assert ChangeRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_change_that_changes_nothing_is_refused(roster):
    with pytest.raises(DmsRefusal, match="Nothing to change"):
        prepare_change(roster, roster.user)


@pytest.mark.django_db
def test_disable_after_before_enable_from_is_refused(roster):
    with pytest.raises(DmsRefusal) as refused:
        prepare_change(roster, roster.user, enable_from="2030-01-02", disable_after="2030-01-01")
    assert refused.value.field == "disable_after"


@pytest.mark.django_db
def test_another_firms_profile_cannot_be_named(roster, other_roster):
    with pytest.raises(DmsRefusal, match="no active user profile"):
        prepare_change(roster, other_roster.user, surname="LEE")


@pytest.mark.django_db
def test_unknown_user_groups_and_clearing_house_options_are_refused(roster):
    with pytest.raises(DmsRefusal) as refused:
        prepare_change(roster, roster.user, user_groups=["ZZZ"])
    assert refused.value.field == "user_groups"
    with pytest.raises(DmsRefusal) as refused:
        prepare_change(roster, roster.user, clearing_house_options="Derivatives")
    assert refused.value.field == "clearing_house_options"


# -- Generate User ID and the quota ---------------------------------------------------------


@pytest.mark.django_db
def test_generate_user_id_skips_ids_held_by_pending_creations(roster):
    first = rules.propose_user_id(roster.maker.participant)
    assert first == "B0123402"  # B0123401 is the roster's business user
    services.prepare_request(maker=roster.maker, kind=Kind.CREATE, subject_user_id=first, payload=create_payload())
    assert rules.propose_user_id(roster.maker.participant) == "B0123403"
    with pytest.raises(DmsRefusal, match="already awaiting authorisation"):
        services.prepare_request(maker=roster.maker, kind=Kind.CREATE, subject_user_id=first, payload=create_payload())


@pytest.mark.django_db
def test_no_spare_account_refuses_generate_and_create(roster):
    participant = roster.maker.participant
    participant.max_users = 5  # 4 profiles exist
    participant.save()
    user_id = rules.propose_user_id(participant)
    services.prepare_request(maker=roster.maker, kind=Kind.CREATE, subject_user_id=user_id, payload=create_payload())
    with pytest.raises(user_ids.QuotaExhausted, match="no spare user account"):
        rules.propose_user_id(participant)
    with pytest.raises(DmsRefusal, match="no spare user account") as refused:
        services.prepare_request(
            maker=roster.maker, kind=Kind.CREATE, subject_user_id="B0123409", payload=create_payload()
        )
    assert refused.value.field == "user_id"


@pytest.mark.django_db
def test_quota_is_checked_again_at_authorisation(roster):
    participant = roster.maker.participant
    participant.max_users = 5
    participant.save()
    cr = services.prepare_request(
        maker=roster.maker, kind=Kind.CREATE, subject_user_id="B0123405", payload=create_payload()
    )
    make_user(participant, "B0123406")  # the last account is used meanwhile (e.g. by HKEX)
    with pytest.raises(DmsRefusal, match="no spare user account"):
        authorise(roster, cr)
    assert not User.all_objects.filter(user_id="B0123405").exists()


@pytest.mark.django_db
def test_bad_or_foreign_user_ids_are_refused_for_creation(roster):
    for bad, why in [
        ("B05678AA", "start with B01234"),
        ("B01234X9", "reserved for Delegated"),
        ("B01234!!", "8 letters"),
    ]:
        with pytest.raises(DmsRefusal, match=why):
            services.prepare_request(
                maker=roster.maker, kind=Kind.CREATE, subject_user_id=bad, payload=create_payload()
            )


# -- authorising ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_authorised_makes_a_2fa_only_profile(roster):
    cr = services.prepare_request(
        maker=roster.maker, kind=Kind.CREATE, subject_user_id="B0123402", payload=create_payload()
    )
    authorise(roster, cr)
    user = User.objects.get(user_id="B0123402")
    assert (user.surname, user.email, user.user_groups) == ("WONG", "wong@abc-securities.example", ["11", "A"])
    assert user.transaction_limit == Decimal("1000000.00") and user.role == Role.USER
    assert user.created_after_launch and not user.has_usable_password()
    cr.refresh_from_db()
    assert cr.status == ChangeRequest.Status.APPROVED and cr.checker == roster.checker and cr.decided_at
    event = AuditEvent.objects.get(kind=DmsEvent.REQUEST_AUTHORISED)
    assert event.actor == roster.checker and event.subject == user and event.data["maker"] == roster.maker.pk


@pytest.mark.django_db
def test_change_authorised_applies_every_field(roster):
    cr = prepare_change(
        roster,
        roster.user,
        email="new@abc-securities.example",
        status="DISABLED",
        surname="LEE",
        enable_from="2024-01-01",
        disable_after="2030-12-31",
        access_channel="CJT",
        user_groups=["WG"],
        transaction_limit="5.50",
    )
    stamp = roster.user.security_stamp
    authorise(roster, cr)
    user = User.objects.get(pk=roster.user.pk)
    assert user.email == "new@abc-securities.example" and user.status == "DISABLED" and user.surname == "LEE"
    assert user.enable_from == date(2024, 1, 1) and user.disable_after == date(2030, 12, 31)
    assert user.access_channel == "CJT" and user.user_groups == ["WG"] and user.transaction_limit == Decimal("5.50")
    assert user.security_stamp != stamp  # disabling ends the person's sessions


@pytest.mark.django_db
def test_sec24_the_maker_cannot_check_their_own_request(roster):
    cr = prepare_change(roster, roster.user, surname="LEE")
    with pytest.raises(DmsRefusal, match="maker of a request cannot authorise"):
        authorise(roster, cr, checker=roster.maker, app=roster.maker_app)
    cr.refresh_from_db()
    assert cr.is_pending
    refusal = AuditEvent.objects.get(kind=DmsEvent.AUTHORISATION_REFUSED)
    assert refusal.actor_label == roster.maker.user_id and refusal.data["request_id"] == cr.pk


@pytest.mark.django_db
def test_sec24_a_checker_cannot_authorise_a_request_about_themselves(roster):
    cr = prepare_change(roster, roster.checker, email="mine@abc-securities.example")
    with pytest.raises(DmsRefusal, match="concerns themselves"):
        authorise(roster, cr)
    # the other checker may
    authorise(roster, cr, checker=roster.checker2, app=roster.checker2_app)
    assert User.objects.get(pk=roster.checker.pk).email == "mine@abc-securities.example"


@pytest.mark.django_db
def test_sec24_checkers_of_another_firm_unknown_ids_and_business_users_are_refused(roster, other_roster):
    cr = prepare_change(roster, roster.user, surname="LEE")
    business_user = make_user(roster.maker.participant, "B0123402")
    for checker in (other_roster.checker, business_user):
        with pytest.raises(DmsRefusal, match="not an enabled DA checker"):
            services.authorise_request(
                cr.pk, participant_id=cr.participant_id, checker_id=checker.user_id, code="123456"
            )
    with pytest.raises(DmsRefusal, match="not an enabled DA checker"):
        services.authorise_request(cr.pk, participant_id=cr.participant_id, checker_id="B01234Z9", code="123456")
    # another firm's DA cannot even reach the request
    with pytest.raises(DmsRefusal, match="no such request"):
        services.authorise_request(
            cr.pk,
            participant_id=other_roster.maker.participant_id,
            checker_id=other_roster.checker.user_id,
            code=other_roster.checker_app.code(),
        )
    assert ChangeRequest.objects.get(pk=cr.pk).is_pending
    assert User.objects.get(pk=roster.user.pk).surname == "CHAN"


@pytest.mark.django_db
def test_a_wrong_code_counts_towards_the_checkers_lockout(roster, settings):
    cr = prepare_change(roster, roster.user, surname="LEE")
    wrong = "000000" if roster.checker_app.code() != "000000" else "111111"
    for _ in range(settings.PORTAL_OTP_FAILURES_PER_LOGON_FAILURE):
        with pytest.raises(DmsRefusal, match="Authorisation Code is incorrect") as refused:
            authorise(roster, cr, code=wrong)
        assert refused.value.field == "authorisation_code"
    checker = User.objects.get(pk=roster.checker.pk)
    assert len(checker.logon_failures) == 1  # 3 wrong OTPs = 1 unsuccessful logon
    assert kinds("otp_failure") == 3
    assert ChangeRequest.objects.get(pk=cr.pk).is_pending


@pytest.mark.django_db
def test_sec05_wrong_codes_lock_the_checker_and_a_locked_checker_is_refused(roster, settings):
    cr = prepare_change(roster, roster.user, surname="LEE")
    wrong = "000000" if roster.checker_app.code() != "000000" else "111111"
    attempts = settings.PORTAL_LOCKOUT_FAILURES * settings.PORTAL_OTP_FAILURES_PER_LOGON_FAILURE
    for _attempt in range(attempts):
        with pytest.raises(DmsRefusal) as refused:
            authorise(roster, cr, code=wrong)
    assert refused.value.message == services.CHECKER_LOCKED
    assert lockout.is_locked(roster.checker)
    with pytest.raises(DmsRefusal, match="locked"):
        authorise(roster, cr)  # even the right code
    assert ChangeRequest.objects.get(pk=cr.pk).is_pending


@pytest.mark.django_db
def test_a_used_code_is_not_accepted_twice(roster):
    code = roster.checker_app.code()
    first = prepare_change(roster, roster.user, surname="LEE")
    authorise(roster, first, code=code)
    second = prepare_change(roster, roster.checker2, email="x2@abc-securities.example")
    with pytest.raises(DmsRefusal, match="incorrect"):
        authorise(roster, second, code=code)
    assert kinds("otp_replay") == 1


@pytest.mark.django_db
def test_sec24_roles_are_checked_again_at_authorisation(roster):
    cr = prepare_change(roster, roster.user, surname="LEE")
    User.objects.filter(pk=roster.checker.pk).update(role=Role.USER)
    with pytest.raises(DmsRefusal, match="not an enabled DA checker"):
        authorise(roster, cr)
    User.objects.filter(pk=roster.maker.pk).update(role=Role.USER)
    with pytest.raises(DmsRefusal, match="no longer a DA maker"):
        authorise(roster, cr, checker=roster.checker2, app=roster.checker2_app)
    assert User.objects.get(pk=roster.user.pk).surname == "CHAN"


@pytest.mark.django_db
def test_a_disabled_checker_is_refused(roster):
    cr = prepare_change(roster, roster.user, surname="LEE")
    User.objects.filter(pk=roster.checker.pk).update(status=User.Status.DISABLED)
    with pytest.raises(DmsRefusal, match="not an enabled DA checker"):
        authorise(roster, cr)


@pytest.mark.django_db
def test_a_stale_request_is_refused(roster):
    cr = prepare_change(roster, roster.user, surname="LEE")
    User.objects.filter(pk=roster.user.pk).update(email="changed@abc-securities.example")
    with pytest.raises(DmsRefusal, match="has changed since"):
        authorise(roster, cr)
    assert User.objects.get(pk=roster.user.pk).surname == "CHAN"


@pytest.mark.django_db
def test_a_decided_request_cannot_be_authorised_again(roster):
    cr = prepare_change(roster, roster.user, surname="LEE")
    authorise(roster, cr)
    with pytest.raises(DmsRefusal, match="already been authorised"):
        authorise(roster, cr, checker=roster.checker2, app=roster.checker2_app)
    assert kinds(DmsEvent.REQUEST_AUTHORISED) == 1


# -- reject and withdraw ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_checker_rejects_with_a_reason(roster):
    cr = prepare_change(roster, roster.user, surname="LEE")
    with pytest.raises(DmsRefusal, match="reason"):
        services.reject_request(cr.pk, checker=roster.checker, reason="  ")
    with pytest.raises(DmsRefusal, match="maker of a request"):
        services.reject_request(cr.pk, checker=roster.maker, reason="no")
    services.reject_request(cr.pk, checker=roster.checker, reason="Wrong surname")
    cr.refresh_from_db()
    assert (cr.status, cr.checker, cr.reason) == (ChangeRequest.Status.REJECTED, roster.checker, "Wrong surname")
    assert kinds(DmsEvent.REQUEST_REJECTED) == 1
    assert User.objects.get(pk=roster.user.pk).surname == "CHAN"
    with pytest.raises(DmsRefusal, match="already been authorised, rejected"):
        authorise(roster, cr)


@pytest.mark.django_db
def test_only_the_maker_withdraws(roster):
    other_maker, _ = make_person(roster.maker.participant, "B01234X4", role=Role.DA_MAKER)
    cr = prepare_change(roster, roster.user, surname="LEE")
    with pytest.raises(DmsRefusal, match="Only the maker"):
        services.withdraw_request(cr.pk, maker=other_maker)
    services.withdraw_request(cr.pk, maker=roster.maker)
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeRequest.Status.WITHDRAWN
    assert kinds(DmsEvent.REQUEST_WITHDRAWN) == 1
    with pytest.raises(DmsRefusal, match="already been"):
        authorise(roster, cr)


# -- the roster rule ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_roster_warning_while_below_the_rule(roster):
    assert roster_of(roster.maker.participant).compliant
    User.objects.filter(pk=roster.checker2.pk).update(status=User.Status.DISABLED)
    roster_now = roster_of(roster.maker.participant)
    assert not roster_now.compliant and "two DA checkers" in roster_now.warning


@pytest.mark.django_db
def test_disabling_or_deleting_a_needed_da_is_refused(roster):
    with pytest.raises(DmsRefusal, match="fewer than one DA maker and two DA checkers") as refused:
        prepare_change(roster, roster.checker, status="DISABLED")
    assert refused.value.field == "status"
    with pytest.raises(DmsRefusal, match="fewer than one DA maker"):
        services.prepare_request(maker=roster.maker, kind=Kind.DELETE, subject_user_id=roster.maker.user_id)
    assert not ChangeRequest.objects.exists()


@pytest.mark.django_db
def test_the_roster_is_checked_again_at_authorisation(roster):
    third, _ = make_person(roster.maker.participant, "B01234X4", role=Role.DA_CHECKER)
    # Two requests, each fine alone, together would leave one checker.
    first = prepare_change(roster, roster.checker2, status="DISABLED")
    second = services.prepare_request(maker=roster.maker, kind=Kind.DELETE, subject_user_id=third.user_id)
    authorise(roster, first)
    with pytest.raises(DmsRefusal, match="fewer than one DA maker and two DA checkers"):
        authorise(roster, second)
    assert User.objects.filter(pk=third.pk).exists()


# -- delete, unlock/reset, smartcard -------------------------------------------------------------


@pytest.mark.django_db
def test_delete_is_soft_and_the_id_is_never_reissued(roster):
    subject = make_user(roster.maker.participant, "B0123402")
    cr = services.prepare_request(maker=roster.maker, kind=Kind.DELETE, subject_user_id=subject.user_id)
    assert cr.payload == {} and cr.before["user_id"] == "B0123402"
    authorise(roster, cr)
    assert not User.objects.filter(user_id="B0123402").exists()
    deleted = User.all_objects.get(user_id="B0123402")
    assert deleted.deleted_at is not None and not deleted.is_active
    assert rules.propose_user_id(roster.maker.participant) == "B0123403"


@pytest.mark.django_db
def test_unlock_reset_makes_the_next_logon_a_first_time_logon(roster):
    user = roster.user
    User.objects.filter(pk=user.pk).update(locked_at="2024-01-01T00:00:00Z")
    user.refresh_from_db()
    cr = prepare_change(roster, user, unlock_reset=True)
    authorise(roster, cr)
    user.refresh_from_db()
    assert not user.is_locked and not user.has_usable_password()
    assert user.otp_channel == OtpChannel.NONE and user.twofa_set_up_at is None
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert kinds("registration_reset") == 1 and kinds("account_unlocked") == 1


def _change_notices(to: str) -> list:
    return [m for m in mail.outbox if to in m.to and "One Time Password" not in m.body]


@pytest.mark.django_db
def test_unlock_reset_tells_the_person_by_mail_not_the_das(roster, django_capture_on_commit_callbacks):
    """Like every change of authentication settings (docs/security.md, "Step-up and change
    notices"): the person learns of a reset made by DAs, so a malicious maker and checker pair
    cannot reset it unseen. The mail goes to the person only, on commit, no link, no User ID."""
    user = roster.user
    cr = prepare_change(roster, user, unlock_reset=True)
    with django_capture_on_commit_callbacks(execute=True):
        authorise(roster, cr)
    [notice] = _change_notices(user.email)
    assert notice.to == [user.email]
    assert "reset" in notice.body and "重設" in notice.body
    assert user.user_id not in notice.body + notice.subject and "http" not in notice.body
    assert not _change_notices(roster.maker.email) and not _change_notices(roster.checker.email)


@pytest.mark.django_db
def test_a_change_without_unlock_reset_sends_no_reset_notice(roster, django_capture_on_commit_callbacks):
    cr = prepare_change(roster, roster.user, surname="ZHANG")
    with django_capture_on_commit_callbacks(execute=True):
        authorise(roster, cr)
    assert not _change_notices(roster.user.email)


@pytest.mark.django_db
def test_a_das_registration_is_reset_by_hkex_not_in_dms(roster):
    with pytest.raises(DmsRefusal, match="reset by HKEX") as refused:
        prepare_change(roster, roster.checker, unlock_reset=True)
    assert refused.value.field == "unlock_reset"


@pytest.mark.django_db
@override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=FUTURE)
def test_sec27_smartcard_password_reset_keeps_no_secret_in_the_request_or_audit(roster):
    user = make_user(roster.maker.participant, "B0123402", srn="0101101200012AB2")
    cr = services.prepare_request(
        maker=roster.maker,
        kind=Kind.CHANGE,
        subject_user_id=user.user_id,
        payload=change_payload(user),
        smartcard_password="24681357",
    )
    assert cr.payload["smartcard_password_reset"] is True
    assert "24681357" not in str(cr.payload) and cr.secret_hash
    authorise(roster, cr)
    user.refresh_from_db()
    assert user.check_smartcard_password("24681357")
    assert ChangeRequest.objects.get(pk=cr.pk).secret_hash == ""
    assert not any("24681357" in str(event.data) for event in AuditEvent.objects.all())


@pytest.mark.django_db
@override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=PAST)
def test_no_smartcard_reset_after_decommissioning(roster):
    user = make_user(roster.maker.participant, "B0123402", srn="0101101200012AB2")
    with pytest.raises(DmsRefusal, match="no smartcard"):
        services.prepare_request(
            maker=roster.maker,
            kind=Kind.CHANGE,
            subject_user_id=user.user_id,
            payload=change_payload(user),
            smartcard_password="24681357",
        )


@pytest.mark.django_db
@override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=FUTURE)
def test_a_das_smartcard_password_is_not_reset_in_dms(roster):
    """HKEX resets it through eService SCard 1 (§4.1.2; issue 17.3)."""
    User.objects.filter(pk=roster.checker2.pk).update(srn="0101101200012AB2")
    roster.checker2.refresh_from_db()
    assert not rules.smartcard_reset_offered(roster.checker2)
    with pytest.raises(DmsRefusal, match="eService SCard 1") as refused:
        services.prepare_request(
            maker=roster.maker,
            kind=Kind.CHANGE,
            subject_user_id=roster.checker2.user_id,
            payload=change_payload(roster.checker2),
            smartcard_password="24681357",
        )
    assert refused.value.field == "smartcard_password" and not ChangeRequest.objects.exists()


@pytest.mark.django_db
def test_email_is_mandatory_on_change(roster):
    """§3.1, on Change as on Create (issue 17.5), checked by the service as well as the form."""
    with pytest.raises(DmsRefusal) as refused:
        prepare_change(roster, roster.user, email="")
    assert refused.value.field == "email" and not ChangeRequest.objects.exists()


# -- DAs with business user groups (§5.1) -----------------------------------------------------------


@pytest.mark.django_db
@override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=FUTURE)
def test_before_decommissioning_a_da_gets_no_business_user_groups(roster):
    with pytest.raises(DmsRefusal, match="only after the decommissioning") as refused:
        prepare_change(roster, roster.checker, user_groups=["11"])
    assert refused.value.field == "user_groups"


@pytest.mark.django_db
@override_settings(PORTAL_SMARTCARD_DECOMMISSION_DATE=PAST)
def test_after_decommissioning_a_da_gets_business_user_groups_through_maker_checker(roster):
    cr = prepare_change(roster, roster.checker, user_groups=["11", "A"])
    with pytest.raises(DmsRefusal, match="concerns themselves"):
        authorise(roster, cr)
    authorise(roster, cr, checker=roster.checker2, app=roster.checker2_app)
    assert User.objects.get(pk=roster.checker.pk).user_groups == ["11", "A"]


# -- the e-mail Authorisation Code ----------------------------------------------------------------


@pytest.mark.django_db
def test_an_email_checker_authorises_with_a_code_of_its_own_purpose(roster, django_capture_on_commit_callbacks):
    User.objects.filter(pk=roster.checker.pk).update(otp_channel=OtpChannel.EMAIL)
    AuthenticatorDevice.objects.filter(user=roster.checker).delete()
    cr = prepare_change(roster, roster.user, surname="LEE")
    with django_capture_on_commit_callbacks(execute=True):
        result = services.request_authorisation_code(
            cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id
        )
    assert result.sent
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [roster.checker.email]
    code = mail.outbox[0].body.rsplit(" ", 1)[1]
    assert len(code) == 8 and roster.checker.user_id not in mail.outbox[0].body
    # The checker's logon code is another purpose: it is no Authorisation Code.
    with django_capture_on_commit_callbacks(execute=True):
        assert otp_services.request_email_otp(roster.checker, purpose=otp_services.Purpose.SIGN_IN).sent
    logon_code = mail.outbox[-1].body.rsplit(" ", 1)[1]
    with pytest.raises(DmsRefusal, match="incorrect"):
        services.authorise_request(
            cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id, code=logon_code
        )
    services.authorise_request(cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id, code=code)
    assert User.objects.get(pk=roster.user.pk).surname == "LEE"
    assert AuditEvent.objects.filter(kind="otp_sent", data__purpose="authorisation").count() == 1


@pytest.mark.django_db
def test_no_email_code_is_sent_to_the_maker_or_an_app_checker(roster):
    cr = prepare_change(roster, roster.user, surname="LEE")
    with pytest.raises(DmsRefusal, match="maker of a request"):
        services.request_authorisation_code(cr.pk, participant_id=cr.participant_id, checker_id=roster.maker.user_id)
    with pytest.raises(DmsRefusal, match="authenticator app"):
        services.request_authorisation_code(cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id)
    assert len(mail.outbox) == 0


@pytest.mark.django_db
def test_disable_after_is_enforced_at_logon(roster, client):
    from ccass_portal import clock

    yesterday = clock.today() - timedelta(days=1)
    cr = prepare_change(
        roster,
        roster.user,
        enable_from=(yesterday - timedelta(days=9)).isoformat(),
        disable_after=yesterday.isoformat(),
    )
    authorise(roster, cr)
    from tests.factories import GOOD_PASSWORD

    response = client.post("/login/", {"user_id": roster.user.user_id, "password": GOOD_PASSWORD})
    assert response.status_code == 200 and "Unsuccessful logon" in response.content.decode()


def test_compare_marks_only_what_changes():
    before = {"user_id": "B0123401", "role": "USER", "email": "a@x.example", "surname": "CHAN"}
    after = {"email": "b@x.example", "surname": "CHAN", "unlock_reset": True}
    changed = {label: (old, new) for label, old, new, flag in profiles.compare(before, after) if flag}
    assert changed == {"Email": ("a@x.example", "b@x.example"), "Unlock/Reset OTP Device Registration": ("", "Yes")}
    assert ("Role", "Business user", "Business user", False) in profiles.compare(before, after)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"email": None, "status": "GONE"}, "not a valid choice"),
        ({"transaction_limit": "abc"}, "not valid"),
        ({"transaction_limit": "-5"}, "out of range"),
        ({"enable_from": "31/12/24"}, "not valid"),
        ({"surname": " "}, "surname"),
    ],
)
def test_the_services_check_the_payloads_shape_too(roster, changes, message):
    with pytest.raises(DmsRefusal, match=message):
        prepare_change(roster, roster.user, **changes)
    incomplete = change_payload(roster.user, surname="LEE")
    del incomplete["email"]
    with pytest.raises(DmsRefusal, match="incomplete: email"):
        services.prepare_request(
            maker=roster.maker, kind=Kind.CHANGE, subject_user_id=roster.user.user_id, payload=incomplete
        )
    with pytest.raises(DmsRefusal, match="Unknown kind"):
        services.prepare_request(maker=roster.maker, kind="MERGE", subject_user_id=roster.user.user_id)
    assert not ChangeRequest.objects.exists()
