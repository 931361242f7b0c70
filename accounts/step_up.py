"""Step-up: a change made from a session proves the person again (docs/security.md,
"Step-up and change notices").

A stolen session cookie must not be enough to change a password or an
authentication setting. So every form that changes them first checks the
current password (each wrong one an unsuccessful logon, before any other
message is shown), and changes of the password or of a factor also need a
fresh code from the person's current second factor: the app's code, or an
e-mail OTP requested on that page. Wrong codes count like wrong OTPs.

This module is the one place that calls the e-mail OTP service for step-up; its
codes are the person's "step_up" codes, apart from logon and DMS codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from otp import services as otp_services

from . import audit, factors, lockout, logon
from .audit import Event
from .models import User

WRONG_CURRENT_PASSWORD = _("The current password is incorrect.")


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    locked: bool = False
    message: str = ""


def second_factor(user: User) -> factors.Factor | None:
    """The factor the person proves a change with; None when none is set up (the
    registration was just deleted in this session, or a smartcard-only profile)."""
    return factors.second_factor_of(user)


def code_digits(user: User) -> int | None:
    factor = second_factor(user)
    return factor.code_digits if factor is not None else None


def sends_code(user: User) -> bool:
    """The step-up pages offer REQUEST OTP: the person's factor sends its codes."""
    factor = second_factor(user)
    return factor is not None and factor.sends_code


def prove_password(request, user: User, password: str, *, reason: str) -> bool:
    """A fresh proof of the current password; a wrong one (or any while locked) is an
    unsuccessful logon. One hash whatever the outcome (SECURITY.md 7)."""
    if logon.check_password_once(user, password) and not lockout.is_locked(user):
        return True
    lockout.record_logon_failure(user, request=request, reason=reason)
    return False


def request_code(request, user: User) -> otp_services.EmailOtpRequest | None:
    """REQUEST OTP on a step-up page; None (nothing sent) unless the person's factor sends
    codes (the e-mail OTP). May raise DeliveryUnavailable."""
    factor = second_factor(user)
    if factor is None or not factor.sends_code:
        return None
    result = factor.challenge(user, purpose=otp_services.Purpose.STEP_UP)
    if result.sent:
        audit.record(Event.OTP_SENT, request=request, subject=user, channel=factor.key, purpose="step_up")
    return result


@dataclass(frozen=True)
class Proof:
    ok: bool
    field: str = ""  # "password" or "otp": where to show `message`; "" when the new password was refused
    message: str = ""
    locked: bool = False


def prove(request, user: User, *, password: str, code: str | None, reason: str, new_password_ok=lambda: True) -> Proof:
    """The order is the rule. The current password first: until it is proved nothing
    else is checked or said (a history or policy message would tell a session holder
    the password). Then the new password's own checks, so that a refused new password
    does not spend the code. Then the second factor, unless `code` is None (the forced
    change of an expired password, reached only after the logon's OTP was proved)."""
    if not prove_password(request, user, password, reason=reason):
        return Proof(ok=False, field="password", message=WRONG_CURRENT_PASSWORD, locked=lockout.is_locked(user))
    if not new_password_ok():
        return Proof(ok=False)
    if code is not None:
        check = prove_code(request, user, code)
        if not check.ok:
            return Proof(ok=False, field="otp", message=check.message, locked=check.locked)
    return Proof(ok=True)


def prove_code(request, user: User, code: str) -> CodeCheck:
    """The current second factor's code; a wrong or replayed one counts as a wrong OTP."""
    factor = second_factor(user)
    if factor is None:
        return CodeCheck(ok=True)
    check = factor.check(user, code, purpose=otp_services.Purpose.STEP_UP)
    if check.ok:
        return CodeCheck(ok=True)
    locked = lockout.record_otp_failure(user, request=request, replay=check.replay)
    return CodeCheck(ok=False, locked=locked, message=logon.INVALID_OTP)
