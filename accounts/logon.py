"""The 2FA logon (App. C): the steps a logon attempt goes through, and their rules.

A logon attempt lives in the session under ``logon`` and names the person, the
step reached and when it started. Nothing
protected is reachable until the last step calls `complete_logon`, which is
the only place that logs a person in. No password is ever kept in the session.

Steps: password -> setup (first time: register the app, or skip and use e-mail)
-> OTP -> (expired password: forced change) -> logon success. The forced change
comes after the OTP, so that knowing the password alone never changes it
(docs/decisions.md, "Expired password: the second factor before the change").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta

import django_otp
from django.conf import settings
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.db import transaction
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device

from ccass_portal import clock
from ccass_portal.kept_queries import KeptQuery
from otp import services as otp_services

from . import audit, factors, lockout, passkeys, user_ids
from .audit import Event
from .models import Role, User
from .service_hours import DMS_HOURS, TERMINAL_HOURS, ServiceHours

ATTEMPT_KEY = "logon"
ATTEMPT_LIFETIME = timedelta(minutes=10)
AUTH_METHOD_KEY = "auth_method"
AUTH_AT_KEY = "auth_at"
PREVIOUS_ACCESS_KEY = "previous_access"
# Set when the person removes, in this session, the device the session was verified
# with: the session stays verified (the password was just proved again).
DEVICE_REMOVED_KEY = "otp_device_removed_here"


class Step:
    PASSWORD = "password"
    EXPIRED = "expired"
    SETUP = "setup"
    REGISTER = "register"
    # The OTP steps are the factors' own (accounts.factors, `otp_step`).
    OTP_APP = factors.factor("app").otp_step
    OTP_EMAIL = factors.factor("email").otp_step
    PASSKEY = "passkey"  # offered first to a passkey holder (issue 18; accounts.passkeys)
    PASSKEY_REGISTER = "passkey_register"  # first-time logon: a passkey instead of the app


@dataclass(frozen=True)
class Portal:
    """Where a person logs on: the CCASS/CCMS Terminal, DMS or the HKEX back-office.

    `key` is its URL namespace. `paths` are the path prefixes of its pages (the Terminal's
    are every other path); a session that ends on one of them goes to `start`, a URL name of
    the portal. `hours` are its service hours (None: open always, as the back-office).
    """

    key: str
    welcome: str
    allows: Callable[[User], bool]
    refusal: str
    paths: tuple[str, ...] = ()
    start: str = "landing"
    hours: ServiceHours | None = None

    def url_of(self, name: str) -> str:
        return reverse(f"{self.key}:{name}")


def _terminal_allows(user: User) -> bool:
    # DAs may hold business user groups only after decommissioning (§5.1).
    return user.participant_id is not None and (user.role == Role.USER or bool(user.user_groups))


PORTALS = {
    "terminal": Portal(
        "terminal",
        _("WELCOME TO CCASS"),
        _terminal_allows,
        _("This User ID cannot use the CCASS/CCMS Terminal."),
        hours=TERMINAL_HOURS,
    ),
    "dms": Portal(
        "dms",
        _("WELCOME TO CCASS SECURITY MANAGEMENT FUNCTIONS"),
        lambda u: u.participant_id is not None and u.is_delegated_administrator,
        _("Only Delegated Administrators can use the Security Management Functions."),
        paths=("/dms/",),
        hours=DMS_HOURS,
    ),
    "backoffice": Portal(
        "backoffice",
        _("HKEX BACK-OFFICE"),
        lambda u: u.is_operator,
        _("Only HKEX operators can use the back-office."),
        paths=("/backoffice/", "/admin/"),  # the Django admin is the operators' too
        start="login",
    ),
}


def portal_for_path(path: str) -> Portal:
    """The portal whose pages `path` is among: the Terminal unless another claims it."""
    for portal in PORTALS.values():
        if portal.paths and path.startswith(portal.paths):
            return portal
    return PORTALS["terminal"]


def _generic_failure() -> str:
    # The numbers are the lockout policy's (accounts.lockout), so the message says what an
    # operator configured; read when shown, in the language of the request.
    policy = lockout.LockoutPolicy.from_settings()
    return gettext(
        "Unsuccessful logon: the User ID or password is incorrect, or the account is locked or disabled. "
        "Access is locked after %(failures)d consecutive unsuccessful attempts within %(minutes)d minutes; "
        "users ask their Delegated Administrator, and DAs ask HKEX, to unlock it."
    ) % {"failures": policy.failures, "minutes": int(policy.window.total_seconds() // 60)}


GENERIC_FAILURE = lazy(_generic_failure, str)()

# From the next attempt after a lock (§4.1.2, §4.2.2). The seeds show this message only as a
# screenshot, so the words are ours. An ID that names nobody gets it too after as many
# failures (accounts.lockout), and it never depends on whether the password was right.
LOCKED_MESSAGE = _(
    "This account is locked. Users ask their Delegated Administrator, and Delegated Administrators "
    "ask HKEX (eService DA3), to unlock it."
)


# -- the attempt in the session ------------------------------------------------------


@dataclass
class Attempt:
    user_id: str
    step: str
    portal: str
    service: str
    started: float
    # The password is expired: once the OTP is proved, the forced change comes before the
    # logon completes, and `device` keeps the device that proved it (its persistent id).
    expired: bool = False
    device: str = ""

    @classmethod
    def load(cls, request, portal: str) -> Attempt | None:
        data = request.session.get(ATTEMPT_KEY)
        if not data or data.get("portal") != portal:
            return None
        attempt = cls(**known_fields(cls, data))
        if attempt_expired(attempt.started):
            request.session.pop(ATTEMPT_KEY, None)
            return None
        return attempt

    def save(self, request) -> None:
        request.session[ATTEMPT_KEY] = self.__dict__.copy()

    def user(self) -> User | None:
        return User.objects.filter(user_id=self.user_id).first()


def attempt_expired(started: float | None) -> bool:
    """A logon attempt, and a self-service reset in progress, last ATTEMPT_LIFETIME from
    their start: one rule for both (issue 12, finding 7)."""
    return started is None or clock.now().timestamp() - started > ATTEMPT_LIFETIME.total_seconds()


def known_fields(cls, data: dict) -> dict:
    """A session written by an earlier release may hold keys this one no longer has (the
    attempt id e-mail codes were once bound to): they are dropped, not a 500."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def start_attempt(request, user: User, *, portal: str, service: str, step: str, expired: bool = False) -> Attempt:
    # A new session key at each step boundary (SECURITY.md 16).
    request.session.cycle_key()
    attempt = Attempt(
        user_id=user.user_id,
        step=step,
        portal=portal,
        service=service,
        started=clock.now().timestamp(),
        expired=expired,
    )
    attempt.save(request)
    return attempt


