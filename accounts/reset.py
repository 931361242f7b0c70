"""Self-service "Forgot/Reset your password?" (App. C.1, App. D.b).

Two people may use it: someone setting up 2FA for the first time (proved by
an e-mail OTP), and someone whose OTP comes from the app (proved by an app
code). Everyone else (unknown IDs, e-mail-OTP users, locked or disabled
profiles, and anyone when the mail queue is down) gets one and the same
refusal, so the page does not tell who exists (SECURITY.md 8, 20). A reset
never logs anyone in; wrong codes count towards the lockout.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ccass_portal import clock
from otp import services as otp_services

from . import audit, lockout, notices
from .audit import Event
from .logon import attempt_expired, find_user, otp_binding, profile_active, typed_label
from .models import OtpChannel, User

RESET_KEY = "reset"

REFUSAL = _(
    "Self-service password reset is not available for this User ID. It is available only to people "
    "who receive their OTP from the mobile application, or who are setting up 2FA for the first time "
    "with a registered e-mail address. If you receive your OTP by e-mail, or your account is locked, "
    "ask your Delegated Administrator for “Unlock/Reset OTP Device Registration” "
    "(Delegated Administrators: ask HKEX through eService DA3)."
)


class ResetStep:
    EMAIL_OTP = "email_otp"
    APP_OTP = "app_otp"
    NEW_PASSWORD = "new_password"
    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True)
class ResetState:
    user_id: str
    step: str
    attempt_id: str
    portal: str
    started: float | None = None

    @classmethod
    def load(cls, request, portal: str) -> ResetState | None:
        data = request.session.get(RESET_KEY)
        if not data or data.get("portal") != portal:
            return None
        state = cls(**data)
        if attempt_expired(state.started):
            # A reset in progress lasts as long as a logon attempt, counted from its start.
            request.session.pop(RESET_KEY, None)
            return None
        return state

    def save(self, request) -> None:
        request.session[RESET_KEY] = self.__dict__.copy()

    def advance(self, request, step: str) -> ResetState:
        state = ResetState(self.user_id, step, self.attempt_id, self.portal, self.started)
        request.session.cycle_key()
        state.save(request)
        return state

    def user(self) -> User | None:
        return User.objects.filter(user_id=self.user_id).first()


def start_reset(request, typed_user_id: str, *, portal: str) -> str:
    """Returns the next ResetStep; REFUSED looks the same whatever the reason."""
    request.session.pop(RESET_KEY, None)
    user = find_user(typed_user_id)
    step = ResetStep.REFUSED
    if user is not None and profile_active(user) and not user.is_locked:
        if user.has_twofa and user.otp_channel == OtpChannel.APP and otp_services.confirmed_app_device(user):
            step = ResetStep.APP_OTP
        elif not user.has_twofa and user.email:
            step = ResetStep.EMAIL_OTP
    if step == ResetStep.REFUSED:
        audit.record(
            Event.RESET_REFUSED,
            request=request,
            subject=user,
            actor_label="" if user else typed_label(typed_user_id),
        )
        return step
    state = ResetState(user.user_id, step, otp_binding(request, user), portal, clock.now().timestamp())
    request.session.cycle_key()
    state.save(request)
    if step == ResetStep.EMAIL_OTP:
        try:
            send_reset_email_otp(request, user, state)
        except otp_services.DeliveryUnavailable:
            request.session.pop(RESET_KEY, None)
            audit.record(Event.RESET_REFUSED, request=request, subject=user, reason="mail queue down")
            return ResetStep.REFUSED
    return step


def send_reset_email_otp(request, user: User, state: ResetState) -> otp_services.EmailOtpRequest:
    result = otp_services.request_email_otp(user, attempt=state.attempt_id)
    if result.sent:
        audit.record(Event.OTP_SENT, request=request, subject=user, channel="email", purpose="reset")
    return result


@dataclass(frozen=True)
class CodeResult:
    ok: bool
    locked: bool = False


def verify_reset_code(request, state: ResetState, code: str) -> CodeResult:
    user = state.user()
    if user is None or user.is_locked:
        request.session.pop(RESET_KEY, None)
        return CodeResult(ok=False, locked=True)
    if state.step == ResetStep.APP_OTP:
        check = otp_services.verify_app_code(user, code)
        ok, replay = check.ok, check.replay
    else:
        ok, replay = otp_services.verify_email_otp(user, code, attempt=state.attempt_id), False
    if not ok:
        if lockout.record_otp_failure(user, request=request, replay=replay):
            request.session.pop(RESET_KEY, None)
            return CodeResult(ok=False, locked=True)
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
