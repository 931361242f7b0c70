"""The rules of a DMS request (docs/dms.md), checked when a maker prepares it and again
when a checker authorises it, and the refusal they raise.

A refusal (`DmsRefusal`) names the form field its message belongs next to; the message is
translated. The roster rule (1 DA maker, 2 DA checkers) is `dms.roster`.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import policies, user_ids
from accounts.models import DATES_OUT_OF_ORDER, Participant, Role, User, dates_in_order

from . import profiles
from .models import ChangeRequest
from .roster import RosterBreach, check_roster
from .selectors import pending_create_ids

Kind = ChangeRequest.Kind


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


def check_quota(participant: Participant, *, reserved: int) -> None:
    if participant.spare_accounts() - reserved <= 0:
        raise user_ids.quota_exhausted(participant, pending=reserved)


def propose_user_id(participant: Participant) -> str:
    """ "Generate User ID": the next never-issued ID that no pending request holds.

    Raises QuotaExhausted when no spare account is left (counting pending creations).
    """
    reserved = pending_create_ids(participant)
    check_quota(participant, reserved=len(reserved))
    return user_ids.next_free_user_id(participant, reserved=frozenset(reserved))


def profile_changes(before: dict, payload: dict) -> list[str]:
    changed = [field for field in profiles.PROFILE_FIELDS if before.get(field) != payload.get(field)]
    if payload.get("unlock_reset"):
        changed.append("unlock_reset")
    if payload.get("smartcard_password_reset"):
        changed.append("smartcard_password_reset")
    return changed


def check_shape(payload: dict) -> None:
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


def check_payload(participant: Participant, payload: dict, *, role: str) -> None:
    check_shape(payload)
    if not dates_in_order(payload.get("enable_from"), payload.get("disable_after")):
        raise DmsRefusal(DATES_OUT_OF_ORDER, field="disable_after")
    if payload.get("clearing_house_options") not in profiles.clearing_house_options(participant):
        raise DmsRefusal(_("Choose one of the Clearing House Options offered."), field="clearing_house_options")
    if not set(payload.get("user_groups", ())) <= set(profiles.USER_GROUPS):
        raise DmsRefusal(_("Unknown user group."), field="user_groups")
    if role != Role.USER and payload.get("user_groups") and policies.smartcard_available():
        raise DmsRefusal(DA_GROUPS_BEFORE_DECOMMISSIONING, field="user_groups")


def check_request(cr: ChangeRequest, subject: User | None) -> None:
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
        reserved = 0 if cr.pk else len(pending_create_ids(participant))
        try:
            check_quota(participant, reserved=reserved)
        except user_ids.QuotaExhausted as exc:
            raise DmsRefusal(str(exc), field="user_id") from exc
        check_payload(participant, cr.payload, role=Role.USER)
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
    check_payload(participant, cr.payload, role=subject.role)
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
