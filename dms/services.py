"""Maker-checker (SPEC.md "DMS"): a DA maker prepares a change to a user profile,
a DA checker authorises it with their own current OTP as the Authorisation Code.

- `prepare_request` checks the rules and keeps a PENDING request; nothing changes yet.
- `authorise_request` locks the request row, then the participant row, checks the
  roles, firm and rules again, verifies the checker's code and applies the change:
  however many times it is called at once, a request is applied once.
- `reject_request` and `withdraw_request` close a request without a change.

Every step writes one audit row (SECURITY.md 27) with IDs only, never a secret.
"""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts import audit, factors, lockout, logon, policies, user_ids
from accounts import services as account_services
from accounts.models import DATES_OUT_OF_ORDER, Participant, Role, User, dates_in_order
from ccass_portal import clock
from otp import services as otp_services

from . import profiles
from .models import ChangeRequest
from .roster import RosterBreach, check_roster

Kind = ChangeRequest.Kind
Status = ChangeRequest.Status


# The kinds live in accounts.audit.Event; the old name stays for callers not yet moved.
DmsEvent = audit.Event


class DmsRefusal(Exception):
    """A rule refused the action. `field` names the form field the message belongs next to.

    A refusal of a checker (`audit_as` set to the Checker ID as typed) is written to the
    audit trail after the transaction has rolled back, by `_auditing_refusals`.
    """

    def __init__(self, message: str, *, field: str | None = None, audit_as: str | None = None, cr=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.audit_as = audit_as
        self.cr = cr


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


MAKER_ONLY = _("Only a DA maker can prepare a change.")
CHECKER_ONLY = _("Only a DA checker can authorise or reject a request.")
NOT_A_CHECKER = _("This Checker ID is not an enabled DA checker of this participant.")
MAKER_AS_CHECKER = _("The maker of a request cannot authorise it: another DA checker must.")
CHECKER_IS_SUBJECT = _("A checker cannot authorise a request that concerns themselves: another DA checker must.")
CHECKER_LOCKED = _("The checker's account is locked. HKEX must unlock it (eService DA3).")
CHECKER_NO_2FA = _("The checker has not set up 2FA yet, so has no Authorisation Code.")
WRONG_CODE = _("The Authorisation Code is incorrect.")
NOT_PENDING = _("This request has already been authorised, rejected or withdrawn.")
STALE = _("The user profile has changed since this request was prepared. Please prepare the change again.")
MAKER_GONE = _("The maker of this request is no longer a DA maker of this participant.")
ALREADY_PENDING = _("A request for %(user_id)s is already awaiting authorisation (request #%(number)s).")
NOTHING_TO_CHANGE = _("Nothing to change: the profile already has these values.")
NOT_FOUND = _("There is no active user profile %(user_id)s in this participant.")
DA_GROUPS_BEFORE_DECOMMISSIONING = _(
    "A Delegated Administrator can be given business user groups only after the decommissioning of smartcards."
)
DA_RESET_BY_HKEX = _("A Delegated Administrator's lock and OTP registration are reset by HKEX (eService DA3).")
NO_SMARTCARD = _("This profile has no smartcard to reset, or smartcards have been decommissioned.")
DA_SMARTCARD_BY_HKEX = _("A Delegated Administrator's smartcard password is reset by HKEX (eService SCard 1).")
EMAIL_REQUIRED = _("Enter the e-mail address: it is mandatory, for the password set-up and OTPs.")
REASON_REQUIRED = _("Please give the reason for the rejection.")


# -- reading --------------------------------------------------------------------------


def pending_request_for(participant: Participant, user_id: str, *, exclude: int | None = None) -> ChangeRequest | None:
    qs = ChangeRequest.objects.filter(participant=participant, subject_user_id=user_id, status=Status.PENDING)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.first()


def _pending_create_ids(participant: Participant) -> set[str]:
    qs = ChangeRequest.objects.filter(participant=participant, kind=Kind.CREATE, status=Status.PENDING)
    return set(qs.values_list("subject_user_id", flat=True))


def _check_quota(participant: Participant, *, reserved: int) -> None:
    if participant.spare_accounts() - reserved <= 0:
        raise user_ids.quota_exhausted(participant, pending=reserved)


def propose_user_id(participant: Participant) -> str:
    """ "Generate User ID": the next never-issued ID that no pending request holds.

    Raises QuotaExhausted when no spare account is left (counting pending creations).
    """
    reserved = _pending_create_ids(participant)
    _check_quota(participant, reserved=len(reserved))
    return user_ids.next_free_user_id(participant, reserved=frozenset(reserved))


# -- the rules --------------------------------------------------------------------------


def _profile_changes(before: dict, payload: dict) -> list[str]:
    changed = [field for field in profiles.PROFILE_FIELDS if before.get(field) != payload.get(field)]
    if payload.get("unlock_reset"):
        changed.append("unlock_reset")
    if payload.get("smartcard_password_reset"):
        changed.append("smartcard_password_reset")
    return changed


def _check_shape(payload: dict) -> None:
    """What the forms already ensure, checked again for any other caller of the services."""
    missing = [field for field in profiles.PROFILE_FIELDS if field not in payload]
    if missing:
        raise DmsRefusal(_("The profile is incomplete: %(fields)s.") % {"fields": ", ".join(missing)})
    choices = {
        "status": User.Status.values,
        "internal_external": User.InternalExternal.values,
        "access_channel": profiles.ACCESS_CHANNELS,
    }
    for field, allowed in choices.items():
        if payload[field] not in allowed:
            raise DmsRefusal(_("%(field)s: not a valid choice.") % {"field": profiles.LABELS[field]}, field=field)
    if not str(payload["surname"] or "").strip():
        raise DmsRefusal(_("Enter the surname."), field="surname")
    if not str(payload.get("email") or "").strip():  # mandatory on Change as on Create (§3.1)
        raise DmsRefusal(EMAIL_REQUIRED, field="email")
    try:
        for field in ("enable_from", "disable_after", "transaction_limit"):
            profiles.from_json(field, payload[field])
        limit = profiles.from_json("transaction_limit", payload["transaction_limit"])
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise DmsRefusal(_("A date or the transaction limit is not valid.")) from exc
    if not Decimal("0") <= limit <= profiles.MAX_TRANSACTION_LIMIT:
        raise DmsRefusal(_("The transaction limit is out of range."), field="transaction_limit")


def _check_payload(participant: Participant, payload: dict, *, role: str) -> None:
    _check_shape(payload)
    if not dates_in_order(payload.get("enable_from"), payload.get("disable_after")):
        raise DmsRefusal(DATES_OUT_OF_ORDER, field="disable_after")
    if payload.get("clearing_house_options") not in profiles.clearing_house_options(participant):
        raise DmsRefusal(_("Choose one of the Clearing House Options offered."), field="clearing_house_options")
    if not set(payload.get("user_groups", ())) <= set(profiles.USER_GROUPS):
        raise DmsRefusal(_("Unknown user group."), field="user_groups")
    if role != Role.USER and payload.get("user_groups") and policies.smartcard_available():
        raise DmsRefusal(DA_GROUPS_BEFORE_DECOMMISSIONING, field="user_groups")


def _check_rules(cr: ChangeRequest, subject: User | None) -> None:
    """The rules of one request, at preparation and again at authorisation."""
    participant = cr.participant
    if cr.kind == Kind.CREATE:
        try:
            user_ids.validate_user_id(cr.subject_user_id, participant=participant, delegated_administrator=False)
        except ValidationError as exc:
            raise DmsRefusal(" ".join(exc.messages), field="user_id") from exc
        if User.all_objects.filter(user_id=cr.subject_user_id).exists():
            raise DmsRefusal(
                _("User ID %(user_id)s has already been issued. Press Generate User ID.")
                % {"user_id": cr.subject_user_id},
                field="user_id",
            )
        # At preparation pending creations hold accounts too; at authorisation only real profiles count.
        reserved = 0 if cr.pk else len(_pending_create_ids(participant))
        try:
            _check_quota(participant, reserved=reserved)
        except user_ids.QuotaExhausted as exc:
            raise DmsRefusal(str(exc), field="user_id") from exc
        _check_payload(participant, cr.payload, role=Role.USER)
        return
    if subject is None:
        raise DmsRefusal(NOT_FOUND % {"user_id": cr.subject_user_id})
    if profiles.snapshot(subject) != cr.before:
        raise DmsRefusal(STALE)
    try:
        if cr.kind == Kind.DELETE:
            check_roster(subject, deleted=True)
        else:
            check_roster(subject, enabled=cr.payload["status"] == User.Status.ENABLED)
    except RosterBreach as exc:
        raise DmsRefusal(str(exc), field="status" if cr.kind == Kind.CHANGE else None) from exc
    if cr.kind == Kind.DELETE:
        return
    _check_payload(participant, cr.payload, role=subject.role)
    if cr.payload.get("unlock_reset") and subject.is_delegated_administrator:
        raise DmsRefusal(DA_RESET_BY_HKEX, field="unlock_reset")
    if cr.payload.get("smartcard_password_reset") and subject.is_delegated_administrator:
        raise DmsRefusal(DA_SMARTCARD_BY_HKEX, field="smartcard_password")
    if cr.payload.get("smartcard_password_reset") and not smartcard_reset_offered(subject):
        raise DmsRefusal(NO_SMARTCARD, field="smartcard_password")


def smartcard_reset_offered(subject: User) -> bool:
    """DMS offers "Reset Smartcard Password" for a user's card that still logs on; a DA's
    card password is reset only by HKEX through eService SCard 1 (§4.1.2)."""
    return policies.card_logs_on(subject) and not subject.is_delegated_administrator


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
    if kind == Kind.CHANGE and not _profile_changes(cr.before, cr.payload):
        raise DmsRefusal(NOTHING_TO_CHANGE)
    with transaction.atomic():
        Participant.objects.select_for_update().get(pk=participant.pk)
        existing = pending_request_for(participant, subject_user_id)
        if existing is not None:
            raise DmsRefusal(ALREADY_PENDING % {"user_id": subject_user_id, "number": existing.pk}, field="user_id")
        _check_rules(cr, subject)
        cr.save()
        audit.record(
            audit.Event.REQUEST_PREPARED,
            request=request,
            actor=maker,
            subject=subject,
            actor_label=maker.user_id,
            request_id=cr.pk,
            request_kind=kind,
            user_id=subject_user_id,
            fields=_profile_changes(cr.before, cr.payload) if kind != Kind.DELETE else [],
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


def _authorisation_factor(checker: User) -> factors.Factor:
    """The checker's chosen second factor, if it can give an Authorisation Code. The stored
    choice, not a confirmed device: a choice whose device is gone gives a wrong code (counted)."""
    factor = factors.chosen_factor_of(checker)
    if factor is None or not factor.gives_authorisation_code:
        raise DmsRefusal(CHECKER_NO_2FA, field="checker_id")
    return factor


def _verify_code(checker: User, code: str) -> factors.Check:
    return _authorisation_factor(checker).check(checker, code, purpose=otp_services.Purpose.AUTHORISATION)


def request_authorisation_code(request_id: int, *, participant_id, checker_id: str, request=None):
    """The checker's e-mail Authorisation Code: an e-mail OTP of its own purpose, so it never
    blocks or replaces the checker's logon code (docs/security.md, "E-mail OTP per person and
    purpose"). Returns otp.services.EmailOtpRequest; may raise otp.services.DeliveryUnavailable."""
    cr = ChangeRequest.objects.filter(pk=request_id, participant_id=participant_id).first()
    if cr is None or not cr.is_pending:
        raise DmsRefusal(NOT_PENDING)
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


def authorise_request(request_id: int, *, participant_id, checker_id: str, code: str, request=None) -> ChangeRequest:
    """ "Checker ID", "Authorisation Code", "Confirm". Applies the change once, or raises DmsRefusal.

    A wrong code counts towards the checker's lockout; that count is kept even
    though the request is refused.
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
        _check_rules(cr, subject)
        check = _verify_code(checker, code)
        if check.ok:
            subject = _apply(cr, subject, checker=checker, request=request)
            cr.status, cr.checker, cr.decided_at, cr.secret_hash = Status.APPROVED, checker, clock.now(), ""
            cr.save(update_fields=["status", "checker", "decided_at", "secret_hash"])
            audit.record(
                audit.Event.REQUEST_AUTHORISED,
                request=request,
                actor=checker,
                subject=subject,
                request_id=cr.pk,
                request_kind=cr.kind,
                maker=cr.maker_id,
                user_id=cr.subject_user_id,
            )
        else:
            locked = lockout.record_otp_failure(checker, request=request, replay=check.replay)
            refusal = DmsRefusal(CHECKER_LOCKED if locked else WRONG_CODE, field="authorisation_code")
    if refusal is not None:
        raise refusal
    return cr


def reject_request(request_id: int, *, checker: User, reason: str, request=None) -> ChangeRequest:
    """A checker, in their own DMS session, rejects a request with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise DmsRefusal(REASON_REQUIRED, field="reason")
    with _auditing_refusals(request), transaction.atomic():
        cr = _locked_request(request_id, checker.participant_id)
        _checker_for(cr, checker.user_id)
        cr.reason = reason[:200]
        _close(cr, Status.REJECTED, by=checker, event=audit.Event.REQUEST_REJECTED, request=request)
    return cr


def _close(cr: ChangeRequest, status: str, *, by: User, event: str, request) -> None:
    cr.status, cr.decided_at, cr.secret_hash = status, clock.now(), ""
    if status == Status.REJECTED:
        cr.checker = by
    cr.save(update_fields=["status", "decided_at", "secret_hash", "checker", "reason"])
    audit.record(
        event,
        request=request,
        actor=by,
        subject=User.objects.filter(participant_id=cr.participant_id, user_id=cr.subject_user_id).first(),
        request_id=cr.pk,
        request_kind=cr.kind,
        user_id=cr.subject_user_id,
    )


# -- a profile's status and deletion: one rule for DMS and the back-office (dms.backoffice) --


def set_profile_status(user: User, status: str) -> list[str]:
    """Sets User Status (unsaved) and returns the fields to save: disabling ends every
    session of the person (SECURITY.md 18)."""
    fields = ["status"]
    if status == User.Status.DISABLED and user.status != User.Status.DISABLED:
        user.rotate_security_stamp()
        fields.append("security_stamp")
    user.status = status
    return fields


def soft_delete_profile(user: User) -> None:
    """Soft delete: the ID stays taken for ever; every session of the person ends."""
    user.deleted_at = clock.now()
    user.is_active = False
    user.rotate_security_stamp()
    user.save(update_fields=["deleted_at", "is_active", "security_stamp"])


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
