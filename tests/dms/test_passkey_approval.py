"""DMS checkers approve from their own desk with a passkey (issue 18; docs/dms.md, "Passkey
approval"; docs/security.md, "Passkey approval in DMS"). Real logons, real ceremonies: the
software authenticator signs what the server's options ask, as a browser's would."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import AuditEvent, OtpChannel, Role, User
from ccass_portal import clock
from dms import passkey_approval, profiles, services
from dms.models import ChangeRequest
from dms.rules import REASON_REQUIRED
from dms.services import DmsRefusal
from otp import passkeys
from otp.models import AuthenticatorDevice
from tests.passkey_authenticator import SoftAuthenticator, enrol_credential

# The demo (one command, SQLite) has passkeys on: these run in the embedded pass too.
pytestmark = pytest.mark.embedded

Kind = ChangeRequest.Kind
Status = ChangeRequest.Status
OPTIONS = re.compile(r'<script id="passkey-options" type="application/json">(.*?)</script>', re.S)


@pytest.fixture(autouse=True)
def passkeys_on(settings):
    settings.PORTAL_PASSKEYS = True


def prepare(roster, subject: User, **changes) -> ChangeRequest:
    payload = {field: value for field, value in profiles.snapshot(subject).items() if field in profiles.PROFILE_FIELDS}
    payload.update(changes)
    return services.prepare_request(
        maker=roster.maker, kind=Kind.CHANGE, subject_user_id=subject.user_id, payload=payload
    )


def begin(client: Client, cr: ChangeRequest, decision: str = "approve", reason: str = ""):
    response = client.post(f"/dms/requests/{cr.pk}/passkey/", {"action": decision, "reason": reason})
    found = OPTIONS.search(response.content.decode())
    return response, (json.loads(found.group(1)) if found else None)


def finish(client: Client, cr: ChangeRequest, credential) -> object:
    text = credential if isinstance(credential, str) else json.dumps(credential)
    return client.post(f"/dms/requests/{cr.pk}/passkey/", {"action": "finish", "credential": text})


def status_of(cr: ChangeRequest) -> str:
    return ChangeRequest.objects.get(pk=cr.pk).status


def otp_failures(user: User) -> int:
    return User.objects.get(pk=user.pk).otp_failures


@pytest.fixture
def desk(roster, logged_in_client):
    """The checker at their own desk: a DMS session of theirs, and their passkey."""
    client = logged_in_client(roster.checker, roster.checker_app)
    authenticator, _credential = enrol_credential(roster.checker, name="Desk key")
    return client, authenticator


# -- the checker's own desk ------------------------------------------------------------------


@pytest.mark.django_db
def test_checker_approves_from_their_own_session_with_a_passkey(roster, desk):
    client, authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    listing = client.get("/dms/requests/").content.decode()
    assert f'id="decide-{cr.pk}"' in listing and 'id="passkey-desk"' in listing
    # The request's own page points the passkey checker to the ceremony.
    assert f'href="/dms/requests/{cr.pk}/passkey/"' in client.get(f"/dms/requests/{cr.pk}/").content.decode()

    response, options = begin(client, cr)
    assert response.status_code == 200 and options["userVerification"] == "required"
    assert "LEE" in response.content.decode()  # the checker sees what they approve
    done = finish(client, cr, authenticator.assert_(options))

    assert done.status_code == 302 and done["Location"] == f"/dms/requests/{cr.pk}/"
    assert status_of(cr) == Status.APPROVED and User.objects.get(pk=roster.user.pk).surname == "LEE"
    event = AuditEvent.objects.get(kind="dms_request_authorised")
    assert event.actor_id == roster.checker.pk and event.data["factor"] == "passkey"
    assert WebAuthnCredential.objects.get(user=roster.checker).last_used_at is not None


@pytest.mark.django_db
def test_checker_rejects_with_a_passkey_and_the_reason_is_part_of_what_is_signed(roster, desk):
    client, authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    refused, options = begin(client, cr, "reject", reason="")
    assert refused.status_code == 400 and options is None and 'id="id_reason-error"' in refused.content.decode()
    assert str(REASON_REQUIRED) in refused.content.decode()  # the same words as the code checker's page
    # A reason longer than the field takes is refused beside the field, never cut short and signed.
    too_long, options = begin(client, cr, "reject", reason="x" * 201)
    assert too_long.status_code == 400 and options is None and 'id="id_reason-error"' in too_long.content.decode()

    _response, options = begin(client, cr, "reject", reason="Wrong person")
    done = finish(client, cr, authenticator.assert_(options))
    assert done.status_code == 302 and done["Location"] == "/dms/requests/"
    decided = ChangeRequest.objects.get(pk=cr.pk)
    assert decided.status == Status.REJECTED and decided.reason == "Wrong person"
    assert decided.checker_id == roster.checker.pk
    event = AuditEvent.objects.get(kind="dms_request_rejected")
    assert event.actor_id == roster.checker.pk and event.data["factor"] == "passkey"
    assert User.objects.get(pk=roster.user.pk).surname != "LEE"


# -- the challenge is bound to the request -------------------------------------------------------


@pytest.mark.django_db
def test_an_assertion_for_request_a_cannot_decide_request_b(roster, desk):
    client, authenticator = desk
    a = prepare(roster, roster.user, surname="LEE")
    b = prepare(roster, roster.checker2, email="x3-new@abc-securities.example")
    _response, options_a = begin(client, a)
    assertion_for_a = authenticator.assert_(options_a)
    begin(client, b)  # the attacker's page starts B and hands over A's assertion

    refused = finish(client, b, assertion_for_a)
    assert refused.status_code == 400 and 'id="passkey-error"' in refused.content.decode()
    assert status_of(a) == status_of(b) == Status.PENDING
    assert otp_failures(roster.checker) == 1  # a failed ceremony counts as a wrong code
    row = AuditEvent.objects.get(kind="otp_failure")
    assert row.data == {"factor": "passkey", "decision": "approve", "request_id": b.pk, "failure": "INVALID"}
    # A's ceremony was replaced by B's: A's assertion no longer decides A either.
    assert finish(client, a, assertion_for_a).status_code == 400 and status_of(a) == Status.PENDING


@pytest.mark.django_db
def test_another_checker_of_the_firm_cannot_spend_the_victims_assertion(roster, desk, logged_in_client):
    """checker2, a DA checker of the same firm with a passkey and a session of their own, gets hold
    of the victim's signed answer for request A (a shared screen, a relay) and posts it from their
    session: refused and counted against checker2, never the victim; the victim then approves A."""
    victims_client, victims_authenticator = desk
    attacker = logged_in_client(roster.checker2, roster.checker2_app)
    enrol_credential(roster.checker2, name="Attacker's key")
    cr = prepare(roster, roster.user, surname="LEE")
    _response, victims_options = begin(victims_client, cr)
    victims_assertion = victims_authenticator.assert_(victims_options)

    _response, attackers_options = begin(attacker, cr)
    assert attackers_options is not None  # checker2 may decide A: only their own passkey can
    refused = finish(attacker, cr, victims_assertion)
    assert refused.status_code == 400 and 'id="passkey-error"' in refused.content.decode()
    assert status_of(cr) == Status.PENDING and User.objects.get(pk=roster.user.pk).surname != "LEE"
    assert otp_failures(roster.checker2) == 1 and otp_failures(roster.checker) == 0

    done = finish(victims_client, cr, victims_assertion)
    assert done.status_code == 302 and status_of(cr) == Status.APPROVED
    assert ChangeRequest.objects.get(pk=cr.pk).checker_id == roster.checker.pk


@pytest.mark.django_db
def test_a_request_whose_content_changed_after_the_ceremony_began_is_not_approved(roster, desk):
    client, authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    _response, options = begin(client, cr)
    # Between the checker's look and their touch, the request is altered (e.g. by a forged write).
    ChangeRequest.objects.filter(pk=cr.pk).update(payload={**cr.payload, "email": "attacker@evil.example"})

    refused = finish(client, cr, authenticator.assert_(options))
    assert refused.status_code == 400 and status_of(cr) == Status.PENDING
    assert User.objects.get(pk=roster.user.pk).email != "attacker@evil.example"


@pytest.mark.django_db
def test_an_assertion_works_once(roster, desk):
    client, authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    _response, options = begin(client, cr, "reject", reason="Not asked for")
    assertion = authenticator.assert_(options)
    assert finish(client, cr, assertion).status_code == 302
    assert finish(client, cr, assertion).status_code == 400  # no ceremony left in the session


@pytest.mark.django_db
def test_a_ceremony_expires(roster, desk):
    client, authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    _response, options = begin(client, cr)
    later = clock.now() + timedelta(seconds=passkey_approval.ceremony_seconds() + 1)
    with time_machine.travel(later, tick=False):
        refused = finish(client, cr, authenticator.assert_(options))
    assert refused.status_code == 400 and str(passkey_approval.START_AGAIN) in refused.content.decode()
    assert status_of(cr) == Status.PENDING


# -- maker != checker, never about themselves, another firm ---------------------------------------


@pytest.mark.django_db
def test_a_checker_never_decides_a_request_about_themselves(roster, desk):
    client, _authenticator = desk
    cr = prepare(roster, roster.checker, email="x2-new@abc-securities.example")
    assert f'id="decide-{cr.pk}"' not in client.get("/dms/requests/").content.decode()
    refused, options = begin(client, cr)
    assert refused.status_code == 400 and options is None
    assert str(services.CHECKER_IS_SUBJECT) in refused.content.decode()
    assert AuditEvent.objects.filter(kind="dms_authorisation_refused", data__request_id=cr.pk).count() == 1
    assert status_of(cr) == Status.PENDING


@pytest.mark.django_db
def test_the_maker_never_decides_their_own_request(roster, logged_in_client):
    cr = prepare(roster, roster.user, surname="LEE")
    # The maker is made a checker (DA3 "Assign DA role") while their request waits.
    User.objects.filter(pk=roster.maker.pk).update(role=Role.DA_CHECKER)
    client = logged_in_client(User.objects.get(pk=roster.maker.pk), roster.maker_app)
    enrol_credential(roster.maker)
    assert f'id="decide-{cr.pk}"' not in client.get("/dms/requests/").content.decode()
    refused, options = begin(client, cr)
    assert refused.status_code == 400 and options is None
    assert str(services.MAKER_AS_CHECKER) in refused.content.decode()
    assert status_of(cr) == Status.PENDING


@pytest.mark.django_db
def test_a_maker_who_holds_a_passkey_is_offered_no_ceremony(roster, logged_in_client):
    """A maker in the same firm with a passkey of their own: the ceremony page sends them to the
    request, as for anyone who does not decide by passkey; no options, no decision."""
    cr = prepare(roster, roster.user, surname="LEE")
    maker = logged_in_client(roster.maker, roster.maker_app)
    enrol_credential(roster.maker)
    page = maker.get(f"/dms/requests/{cr.pk}/passkey/")
    assert page.status_code == 302 and page["Location"] == f"/dms/requests/{cr.pk}/"
    answer, options = begin(maker, cr)
    assert answer.status_code == 302 and options is None and status_of(cr) == Status.PENDING


@pytest.mark.django_db
def test_a_da_of_another_firm_neither_sees_nor_decides(roster, other_roster, logged_in_client):
    cr = prepare(roster, roster.user, surname="LEE")
    stranger = logged_in_client(other_roster.checker, other_roster.checker_app)
    authenticator, _credential = enrol_credential(other_roster.checker)
    assert f"#{cr.pk}<" not in stranger.get("/dms/requests/").content.decode()
    assert stranger.get(f"/dms/requests/{cr.pk}/passkey/").status_code == 404
    assert stranger.post(f"/dms/requests/{cr.pk}/passkey/", {"action": "approve"}).status_code == 404
    assert finish(stranger, cr, {"id": "x"}).status_code == 404
    assert status_of(cr) == Status.PENDING and not AuditEvent.objects.filter(kind="otp_failure").exists()


# -- a stolen session without the authenticator ---------------------------------------------------


@pytest.mark.django_db
def test_a_stolen_session_without_the_authenticator_cannot_approve(roster, desk, logged_in_client, other_roster):
    victim, _authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    thief = Client()
    thief.cookies = victim.cookies  # the session cookie, copied
    _response, options = begin(thief, cr)
    assert options is not None  # the session is enough to ask, never to approve

    forged = SoftAuthenticator(credential_id=_authenticator.credential_id).assert_(options)  # right id, other key
    assert finish(thief, cr, forged).status_code == 400
    # The thief's own passkey, on the thief's own account, is not the checker's.
    _response, options = begin(thief, cr)
    own, _row = enrol_credential(other_roster.checker)
    assert finish(thief, cr, own.assert_(options)).status_code == 400
    # Nothing at all, or garbage.
    for junk in ("", "{", json.dumps({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}})):
        begin(thief, cr)
        assert finish(thief, cr, junk).status_code == 400
    assert status_of(cr) == Status.PENDING and User.objects.get(pk=roster.user.pk).surname != "LEE"
    assert AuditEvent.objects.filter(kind="otp_failure", data__factor="passkey").count() == 5


@pytest.mark.django_db
def test_a_relay_page_on_another_origin_cannot_approve(roster, desk):
    client, authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    _response, options = begin(client, cr)
    relayed = authenticator.assert_(options, origin="https://ccass-login.example")
    refused = finish(client, cr, relayed)
    assert refused.status_code == 400 and status_of(cr) == Status.PENDING
    why = passkeys.PasskeyError(passkeys.PasskeyFailure.WRONG_ORIGIN).reason
    assert why in refused.content.decode()  # the refusal says why


# -- failures count as wrong Authorisation Codes ----------------------------------------------------


@pytest.mark.django_db
def test_three_failed_or_cancelled_ceremonies_are_one_failed_logon(roster, desk, settings):
    client, _authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    for _ in range(settings.PORTAL_OTP_FAILURES_PER_LOGON_FAILURE - 1):
        begin(client, cr)
        refused = client.post(f"/dms/requests/{cr.pk}/passkey/", {"action": "cancelled"})
        assert refused.status_code == 400
    begin(client, cr)
    assert finish(client, cr, enrol_credential(roster.maker)[0].assert_({"challenge": "AAAA"})).status_code == 400
    checker = User.objects.get(pk=roster.checker.pk)
    assert len(checker.logon_failures) == 1 and checker.otp_failures == 0
    assert AuditEvent.objects.filter(kind="otp_failure", data__factor="passkey").count() == 3
    # A post without a ceremony begun counts nothing (no free lockout of the checker by replays).
    client.post(f"/dms/requests/{cr.pk}/passkey/", {"action": "cancelled"})
    assert AuditEvent.objects.filter(kind="otp_failure").count() == 3


# -- the typed Authorisation Code ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_passkey_checker_cannot_type_an_authorisation_code(roster, desk, logged_in_client):
    client, _authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    maker = logged_in_client(roster.maker, roster.maker_app)
    for who in (client, maker):  # their own desk, or the maker's
        refused = who.post(
            f"/dms/requests/{cr.pk}/",
            {"action": "confirm", "checker_id": roster.checker.user_id, "authorisation_code": "123456"},
        )
        assert refused.status_code == 400 and 'id="id_authorisation_code-error"' in refused.content.decode()
        assert str(passkey_approval.USE_PASSKEY) in refused.content.decode()
    with pytest.raises(DmsRefusal, match="passkey"):
        services.request_authorisation_code(cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id)
    assert status_of(cr) == Status.PENDING and otp_failures(roster.checker) == 0


@pytest.mark.django_db
def test_a_passkey_checkers_session_cannot_reject_without_the_ceremony(roster, desk):
    """The seeds' reject form needs no code; for a passkey checker a rejection is a ceremony too,
    so a stolen session alone cannot clear the checker's queue."""
    client, _authenticator = desk
    cr = prepare(roster, roster.user, surname="LEE")
    refused = client.post(f"/dms/requests/{cr.pk}/", {"action": "reject", "reason": "No"})
    assert refused.status_code == 400 and str(passkey_approval.USE_PASSKEY) in refused.content.decode()
    assert status_of(cr) == Status.PENDING and not AuditEvent.objects.filter(kind="dms_request_rejected").exists()
    # An app checker still rejects with the seeds' form.
    services.reject_request(cr.pk, checker=roster.checker2, reason="Not asked for")
    assert status_of(cr) == Status.REJECTED


