"""Maker-checker (docs/dms.md): a DA maker prepares a change to a user profile,
a DA checker authorises it with their own current OTP as the Authorisation Code.

- `prepare_request` checks the rules and keeps a PENDING request; nothing changes yet.
- `authorise_request` locks the request row, then the participant row, checks the
  roles, firm and rules again, verifies the checker's code and applies the change:
  however many times it is called at once, a request is applied once.
- `reject_request` and `withdraw_request` close a request without a change.

Every step writes one audit row (docs/security.md, check 27) with IDs only, never a secret.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts import audit, factors, lockout, logon, policies, user_ids
from accounts import services as account_services
from accounts.models import Participant, Role, User
from ccass_portal import clock
from otp import services as otp_services

from . import profiles
from .models import ChangeRequest
from .profiles import set_profile_status, soft_delete_profile
from .rules import (
    ALREADY_PENDING,
    CHECKER_IS_SUBJECT,
    CHECKER_LOCKED,
    CHECKER_NO_2FA,
    MAKER_AS_CHECKER,
    MAKER_GONE,
    MAKER_ONLY,
    NOT_A_CHECKER,
    NOT_FOUND,
    NOT_PENDING,
    NOTHING_TO_CHANGE,
    REASON_REQUIRED,
    WRONG_CODE,
    DmsRefusal,
    check_request,
    profile_changes,
)
from .selectors import pending_request_for

Kind = ChangeRequest.Kind
Status = ChangeRequest.Status


# The kinds live in accounts.audit.Event; the old name stays for callers not yet moved.
DmsEvent = audit.Event


@contextmanager
def _auditing_refusals(request):
    try:
        yield
    except DmsRefusal as refusal:
        if refusal.audit_as is not None:
            audit.record(
                audit.Event.AUTHORISATION_REFUSED,
                request=request,
                actor_label=refusal.audit_as,
                subject=User.all_objects.filter(pk=refusal.cr.maker_id).first(),
                request_id=refusal.cr.pk,
                reason=refusal.message,
            )
        raise


# -- the maker ------------------------------------------------------------------------


def _require_maker(maker: User) -> None:
    if maker.role != Role.DA_MAKER or maker.participant_id is None or not logon.profile_active(maker):
        raise DmsRefusal(MAKER_ONLY)


def prepare_request(
    *,
    maker: User,
    kind: str,
    subject_user_id: str,
    payload: dict | None = None,
    smartcard_password: str = "",
    request=None,
) -> ChangeRequest:
    """Keep a PENDING request for a checker. `payload` holds the profile's after-values
    (as `profiles.snapshot` keeps them) and, for a change, the actions
    `unlock_reset` and `smartcard_password_reset`."""
    _require_maker(maker)
    if kind not in Kind.values:
        raise DmsRefusal(_("Unknown kind of request."))
    participant = maker.participant
    subject_user_id = user_ids.normalise_user_id(subject_user_id)
    subject = None
    if kind != Kind.CREATE:
        subject = User.objects.filter(participant=participant, user_id=subject_user_id).first()
        if subject is None:
            raise DmsRefusal(NOT_FOUND % {"user_id": subject_user_id}, field="user_id")
    payload = dict(payload or {})
    if kind == Kind.CHANGE:
        payload["smartcard_password_reset"] = bool(smartcard_password)
        payload["unlock_reset"] = bool(payload.get("unlock_reset"))
    cr = ChangeRequest(
        participant=participant,
        maker=maker,
        subject_user_id=subject_user_id,
        kind=kind,
        payload=payload if kind != Kind.DELETE else {},
        before=profiles.snapshot(subject) if subject is not None else {},
        secret_hash=make_password(smartcard_password) if smartcard_password else "",
    )
    if kind == Kind.CREATE:
        cr.payload["user_id"] = subject_user_id
    if kind == Kind.CHANGE and not profile_changes(cr.before, cr.payload):
        raise DmsRefusal(NOTHING_TO_CHANGE)
    with transaction.atomic():
        Participant.objects.select_for_update().get(pk=participant.pk)
        existing = pending_request_for(participant, subject_user_id)
        if existing is not None:
            raise DmsRefusal(ALREADY_PENDING % {"user_id": subject_user_id, "number": existing.pk}, field="user_id")
        check_request(cr, subject)
        cr.save()
        _record_step(
            audit.Event.REQUEST_PREPARED,
            cr,
            request=request,
            actor=maker,
            subject=subject,
            actor_label=maker.user_id,
            fields=profile_changes(cr.before, cr.payload) if kind != Kind.DELETE else [],
        )
    return cr


def withdraw_request(request_id: int, *, maker: User, request=None) -> ChangeRequest:
    with transaction.atomic():
        cr = _locked_request(request_id, maker.participant_id)
        if cr.maker_id != maker.pk:
            raise DmsRefusal(_("Only the maker of a request can withdraw it."))
        _close(cr, Status.WITHDRAWN, by=maker, event=audit.Event.REQUEST_WITHDRAWN, request=request)
    return cr


# -- the checker ----------------------------------------------------------------------


def pending_request(request_id: int, participant_id) -> ChangeRequest:
    """The firm's pending request, read without a lock (a decision re-reads it locked)."""
    cr = ChangeRequest.objects.filter(pk=request_id, participant_id=participant_id).first()
    if cr is None or not cr.is_pending:
        raise DmsRefusal(NOT_PENDING)
    return cr