def abandon_attempt(request) -> None:
    request.session.pop(ATTEMPT_KEY, None)


# -- rules about a person ------------------------------------------------------------


def profile_active(user: User) -> bool:
    """ENABLED, not deleted, and today within Enable From / Disable After."""
    today = clock.today()
    return (
        user.is_active
        and user.deleted_at is None
        and user.status == User.Status.ENABLED
        and (user.enable_from is None or user.enable_from <= today)
        and (user.disable_after is None or today <= user.disable_after)
    )


def password_expired(user: User) -> bool:
    if user.password_changed_at is None:
        return False
    return clock.now() >= user.password_changed_at + timedelta(days=settings.PORTAL_PASSWORD_MAX_AGE_DAYS)


def password_expires_in_days(user: User) -> int | None:
    if user.password_changed_at is None:
        return None
    expiry = user.password_changed_at + timedelta(days=settings.PORTAL_PASSWORD_MAX_AGE_DAYS)
    return max(0, (expiry - clock.now()).days)


def password_expiry_warning(user: User) -> int | None:
    """Days left, when the Logon Success page should warn (PORTAL_PASSWORD_EXPIRY_WARNING_DAYS)."""
    days = password_expires_in_days(user)
    return days if days is not None and days <= settings.PORTAL_PASSWORD_EXPIRY_WARNING_DAYS else None