@pytest.mark.django_db
def test_a_da_of_another_firm_does_not_learn_that_our_checker_holds_a_passkey(roster, desk, other_roster):
    theirs = prepare(other_roster, other_roster.user, surname="LEE")
    for attempt in (
        lambda: services.authorise_request(
            theirs.pk, participant_id=theirs.participant_id, checker_id=roster.checker.user_id, code="123456"
        ),
        lambda: services.request_authorisation_code(
            theirs.pk, participant_id=theirs.participant_id, checker_id=roster.checker.user_id
        ),
    ):
        with pytest.raises(DmsRefusal) as refused:
            attempt()
        assert refused.value.message == services.NOT_A_CHECKER  # as for an unknown ID
    assert otp_failures(roster.checker) == 0


@pytest.mark.django_db
def test_app_and_email_checkers_still_type_their_code(roster, desk, django_capture_on_commit_callbacks):
    from django.core import mail

    first = prepare(roster, roster.user, surname="LEE")
    services.authorise_request(
        first.pk,
        participant_id=first.participant_id,
        checker_id=roster.checker2.user_id,
        code=roster.checker2_app.code(),
    )
    assert status_of(first) == Status.APPROVED

    User.objects.filter(pk=roster.checker2.pk).update(otp_channel=OtpChannel.EMAIL)
    AuthenticatorDevice.objects.filter(user=roster.checker2).delete()
    second = prepare(roster, User.objects.get(pk=roster.user.pk), surname="HO")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_authorisation_code(
            second.pk, participant_id=second.participant_id, checker_id=roster.checker2.user_id
        )
    code = mail.outbox[-1].body.rsplit(" ", 1)[1]
    services.authorise_request(
        second.pk, participant_id=second.participant_id, checker_id=roster.checker2.user_id, code=code
    )
    assert status_of(second) == Status.APPROVED


# -- the switch ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_switched_off_dms_is_the_seeds_dms(roster, desk, settings):
    settings.PORTAL_PASSKEYS = False
    client, authenticator = desk  # a passkey row exists, but passkeys are off
    cr = prepare(roster, roster.user, surname="LEE")
    listing = client.get("/dms/requests/").content.decode()
    assert 'id="passkey-desk"' not in listing and f'href="/dms/requests/{cr.pk}/"' in listing
    assert "/passkey/" not in client.get(f"/dms/requests/{cr.pk}/").content.decode()
    assert client.get(f"/dms/requests/{cr.pk}/passkey/")["Location"] == f"/dms/requests/{cr.pk}/"
    with pytest.raises(DmsRefusal):
        passkey_approval.begin(cr.pk, checker=roster.checker, decision="approve", request=None)
    # The typed code works again, for the same checker.
    services.authorise_request(
        cr.pk, participant_id=cr.participant_id, checker_id=roster.checker.user_id, code=roster.checker_app.code(1)
    )
    assert status_of(cr) == Status.APPROVED