def _locked_request(request_id: int, participant_id) -> ChangeRequest:
    cr = (
        ChangeRequest.objects.select_for_update()
        .select_related("participant")
        .filter(pk=request_id, participant_id=participant_id)
        .first()
    )
    if cr is None:
        raise DmsRefusal(_("There is no such request."))
    if not cr.is_pending:
        raise DmsRefusal(NOT_PENDING)
    return cr


def _refuse(cr: ChangeRequest, message: str, *, checker_label: str) -> DmsRefusal:
    return DmsRefusal(message, field="checker_id", audit_as=checker_label, cr=cr)


def _checker_for(cr: ChangeRequest, checker_id: str) -> User:
    """The DA checker who may decide `cr`, or a DmsRefusal (audited)."""
    checker_id = user_ids.normalise_user_id(checker_id)
    label = logon.typed_label(checker_id)
    checker = User.objects.filter(user_id=checker_id, participant_id=cr.participant_id).first()
    if checker is None:
        raise _refuse(cr, NOT_A_CHECKER, checker_label=label)
    if checker.pk == cr.maker_id:
        raise _refuse(cr, MAKER_AS_CHECKER, checker_label=label)
    if checker.user_id == cr.subject_user_id:
        raise _refuse(cr, CHECKER_IS_SUBJECT, checker_label=label)
    if checker.role != Role.DA_CHECKER or not logon.profile_active(checker):
        raise _refuse(cr, NOT_A_CHECKER, checker_label=label)
    if lockout.is_locked(checker):
        raise DmsRefusal(CHECKER_LOCKED, field="checker_id")
    return checker


def _maker_still_maker(cr: ChangeRequest) -> None:
    maker = User.objects.filter(pk=cr.maker_id).first()
    if maker is None or maker.participant_id != cr.participant_id or maker.role != Role.DA_MAKER:
        raise DmsRefusal(MAKER_GONE)


@dataclass(frozen=True)
class CodeCheck:
    """A checker's proof: `detail` goes into the audit rows, `wrong` is the refusal when not ok."""

    ok: bool
    replay: bool = False
    detail: dict | None = None
    wrong: str = WRONG_CODE


def _refuse_passkey_checker(checker: User) -> None:
    """A passkey holder decides from their own session by passkey, never by a typed code (issue 18)."""
    from .passkey_approval import USE_PASSKEY, approves_by_passkey

    if approves_by_passkey(checker):
        raise DmsRefusal(USE_PASSKEY, field="authorisation_code")


def _authorisation_factor(checker: User) -> factors.Factor:
    """The checker's chosen second factor, if it can give an Authorisation Code. The stored
    choice, not a confirmed device: a choice whose device is gone gives a wrong code (counted)."""
    _refuse_passkey_checker(checker)
    factor = factors.chosen_factor_of(checker)
    if factor is None or not factor.gives_authorisation_code:
        raise DmsRefusal(CHECKER_NO_2FA, field="checker_id")
    return factor


def _verify_code(checker: User, code: str) -> CodeCheck:
    check = _authorisation_factor(checker).check(checker, code, purpose=otp_services.Purpose.AUTHORISATION)
    return CodeCheck(ok=check.ok, replay=check.replay)


def request_authorisation_code(request_id: int, *, participant_id, checker_id: str, request=None):
    """The checker's e-mail Authorisation Code: an e-mail OTP of its own purpose, so it never
    blocks or replaces the checker's logon code (docs/security.md, "E-mail OTP per person and
    purpose"). Returns otp.services.EmailOtpRequest; may raise otp.services.DeliveryUnavailable."""
    cr = pending_request(request_id, participant_id)
    with _auditing_refusals(request):
        checker = _checker_for(cr, checker_id)
    factor = _authorisation_factor(checker)
    if not factor.sends_code:
        raise DmsRefusal(
            _("This checker uses the authenticator app: enter the code the app shows."), field="checker_id"
        )
    result = factor.challenge(checker, purpose=otp_services.Purpose.AUTHORISATION)
    if result.sent:
        audit.record(
            audit.Event.OTP_SENT,
            request=request,
            subject=checker,
            channel=factor.key,
            purpose="authorisation",
            request_id=cr.pk,
        )
    return result