# Read at every password step, and row-locked at every OTP step: compiled once (ccass_portal.kept_queries).
_PERSON = KeptQuery(lambda user_id: User.objects.filter(user_id=user_id), form="first", user_id=str)
_PERSON_LOCKED = KeptQuery(
    lambda user_id: User.objects.select_for_update().filter(user_id=user_id), form="first", user_id=str
)


def find_user(typed_user_id: str) -> User | None:
    user_id = user_ids.normalise_user_id(typed_user_id)
    if not user_ids.ANY_USER_ID.fullmatch(user_id):
        return None
    return _PERSON(user_id=user_id)


def typed_label(typed_user_id: str) -> str:
    """What the audit trail may keep of an unknown ID: only something ID-shaped (never a mistyped password)."""
    user_id = user_ids.normalise_user_id(typed_user_id)
    return user_id if user_ids.ANY_USER_ID.fullmatch(user_id) else "(not a User ID)"


def check_password_once(user: User | None, password: str) -> bool:
    """Runs the password hasher exactly once, whoever asks (SECURITY.md 7)."""
    if user is None or not user.has_usable_password():
        User().set_password(password)  # same cost as a real check; result ignored
        return False
    return user.check_password(password)  # upgrades an old hash on success


def step_after_password(user: User) -> str:
    """The step that follows a proved password: a passkey holder's passkey first, else
    `otp_step`. Decided only once the password is proved, so nobody learns before it
    whether a person holds a passkey."""
    if passkeys.offered_to(user):
        return Step.PASSKEY
    return otp_step(user)


def passkey_fallback_step(user: User) -> str:
    """USE ANOTHER METHOD from the passkey step: the person's other factor; the e-mail on
    record when they chose none besides the passkey (docs/decisions.md, "Passkeys")."""
    step = otp_step(user)
    return Step.OTP_EMAIL if step == Step.SETUP else step


def otp_step(user: User) -> str:
    """The OTP step: the person's second factor's, or the first-time set-up."""
    factor = factors.second_factor_of(user)
    return factor.otp_step if factor is not None else Step.SETUP


# -- step 1: User ID and password --------------------------------------------------------


@dataclass(frozen=True)
class PasswordResult:
    ok: bool
    message: str = ""
    attempt: Attempt | None = None


def password_step(request, typed_user_id: str, password: str, *, portal: str, service: str) -> PasswordResult:
    user = find_user(typed_user_id)
    correct = check_password_once(user, password)
    if user is None:
        # Counted and locked like a person (accounts.lockout), so the locked message tells nothing.
        audit.record(Event.LOGON_FAILURE, request=request, actor_label=typed_label(typed_user_id), reason="unknown")
        if lockout.unknown_id_is_locked(typed_user_id):
            return PasswordResult(ok=False, message=LOCKED_MESSAGE)
        lockout.record_unknown_id_failure(typed_user_id)
        return PasswordResult(ok=False, message=GENERIC_FAILURE)
    if user.is_locked:
        # Even the right password does not get in, and nothing more is counted (SECURITY.md 4).
        audit.record(Event.LOGON_FAILURE, request=request, subject=user, reason="locked")
        return PasswordResult(ok=False, message=LOCKED_MESSAGE)
    if not correct:
        lockout.record_logon_failure(user, request=request, reason="password")
        return PasswordResult(ok=False, message=GENERIC_FAILURE)
    if not profile_active(user):
        audit.record(Event.LOGON_FAILURE, request=request, subject=user, reason="disabled")
        return PasswordResult(ok=False, message=GENERIC_FAILURE)
    if not PORTALS[portal].allows(user):
        audit.record(Event.LOGON_FAILURE, request=request, subject=user, reason="portal", portal=portal)
        return PasswordResult(ok=False, message=PORTALS[portal].refusal)

    attempt = start_attempt(
        request, user, portal=portal, service=service, step=step_after_password(user), expired=password_expired(user)
    )
    return PasswordResult(ok=True, attempt=attempt)


# -- OTP steps ------------------------------------------------------------------------


@dataclass(frozen=True)
class OtpResult:
    ok: bool
    locked: bool = False
    message: str = ""
    next_step: str = ""  # Step.EXPIRED when the forced change comes before the logon completes


