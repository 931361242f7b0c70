"""Changes a person makes to their own credentials, and the smartcard logon.

Each function is one action: it checks, changes, and writes one audit row.
"""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import audit, factors, lockout, logon, notices, passkeys, step_up
from .audit import Event
from .models import User
from .policies import card_logs_on
from .reset import apply_new_password

# The forms that take the current password prove it (and the second factor) first,
# through accounts.step_up; these actions run only once that proof is made.
WRONG_CURRENT_PASSWORD = step_up.WRONG_CURRENT_PASSWORD


def change_password(request, user: User, *, new: str) -> None:
    """ "Change Password", after step-up: ends the person's other sessions, keeps this one."""
    with transaction.atomic():
        apply_new_password(user, new)
        update_session_auth_hash(request, user)
        audit.record(Event.PASSWORD_CHANGED, request=request, subject=user)
        notices.notify_change(user, notices.Change.PASSWORD_CHANGED)


def change_expired_password(request, attempt: logon.Attempt, *, new: str) -> bool:
    """The forced change of an expired password, reached only once the OTP was proved in
    this logon (accounts.logon._complete); the current password was proved again on the
    form. The change and the logon it completes are one transaction: False, and nothing
    changed, if the person was locked meanwhile or the proving device is gone."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(user_id=attempt.user_id)
        device = logon.proved_device(attempt)
        if device is None or user.is_locked:
            logon.abandon_attempt(request)
            return False
        apply_new_password(user, new)
        audit.record(Event.PASSWORD_CHANGED, request=request, subject=user, expired=True)
        notices.notify_change(user, notices.Change.PASSWORD_CHANGED)
        if not logon.complete_logon(request, user, device=device, method="2fa", service=attempt.service):
            transaction.set_rollback(True)
            return False
    return True


def _remove_app_device(request, user: User, *, then: factors.Factor | None, event: str) -> None:
    """After step-up: remove the app registration and make `then` the next second factor (None:
    set up again); every other session of the person ends, this one stays verified (it just
    proved both factors)."""
    with transaction.atomic():
        factors.factor("app").remove(user)
        factors.choose(user, then)
        user.rotate_security_stamp()
        user.save(update_fields=["security_stamp", "otp_channel"])
        update_session_auth_hash(request, user)
        request.session[logon.DEVICE_REMOVED_KEY] = True
        audit.record(event, request=request, subject=user)
        notices.notify_change(user, event)


def delete_app_device(request, user: User) -> None:
    """AUTHENTICATION SETTINGS, Delete: the next logon registers a new device (App. D.d)."""
    _remove_app_device(request, user, then=None, event=Event.DEVICE_DELETED)


def use_email_otp(request, user: User) -> None:
    """AUTHENTICATION SETTINGS, Settings: "Multi-factor authentication using OATH" off."""
    _remove_app_device(request, user, then=factors.factor("email"), event=Event.OTP_CHANNEL_EMAIL)


def remove_passkey(request, user: User, *, passkey_id: int) -> None:
    """AUTHENTICATION SETTINGS, Remove a passkey, after step-up: as the app's Delete, every
    other session of the person ends and this one stays verified. Raises PasskeyError if
    the passkey is not the person's."""
    with transaction.atomic():
        passkeys.otp_passkeys.remove_passkey(user, passkey_id=passkey_id)
        user.rotate_security_stamp()
        user.save(update_fields=["security_stamp"])
        update_session_auth_hash(request, user)
        request.session[logon.DEVICE_REMOVED_KEY] = True
        audit.record(Event.PASSKEY_REMOVED, request=request, subject=user, passkey=passkey_id)
        notices.notify_change(user, notices.Change.PASSKEY_REMOVED)


def reset_registration(user: User, *, actor=None, request=None) -> None:
    """ "Unlock/Reset OTP Device Registration" (DA for users, HKEX DA3 for DAs):
    lifts the lock and clears the password and OTP channel, so the next logon
    is a first-time logon (App. D.c). Ends every session of the person, who is told by e-mail."""
    with transaction.atomic():
        lockout.lift_lock(user, actor=actor, request=request)
        row = User.all_objects.select_for_update().get(pk=user.pk)
        removed = {}  # every device, passkey and outstanding code goes, also of a factor switched off
        for factor in factors.held_factors():
            removed[factor.key] = factor.remove(row, actor=actor)
        row.set_unusable_password()
        row.password_changed_at = None
        factors.choose(row, None)
        row.twofa_set_up_at = None
        row.rotate_security_stamp()
        row.save(update_fields=["password", "password_changed_at", "otp_channel", "twofa_set_up_at", "security_stamp"])
        counts = {"passkeys_removed": removed["passkey"]} if removed.get("passkey") else {}
        audit.record(Event.REGISTRATION_RESET, request=request, actor=actor, subject=row, **counts)
        # The person is told, as of every change of their authentication settings (issue 12, finding 1).
        notices.notify_change(row, notices.Change.REGISTRATION_RESET)


# -- smartcard (§4, §5): a simulated reader -------------------------------------------

SMARTCARD_FAILURE = _(
    "Unsuccessful smartcard logon: the SRN or smartcard password is incorrect, the certificate has expired, "
    "or the account is locked, disabled or can only use 2FA."
)


def card_holder(srn: str) -> User | None:
    """The person whose card has exactly this SRN. An SRN is one person's (a database
    constraint, `user_srn_one_person`), so the card never stands for anyone else."""
    return User.objects.filter(srn=srn).first() if srn else None


def smartcard_logon(request, *, srn: str, pin: str, portal: str) -> tuple[bool, str]:
    """Logon with the simulated card. Refused after decommissioning, for accounts
    created after the 2FA launch, locked accounts and expired certificates."""
    user = card_holder(srn)
    ok = user.check_smartcard_password(pin) if user is not None else User().check_smartcard_password(pin)
    if user is None:
        audit.record(Event.SMARTCARD_LOGON_FAILURE, request=request, actor_label="(unknown SRN)")
        return False, SMARTCARD_FAILURE
    if not card_logs_on(user) or user.is_locked:
        audit.record(Event.SMARTCARD_LOGON_FAILURE, request=request, subject=user, reason="not allowed")
        return False, SMARTCARD_FAILURE
    if not ok:
        lockout.record_logon_failure(user, request=request, reason="smartcard")
        return False, SMARTCARD_FAILURE
    if not logon.profile_active(user) or not logon.PORTALS[portal].allows(user):
        audit.record(Event.SMARTCARD_LOGON_FAILURE, request=request, subject=user, reason="profile")
        return False, SMARTCARD_FAILURE
    if not logon.complete_logon(request, user, device=None, method="smartcard", service="smartcard"):
        return False, SMARTCARD_FAILURE
    return True, ""
