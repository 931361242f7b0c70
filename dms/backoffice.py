"""The HKEX back-office: what operators do when they process a participant's eService.

- DA3: add a DA (a DA-format User ID), unlock / enable / disable / delete a DA,
  reset a DA's OTP registration (the next logon is a first-time logon), and
  assign the DA role to an existing user.
- DA4: grant additional user accounts, HKD 250 each (§4.3.1).
- SCard 1: reset a DA's smartcard password (until decommissioning; §4.1.2): DMS
  resets only users' cards.

A DA3 request names the DA's User ID and registered e-mail address (App. D.c b);
processing it notifies the participant's Client Connect submitter (App. D.c c).

Each action locks the participant row, keeps the roster rule, keeps an
`EServiceRecord` (the list of processed requests) and writes one audit row.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts import audit, policies, user_ids
from accounts import services as account_services
from accounts.models import DA_ROLES, Participant, User

from .models import EServiceRecord
from .profiles import set_profile_status, soft_delete_profile
from .roster import RosterBreach, check_roster
from .rules import DmsRefusal

Action = EServiceRecord.Action
log = logging.getLogger(__name__)

EMAIL_NOT_REGISTERED = _("This is not the registered e-mail address of the DA.")
NO_SMARTCARD = _("This DA has no smartcard to reset, or smartcards have been decommissioned.")


# The kinds live in accounts.audit.Event; the old name stays for callers not yet moved.
BackofficeEvent = audit.Event

EVENTS = {
    EServiceRecord.Service.DA3: audit.Event.DA3_PROCESSED,
    EServiceRecord.Service.DA4: audit.Event.DA4_PROCESSED,
    EServiceRecord.Service.SCARD1: audit.Event.SCARD1_PROCESSED,
}


@dataclass(frozen=True)
class _EService:
    """One eService being processed: the firm's row locked until its transaction commits."""

    service: str
    operator: User
    participant: Participant
    request: object

    def done(self, action: str, *, subject: User | None, **details) -> EServiceRecord:
        """The eService's record and its audit row, in the same transaction as the change."""
        fee = EServiceRecord.FEE_PER_ACCOUNT * details.get("accounts", 0)
        record = EServiceRecord.objects.create(
            service=self.service,
            action=action,
            participant=self.participant,
            operator=self.operator,
            subject_user_id=subject.user_id if subject is not None else "",
            details=details,
            accounts_granted=details.get("accounts", 0),
            fee_hkd=fee,
        )
        audit.record(
            EVENTS[self.service],
            request=self.request,
            actor=self.operator,
            subject=subject if subject is not None else self.operator,
            participant=self.participant,
            reference=record.reference,
            action=action,
            participant_id=self.participant.participant_id,
            **details,
        )
        return record


@contextmanager
def _eservice(service: str, *, operator: User, participant: Participant, request):
    """Process one eService for a firm: one transaction, the firm's row locked first, so two
    operators acting on one firm at once are served one after the other."""
    with transaction.atomic():
        yield _EService(service, operator, Participant.objects.select_for_update().get(pk=participant.pk), request)


def _da_of(participant: Participant, user_id: str) -> User:
    user_id = user_ids.normalise_user_id(user_id)
    da = User.objects.select_for_update().filter(participant=participant, user_id=user_id).first()
    if da is None or not da.is_delegated_administrator:
        raise DmsRefusal(
            _("%(participant)s has no Delegated Administrator %(user_id)s.")
            % {"participant": participant.participant_id, "user_id": user_id},
            field="user_id",
        )
    return da


def add_da(
    *, operator: User, participant: Participant, role: str, surname: str, other_names: str, email: str, request=None
) -> tuple[User, EServiceRecord]:
    """DA3 "add DA": the next free DA-format User ID (B01234X1), within the firm's quota."""
    if role not in DA_ROLES:
        raise DmsRefusal(_("Choose DA maker or DA checker."), field="role")
    with _eservice(EServiceRecord.Service.DA3, operator=operator, participant=participant, request=request) as eservice:
        participant = eservice.participant
        try:
            user_id = user_ids.next_free_user_id(participant, delegated_administrator=True)
        except user_ids.QuotaExhausted as exc:
            raise DmsRefusal(str(exc), field="participant") from exc
        da = User(
            user_id=user_id,
            participant=participant,
            role=role,
            surname=surname,
            other_names=other_names,
            email=email,
            created_after_launch=policies.twofa_launched(),
        )
        da.set_unusable_password()
        da.save(force_insert=True)
        record = eservice.done(
            Action.ADD_DA,
            subject=da,
            role=role,
        )
    return da, record


def _check_registered_email(da: User, email: str | None) -> None:
    """The request names the DA's registered e-mail address (App. D.c b); None: a caller
    inside the product that identified the DA itself."""
    if email is not None and email.strip().lower() != da.email.lower():
        raise DmsRefusal(EMAIL_NOT_REGISTERED, field="email")


