"""Self-service "Forgot/Reset your password?" (App. C.1, App. D.b).

Two people may use it: someone setting up 2FA for the first time (proved by
an e-mail OTP), and someone whose OTP comes from the app (proved by an app
code). Until a code is proved, everyone gets the same answers: whoever the
User ID names (nobody, an app user, a first-time user, an e-mail-OTP user, a
locked or disabled profile), the same redirect to the same code page, the same
answers to REQUEST OTP and to a wrong code, and the locked message after as many
failures (docs/decisions.md, "Self-service reset answers alike"; SECURITY.md 8,
20). Requests are limited per User ID and per client address. A reset never
logs anyone in; wrong codes count towards the lockout.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ccass_portal import clock
from otp import services as otp_services

from . import audit, factors, lockout, notices
from .audit import Event
from .client import client_address
from .logon import attempt_expired, find_user, known_fields, profile_active, typed_label
from .models import User
from .user_ids import normalise_user_id

RESET_KEY = "reset"

# Shown on the code page to everyone (it names no one's situation).
WHO_CAN_RESET = _(
    "Self-service password reset is available only to people who receive their OTP from the mobile "
    "application, or who are setting up 2FA for the first time with a registered e-mail address. If you "
    "receive your OTP by e-mail, or your account is locked, ask your Delegated Administrator for "
    "“Unlock/Reset OTP Device Registration” (Delegated Administrators: ask HKEX through eService DA3)."
)
TOO_MANY_REQUESTS = _("Too many password reset requests. Please try again later.")
EMAIL_OTP_ANSWER = _(
    "If an OTP can be sent by e-mail for this User ID, it has been sent to the registered e-mail address. "
    "A new OTP can be requested every 5 minutes."
)


class ResetStep:
    CODE = "code"
    NEW_PASSWORD = "new_password"
    DONE = "done"
    THROTTLED = "throttled"


def provable_factor(user: User | None) -> factors.Factor | None:
    """What can prove this person here: their second factor if it allows self-service reset
    (the app), the first-time factor (an e-mail OTP) for someone with a registered e-mail and
    no 2FA yet, or nothing (everyone else)."""
    if user is None or not profile_active(user) or user.is_locked:
        return None
    if user.has_twofa:
        factor = factors.second_factor_of(user)
        return factor if factor is not None and factor.allows_self_service_reset else None
    return factors.first_time_factor() if user.email else None


@dataclass(frozen=True)
class ResetState:
    user_id: str
    step: str
    portal: str
    started: float | None = None

    @classmethod
    def load(cls, request, portal: str) -> ResetState | None:
        data = request.session.get(RESET_KEY)
        if not data or data.get("portal") != portal:
            return None
        state = cls(**known_fields(cls, data))
        if attempt_expired(state.started):
            # A reset in progress lasts as long as a logon attempt, counted from its start.
            request.session.pop(RESET_KEY, None)
            return None
        return state

    def save(self, request) -> None:
        request.session[RESET_KEY] = self.__dict__.copy()

    def advance(self, request, step: str) -> ResetState:
        state = ResetState(self.user_id, step, self.portal, self.started)
        request.session.cycle_key()
        state.save(request)
        return state

    def user(self) -> User | None:
        return User.objects.filter(user_id=self.user_id).first()


def start_reset(request, typed_user_id: str, *, portal: str) -> str:
    """CODE for every User ID (the same page whoever it names), or THROTTLED."""
    request.session.pop(RESET_KEY, None)
    user_id = normalise_user_id(typed_user_id)
    if not (
        lockout.within_limit(
            lockout.attempts_key("reset-address", client_address(request) or ""),
            settings.PORTAL_RESET_REQUESTS_PER_ADDRESS,
        )
        and lockout.within_limit(lockout.attempts_key("reset-id", user_id), settings.PORTAL_RESET_REQUESTS_PER_USER_ID)
    ):
        return ResetStep.THROTTLED
    user = find_user(typed_user_id)
    factor = provable_factor(user)
    state = ResetState(user_id, ResetStep.CODE, portal, clock.now().timestamp())
    request.session.cycle_key()
    state.save(request)
    if factor is None:
        audit.record(
            Event.RESET_REFUSED, request=request, subject=user, actor_label="" if user else typed_label(typed_user_id)
        )
    elif factor.sends_code:
        send_reset_otp(request, user, state)
    return ResetStep.CODE


def send_reset_otp(request, user: User | None, state: ResetState) -> None:
    """REQUEST OTP: sends only when the person's provable factor sends codes (a first-time
    user's e-mail OTP), and answers nothing either way (the answer would tell who the ID
    names); a queue that is down is audited, not told."""
    factor = provable_factor(user)
    if factor is None or not factor.sends_code:
        return
    try:
        result = factor.challenge(user, purpose=otp_services.Purpose.SIGN_IN)
    except otp_services.DeliveryUnavailable:
        audit.record(Event.RESET_REFUSED, request=request, subject=user, reason="mail queue down")
        return
    if result.sent:
        audit.record(Event.OTP_SENT, request=request, subject=user, channel=factor.key, purpose="reset")


@dataclass(frozen=True)
class CodeResult:
    ok: bool


def verify_reset_code(request, state: ResetState, code: str) -> CodeResult:
    """The code of the factor the person can prove; for anyone else (a locked person too) no
    code is right. Each wrong one counts like a wrong OTP, under the person or under the ID
    that names nobody, so the logon page's locked message comes alike for both; this page
    answers every wrong code the same way and never says "locked" (it would tell who is)."""
    user = state.user()
    if user is None:
        lockout.record_unknown_id_code_failure(state.user_id)
        return CodeResult(ok=False)
    factor = provable_factor(user)
    check = (
        factor.check(user, code, purpose=otp_services.Purpose.SIGN_IN) if factor is not None else factors.Check(False)
    )
    if not check.ok:
        lockout.record_otp_failure(user, request=request, replay=check.replay)  # nothing while locked
        return CodeResult(ok=False)
    state.advance(request, ResetStep.NEW_PASSWORD)
    return CodeResult(ok=True)


def set_new_password(request, state: ResetState, password: str) -> None:
    """The code was proved; set the password (validated by the form). Never logs in."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=state.user_id)
        if user.is_locked:
            request.session.pop(RESET_KEY, None)
            return
        apply_new_password(user, password)
        audit.record(Event.PASSWORD_RESET, request=request, subject=user)
        notices.notify_change(user, notices.Change.PASSWORD_RESET)
    state.advance(request, ResetStep.DONE)


def apply_new_password(user: User, password: str) -> None:
    """Set and save a validated password; every other session of the person ends
    because the session hash depends on the password hash (SECURITY.md 18)."""
    user.set_password(password)
    user.password_changed_at = clock.now()
    user.save(update_fields=["password", "password_changed_at"])  # records the password history too