INVALID_OTP = _("Invalid OTP. Please try again, or request a new one.")  # e-mail OTP
# The app makes a new code every 30 seconds; there is nothing to request (issue 17.7).
INVALID_APP_OTP = _("Invalid OTP. Please enter the code the app shows now.")
LOCKED_NOW = GENERIC_FAILURE


def send_logon_otp(request, user: User, attempt: Attempt) -> otp_services.EmailOtpRequest | None:
    """Ask for the sign-in code of the attempt's factor (cooldown applies); None when that factor
    sends nothing. May raise DeliveryUnavailable."""
    factor = factors.at_step(attempt.step)
    result = factor.challenge(user, purpose=otp_services.Purpose.SIGN_IN) if factor is not None else None
    if result is not None and result.sent:
        audit.record(Event.OTP_SENT, request=request, subject=user, channel=factor.key, purpose="logon")
    return result


def _unlocked_user(request, attempt: Attempt) -> User | None:
    """The attempt's person, freshly read; None (and the attempt ends) if locked or gone.
    Row-locked first, so a step's transaction takes the person before the device, in the order
    request_email_otp takes them (no deadlock between asking for a code and entering one)."""
    user = _PERSON_LOCKED(user_id=attempt.user_id)
    if user is None or user.is_locked:
        abandon_attempt(request)
        return None
    return user


def _otp_failed(request, user: User, *, replay: bool = False, message=INVALID_APP_OTP, **detail) -> OtpResult:
    locked = lockout.record_otp_failure(user, request=request, replay=replay, **detail)
    if locked:
        abandon_attempt(request)
        return OtpResult(ok=False, locked=True, message=LOCKED_NOW)
    return OtpResult(ok=False, message=message)


# Each verify_*_step is one transaction: the code is used up only if the logon it completes is
# committed with it. A database failure part-way leaves the code usable (docs/operations.md).
@transaction.atomic
def verify_otp_step(request, attempt: Attempt, code: str) -> OtpResult:
    """The code of the attempt's factor; an e-mail OTP proved at the first logon makes e-mail
    OTP the person's factor (accounts.factors, `complete_enrolment`)."""
    factor = factors.at_step(attempt.step)
    user = _unlocked_user(request, attempt)
    if user is None or factor is None:
        return OtpResult(ok=False, locked=True, message=LOCKED_NOW)
    check = factor.check(user, code, purpose=otp_services.Purpose.SIGN_IN)
    if not check.ok:
        # The app makes a new code every 30 seconds: there is nothing to request.
        return _otp_failed(
            request, user, replay=check.replay, message=INVALID_OTP if factor.sends_code else INVALID_APP_OTP
        )
    factor.complete_enrolment(user)
    return _complete(request, user, attempt, check.device)


@transaction.atomic
def verify_registration_step(request, attempt: Attempt, code: str) -> OtpResult:
    """The first code from a newly registered app both confirms it and completes the logon."""
    user = _unlocked_user(request, attempt)
    if user is None:
        return OtpResult(ok=False, locked=True, message=LOCKED_NOW)
    check = factors.factor("app").confirm_enrolment(user, code)
    if not check.ok:
        return _otp_failed(request, user)
    audit.record(Event.DEVICE_REGISTERED, request=request, subject=user)
    return _complete(request, user, attempt, check.device)


@transaction.atomic
def verify_passkey_step(request, attempt: Attempt, response) -> OtpResult:
    """A passkey answer at logon: like a code, a refused or cancelled ceremony counts as a
    wrong OTP (accounts.lockout), and success completes the logon as the OTP step does."""
    user = _unlocked_user(request, attempt)
    if user is None:
        return OtpResult(ok=False, locked=True, message=LOCKED_NOW)
    try:
        device = passkeys.prove(request, user=user, response=response, purpose=passkeys.Purpose.LOGON)
    except passkeys.PasskeyError as error:
        return _otp_failed(request, user, message=error.reason, factor="passkey", reason=error.failure.name.lower())
    return _complete(request, user, attempt, device)