def authorise_request(
    request_id: int, *, participant_id, checker_id: str, code: str = "", request=None, proof=None
) -> ChangeRequest:
    """ "Checker ID", "Authorisation Code", "Confirm". Applies the change once, or raises DmsRefusal.

    A wrong code counts towards the checker's lockout; that count is kept even
    though the request is refused. `proof(checker, cr) -> CodeCheck` replaces the
    typed code (a passkey ceremony bound to the request: dms.passkey_approval).
    """
    refusal = None
    with _auditing_refusals(request), transaction.atomic():
        cr = _locked_request(request_id, participant_id)
        Participant.objects.select_for_update().get(pk=cr.participant_id)
        checker = _checker_for(cr, checker_id)
        _maker_still_maker(cr)
        subject = (
            User.objects.select_for_update()
            .filter(participant_id=cr.participant_id, user_id=cr.subject_user_id)
            .first()
        )
        check_request(cr, subject)
        check = proof(checker, cr) if proof is not None else _verify_code(checker, code)
        if check.ok:
            subject = _apply(cr, subject, checker=checker, request=request)
            cr.status, cr.checker, cr.decided_at, cr.secret_hash = Status.APPROVED, checker, clock.now(), ""
            cr.save(update_fields=["status", "checker", "decided_at", "secret_hash"])
            _record_step(
                audit.Event.REQUEST_AUTHORISED,
                cr,
                request=request,
                actor=checker,
                subject=subject,
                maker=cr.maker_id,
                **(check.detail or {}),
            )
        else:
            locked = lockout.record_otp_failure(
                checker, request=request, replay=check.replay, request_id=cr.pk, **(check.detail or {})
            )
            where = "passkey" if proof is not None else "authorisation_code"
            refusal = DmsRefusal(CHECKER_LOCKED if locked else check.wrong, field=where)
    if refusal is not None:
        raise refusal
    return cr


def reject_request(request_id: int, *, checker: User, reason: str, request=None, proof=None) -> ChangeRequest:
    """A checker, in their own DMS session, rejects a request with a reason. A passkey checker
    rejects with a ceremony too: `proof(checker, cr) -> CodeCheck` (dms.passkey_approval), whose
    failure counts as a wrong code, kept though the rejection is refused."""
    reason = (reason or "").strip()
    if not reason:
        raise DmsRefusal(REASON_REQUIRED, field="reason")
    refusal = None
    with _auditing_refusals(request), transaction.atomic():
        cr = _locked_request(request_id, checker.participant_id)
        _checker_for(cr, checker.user_id)
        if proof is None:
            _refuse_passkey_checker(checker)
        check = proof(checker, cr) if proof is not None else CodeCheck(ok=True)
        if check.ok:
            cr.reason = reason[:200]
            _close(
                cr,
                Status.REJECTED,
                by=checker,
                event=audit.Event.REQUEST_REJECTED,
                request=request,
                **(check.detail or {}),
            )
        else:
            locked = lockout.record_otp_failure(checker, request=request, request_id=cr.pk, **(check.detail or {}))
            refusal = DmsRefusal(CHECKER_LOCKED if locked else check.wrong, field="passkey")
    if refusal is not None:
        raise refusal
    return cr


def _close(cr: ChangeRequest, status: str, *, by: User, event: str, request, **detail) -> None:
    cr.status, cr.decided_at, cr.secret_hash = status, clock.now(), ""
    if status == Status.REJECTED:
        cr.checker = by
    cr.save(update_fields=["status", "decided_at", "secret_hash", "checker", "reason"])
    subject = User.objects.filter(participant_id=cr.participant_id, user_id=cr.subject_user_id).first()
    _record_step(event, cr, request=request, actor=by, subject=subject, **detail)


def _record_step(event: str, cr: ChangeRequest, *, request, actor: User, subject: User | None, **details) -> None:
    """The audit row of one step of a request (prepared, authorised, rejected, withdrawn): the
    request, its kind and whose profile it concerns, in the step's transaction."""
    audit.record(
        event,
        request=request,
        actor=actor,
        subject=subject,
        request_id=cr.pk,
        request_kind=cr.kind,
        user_id=cr.subject_user_id,
        **details,
    )


# -- applying an authorised request ----------------------------------------------------


def _set_profile(user: User, payload: dict) -> None:
    for field in profiles.PROFILE_FIELDS:
        setattr(user, field, profiles.from_json(field, payload[field]))


def _apply(cr: ChangeRequest, subject: User | None, *, checker: User, request) -> User:
    if cr.kind == Kind.CREATE:
        user = User(user_id=cr.subject_user_id, participant_id=cr.participant_id, role=Role.USER)
        _set_profile(user, cr.payload)
        user.created_after_launch = policies.twofa_launched()
        user.set_unusable_password()
        user.save(force_insert=True)
        return user
    if cr.kind == Kind.DELETE:
        soft_delete_profile(subject)
        return subject
    old_email = subject.email
    status_fields = set_profile_status(subject, profiles.from_json("status", cr.payload["status"]))
    _set_profile(subject, cr.payload)
    fields = list(dict.fromkeys([*profiles.PROFILE_FIELDS, *status_fields]))
    if subject.email != old_email:
        otp_services.withdraw_email_otp(subject)  # a code sent to the old address no longer works
    if cr.secret_hash:
        subject.smartcard_password = cr.secret_hash
        fields.append("smartcard_password")
    subject.save(update_fields=fields)
    if cr.payload.get("unlock_reset"):
        account_services.reset_registration(subject, actor=checker, request=request)
        subject.refresh_from_db()
    return subject