def act_on_da(
    *,
    operator: User,
    participant: Participant,
    user_id: str,
    action: str,
    email: str | None = None,
    submitter_email: str = "",
    request=None,
) -> EServiceRecord:
    """DA3: "Unlock DA Account" (the lock lifted and the OTP registration reset, so the next
    logon is a first-time logon, App. D.c d), enable, disable, delete a DA, or reset only the
    DA's OTP registration. Notifies the Client Connect submitter once it commits."""
    with _eservice(EServiceRecord.Service.DA3, operator=operator, participant=participant, request=request) as eservice:
        participant = eservice.participant
        da = _da_of(participant, user_id)
        _check_registered_email(da, email)
        try:
            if action in (Action.UNLOCK, Action.RESET_OTP):
                account_services.reset_registration(da, actor=operator, request=request)
            elif action == Action.ENABLE:
                da.save(update_fields=set_profile_status(da, User.Status.ENABLED))
            elif action == Action.DISABLE:
                check_roster(da, enabled=False)
                da.save(update_fields=set_profile_status(da, User.Status.DISABLED))
            elif action == Action.DELETE:
                check_roster(da, deleted=True)
                soft_delete_profile(da)
            else:
                raise DmsRefusal(_("Choose an action."), field="action")
        except RosterBreach as exc:
            raise DmsRefusal(str(exc), field="action") from exc
        record = eservice.done(
            action,
            subject=da,
        )
        if submitter_email:
            transaction.on_commit(lambda: notify_submitter(record, submitter_email))
    return record


def reset_da_smartcard_password(
    *, operator: User, participant: Participant, user_id: str, smartcard_password: str, request=None
) -> EServiceRecord:
    """SCard 1: a new 6-8 digit smartcard password for a DA whose card still logs on."""
    with _eservice(
        EServiceRecord.Service.SCARD1, operator=operator, participant=participant, request=request
    ) as eservice:
        participant = eservice.participant
        da = _da_of(participant, user_id)
        if not policies.card_logs_on(da):
            raise DmsRefusal(NO_SMARTCARD, field="user_id")
        da.set_smartcard_password(smartcard_password)
        da.save(update_fields=["smartcard_password"])
        return eservice.done(
            Action.SMARTCARD_RESET,
            subject=da,
        )


# -- the Client Connect notification (App. D.c c) ---------------------------------------------

NOTIFICATION_SUBJECT = (
    "DA 3 - CCASS/ CCMS Delegated Administrator Application/ Maintenance Form ({reference} from {pid})"
)
NOTIFICATION_BODY = """HKEX Client Connect

For reference: the eService is Completed

Reference Number\t{reference}
Workflow Status\tCompleted
Notification Type\tFor reference
Just Processed By\tHKEX
Require action from\tNil

To view the record, please visit the HKEX Client Connect and search the Reference Number ({reference})
"""


def client_connect_sender() -> str:
    """noreply_connect@ in the domain the portal sends from (DEFAULT_FROM_EMAIL)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2]
    return f"HKEX Client Connect <noreply_connect@{domain}>"


def notify_submitter(record: EServiceRecord, submitter_email: str) -> None:
    """The seed's notification, verbatim: no User ID, no e-mail address, nothing secret."""
    reference, pid = record.reference, record.participant.participant_id
    try:
        send_mail(
            NOTIFICATION_SUBJECT.format(reference=reference, pid=pid),
            NOTIFICATION_BODY.format(reference=reference),
            client_connect_sender(),
            [submitter_email],
        )
    except Exception:  # the request was processed; a mail outage must not undo or hide that
        log.exception("Client Connect notification for %s not sent", reference)


def assign_da_role(
    *, operator: User, participant: Participant, user_id: str, role: str, request=None
) -> EServiceRecord:
    """DA3: make an existing user (or DA) a DA maker or a DA checker; the User ID stays."""
    if role not in DA_ROLES:
        raise DmsRefusal(_("Choose DA maker or DA checker."), field="role")
    user_id = user_ids.normalise_user_id(user_id)
    with _eservice(EServiceRecord.Service.DA3, operator=operator, participant=participant, request=request) as eservice:
        participant = eservice.participant
        user = User.objects.select_for_update().filter(participant=participant, user_id=user_id).first()
        if user is None:
            raise DmsRefusal(
                _("%(participant)s has no user profile %(user_id)s.")
                % {"participant": participant.participant_id, "user_id": user_id},
                field="user_id",
            )
        if user.role == role:
            raise DmsRefusal(_("%(user_id)s already has this role.") % {"user_id": user_id}, field="role")
        if user.user_groups and policies.smartcard_available():
            raise DmsRefusal(
                _(
                    "Before the decommissioning of smartcards a DA cannot hold business user groups: "
                    "the participant's DAs must remove them first."
                ),
                field="user_id",
            )
        try:
            check_roster(user, role=role)
        except RosterBreach as exc:
            raise DmsRefusal(str(exc), field="role") from exc
        previous = user.role
        user.role = role
        user.save(update_fields=["role"])
        return eservice.done(
            Action.ASSIGN_ROLE,
            subject=user,
            role=role,
            previous_role=previous,
        )


def grant_accounts(*, operator: User, participant: Participant, accounts: int, request=None) -> EServiceRecord:
    """DA4: raise MAX. NO. OF USERS by `accounts`; a one-off fee of HKD 250 each."""
    if not 1 <= accounts <= 1000:
        raise DmsRefusal(_("Grant between 1 and 1000 additional user accounts."), field="accounts")
    with _eservice(EServiceRecord.Service.DA4, operator=operator, participant=participant, request=request) as eservice:
        participant = eservice.participant
        previous = participant.max_users
        participant.max_users = previous + accounts
        participant.save(update_fields=["max_users"])
        return eservice.done(
            Action.ADD_ACCOUNTS,
            subject=None,
            accounts=accounts,
            max_users=participant.max_users,
            previous_max_users=previous,
            fee_hkd=f"{EServiceRecord.FEE_PER_ACCOUNT * accounts:.2f}",
        )