@transaction.atomic
def passkey_cancelled(request, attempt: Attempt) -> OtpResult:
    """The browser reports the ceremony cancelled (or timed out): counted once, if one was open."""
    user = _unlocked_user(request, attempt)
    if user is None:
        return OtpResult(ok=False, locked=True, message=LOCKED_NOW)
    if passkeys.take_challenge(request, user=user, purpose=passkeys.Purpose.LOGON) is None:
        return OtpResult(ok=False, message=passkeys.PasskeyError(passkeys.PasskeyFailure.NO_CEREMONY).reason)
    error = passkeys.PasskeyError(passkeys.PasskeyFailure.CANCELLED)
    return _otp_failed(request, user, message=error.reason, factor="passkey", reason="cancelled")


@transaction.atomic
def verify_passkey_registration_step(request, attempt: Attempt, response) -> OtpResult:
    """First-time logon with a passkey instead of the app: the new passkey's answer both
    enrols it and completes the logon (as the app's first code does). The e-mail on record
    stays the other factor."""
    user = _unlocked_user(request, attempt)
    if user is None:
        return OtpResult(ok=False, locked=True, message=LOCKED_NOW)
    try:
        device = passkeys.enrol(request, user=user, response=response)
    except passkeys.PasskeyError as error:
        return _otp_failed(request, user, message=error.reason, factor="passkey", reason=error.failure.name.lower())
    factors.first_time_factor().complete_enrolment(user)
    return _complete(request, user, attempt, device)


def _complete(request, user: User, attempt: Attempt, device) -> OtpResult:
    if attempt.expired:
        # Both factors proved: now, and only now, the forced change (then complete_expired_change).
        attempt.step = Step.EXPIRED
        attempt.device = device.persistent_id if device is not None else ""
        request.session.cycle_key()
        attempt.save(request)
        return OtpResult(ok=True, next_step=Step.EXPIRED)
    if not complete_logon(request, user, device=device, method="2fa", service=attempt.service):
        return OtpResult(ok=False, locked=True, message=LOCKED_NOW)
    return OtpResult(ok=True)


def proved_device(attempt: Attempt):
    """The device that proved the second factor in this attempt (before a forced change)."""
    return Device.from_persistent_id(attempt.device) if attempt.device else None


# The stamps and the audit row together, or neither (issue 16 item 7); within a verify_*_step
# transaction no savepoint is needed (an error ends that whole transaction anyway).
@transaction.atomic(savepoint=False)
def complete_logon(request, user: User, *, device, method: str, service: str) -> bool:
    """The only place a person is logged in. Rotates the session key (SECURITY.md 16).
    False, and nothing done but the attempt dropped, if the account was locked meanwhile."""
    previous = user.last_access_at
    now = clock.now()
    abandon_attempt(request)
    # Counts cleared and both stamps written in one UPDATE (Django's own last_login receiver is
    # disconnected in AccountsConfig).
    if not lockout.record_logon_success(user, at=now):
        return False
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        django_otp.login(request, device)
    request.session[AUTH_METHOD_KEY] = method
    request.session[AUTH_AT_KEY] = now.timestamp()
    request.session["service"] = service
    request.session[PREVIOUS_ACCESS_KEY] = previous.isoformat() if previous else None
    audit.record(
        Event.SMARTCARD_LOGON_SUCCESS if method == "smartcard" else Event.LOGON_SUCCESS,
        request=request,
        subject=user,
        service=service,
    )
    return True


def logout(request) -> None:
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        audit.record(Event.LOGOUT, request=request, subject=user)
    django_logout(request)


def is_strongly_authenticated(request) -> bool:
    """A full 2FA logon (django-otp verified) or, until decommissioning, a smartcard logon."""
    from .policies import smartcard_available

    user = request.user
    # A profile disabled, locked or past Disable After loses its sessions at the next request.
    if not user.is_authenticated or not profile_active(user) or user.is_locked:
        return False
    method = request.session.get(AUTH_METHOD_KEY)
    if method == "2fa":
        return user.is_verified() or bool(request.session.get(DEVICE_REMOVED_KEY))
    return method == "smartcard" and smartcard_available()
