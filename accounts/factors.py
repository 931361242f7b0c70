"""The factor registry: every way a person proves who they are, beside the password.

One small class per factor, one instance of it in `REGISTRY`. Everything else
(logon, step-up, self-service reset, Authentication Settings, DMS authorisation,
the readiness report and dashboard) asks the registry which factor a person uses
and what it can do; nothing outside this module reads `User.otp_channel` or
compares a channel (tests/accounts/test_factors.py keeps it so).

Adding a factor (docs/architecture.md, "Adding a factor"): its device and its
issuing/verifying go in `otp` (no knowledge of accounts); then one module, or one
class here, subclassing `Factor` with its attributes and methods, and one
`register(MyFactor())` call (the module is imported by `AccountsConfig.ready` or
listed at the end of this module). A second factor also needs a value of
`accounts.models.OtpChannel`, which is what the person's choice is stored as.

The attributes:
- `key`: a stable name ("app", "email", "smartcard"), the `channel` of its audit rows.
- `channel`: the `User.otp_channel` value that says a person chose it ("" if it is
  not a second factor chosen that way).
- `label`: how the factor shows in DMS ("OTP Enabled"), the readiness report and
  Authentication Settings; `readiness_label`: its line in the readiness figures, and
  `readiness_tone` how the dashboard's chart colours it ("good", "fair").
- `code_digits`: the length of its codes (from settings / the device), None if none.
- `sends_code`: a code is sent on request (REQUEST OTP); False when the person's
  device makes it (the app).
- `allows_self_service_reset`: its holder may use "Forgot/Reset your password?" (§4.1.2,
  §4.2.2, App. D: only people whose OTP comes from the app).
- `gives_authorisation_code`: a DMS checker can authorise with its code.
- `is_second_factor`: it completes a 2FA logon (the smartcard is a logon of its own).
- `otp_step`: the logon step (`accounts.logon.Step`) that asks for its code, and
  `otp_template` the page that asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ccass_portal import clock
from otp import services as otp_services

from . import policies
from .models import OtpChannel, User


@dataclass(frozen=True)
class Check:
    """The outcome of a code: `replay` when it was right but already used (the app's
    codes), `device` the django-otp device that proved it, for `django_otp.login`."""

    ok: bool
    replay: bool = False
    device: object | None = None


class Factor:
    key: str = ""
    channel: str = ""
    label = ""
    readiness_label = ""
    readiness_tone = "fair"
    sends_code: bool = False
    allows_self_service_reset: bool = False
    gives_authorisation_code: bool = False
    is_second_factor: bool = True
    held_beside: bool = False  # held beside the chosen factor, not chosen (the passkey)
    otp_step: str = ""
    otp_template: str = ""

    @property
    def code_digits(self) -> int | None:
        return None

    def switched_on(self) -> bool:
        """The portal offers this factor now (a factor HKEX may switch off: the passkey)."""
        return True

    def chosen_by(self, user: User) -> bool:
        """The person's stored choice names this factor (whether or not its device is there)."""
        return bool(self.channel) and user.otp_channel == self.channel

    def enrolled(self, user: User) -> bool:
        return self.chosen_by(user)

    def in_use(self) -> Q:
        """The people counted under `readiness_label`, as a query filter (readiness figures)."""
        return Q(otp_channel=self.channel) & Q(twofa_set_up_at__isnull=False)

    def challenge(self, user: User, *, purpose) -> otp_services.EmailOtpRequest | None:
        """Send a code for `purpose`; None when there is nothing to send. May raise
        otp.services.DeliveryUnavailable."""
        return None

    def check(self, user: User, token: str, *, purpose) -> Check:
        raise NotImplementedError

    def verify(self, user: User, token: str, *, purpose) -> bool:
        return self.check(user, token, purpose=purpose).ok

    def complete_enrolment(self, user: User) -> None:
        """Make this the person's second factor, and 2FA set up (once a code of it was proved).
        The caller writes the audit row in the same transaction."""
        if user.otp_channel != self.channel or not user.has_twofa:
            choose(user, self)
            user.twofa_set_up_at = user.twofa_set_up_at or clock.now()
            user.save(update_fields=["otp_channel", "twofa_set_up_at"])

    def remove(self, user: User, *, actor=None) -> None:
        """Take away what this factor holds for the person (devices, outstanding codes); the
        caller changes `otp_channel` and writes the audit row in the same transaction."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Factor {self.key}>"


class AppFactor(Factor):
    """ForgeRock Authenticator (OATH): TOTP codes made by the person's phone (otp.models.AuthenticatorDevice)."""

    key = "app"
    channel = OtpChannel.APP
    label = OtpChannel.APP.label
    readiness_label = _("OTP by mobile application")
    readiness_tone = "good"
    allows_self_service_reset = True
    gives_authorisation_code = True
    otp_step = "otp_app"
    otp_template = "accounts/otp_app.html"

    @property
    def code_digits(self) -> int:
        # django-otp's TOTP device default (6, RFC 6238): what the codes are made with.
        from otp.models import AuthenticatorDevice

        return AuthenticatorDevice._meta.get_field("digits").default

    def enrolled(self, user: User) -> bool:
        return self.chosen_by(user) and otp_services.has_confirmed_app_device(user)

    def start_enrolment(self, user: User):
        """A fresh registration (QR code) to confirm with the app's first code."""
        return otp_services.start_registration(user)

    def confirm_enrolment(self, user: User, token: str) -> Check:
        """The registration counts only once the app's first code is entered (SECURITY.md 12)."""
        result = otp_services.confirm_registration(user, token)
        if result.ok:
            self.complete_enrolment(user)
        return Check(ok=result.ok, replay=result.replay, device=result.device)

    def check(self, user: User, token: str, *, purpose=None) -> Check:
        # One code for every purpose: the app knows none.
        result = otp_services.verify_app_code(user, token)
        return Check(ok=result.ok, replay=result.replay, device=result.device)

    def remove(self, user: User, *, actor=None) -> None:
        otp_services.remove_app_devices(user)


class EmailFactor(Factor):
    """An 8-digit code mailed on request, one per person and purpose (otp.models.EmailOtpDevice)."""

    key = "email"
    channel = OtpChannel.EMAIL
    label = OtpChannel.EMAIL.label
    readiness_label = _("OTP by e-mail")
    sends_code = True
    gives_authorisation_code = True
    otp_step = "otp_email"
    otp_template = "accounts/otp_email.html"

    @property
    def code_digits(self) -> int:
        return settings.OTP_EMAIL_TOKEN_LENGTH

    def challenge(self, user: User, *, purpose) -> otp_services.EmailOtpRequest:
        return otp_services.request_email_otp(user, purpose=purpose)

    def check(self, user: User, token: str, *, purpose) -> Check:
        if not otp_services.verify_email_otp(user, token, purpose=purpose):
            return Check(ok=False)
        return Check(ok=True, device=otp_services.email_otp_status(user, purpose=purpose))

    def remove(self, user: User, *, actor=None) -> None:
        otp_services.withdraw_email_otp(user)


class SmartcardFactor(Factor):
    """The simulated card (SRN and a 6-8 digit password), until decommissioning (§4, §5).
    Not a second factor: a card logon is a logon of its own, and it never resets a password."""

    key = "smartcard"
    label = _("Smartcard")
    readiness_label = _("Smartcard only (no 2FA, card still valid)")
    is_second_factor = False

    def chosen_by(self, user: User) -> bool:
        return bool(user.srn)

    def enrolled(self, user: User) -> bool:
        return policies.card_logs_on(user)

    def in_use(self) -> Q:
        """Still only on the card: no 2FA yet, and a card that would still log on (§5).
        After decommissioning no card logs on, so nobody is."""
        return Q(twofa_set_up_at__isnull=True) & policies.cards_that_log_on()

    def check(self, user: User, token: str, *, purpose=None) -> Check:
        return Check(ok=user.check_smartcard_password(token))

    def complete_enrolment(self, user: User) -> None:
        raise TypeError("a smartcard is issued, not enrolled")

    def remove(self, user: User, *, actor=None) -> None:
        with transaction.atomic():
            user.set_smartcard_password(None)
            user.save(update_fields=["smartcard_password"])


# -- the registry --------------------------------------------------------------------------

REGISTRY: dict[str, Factor] = {}


def register(entry: Factor) -> Factor:
    """Add a factor (one entry per key; registering a key again replaces it)."""
    REGISTRY[entry.key] = entry
    return entry


def factor(key: str) -> Factor:
    return REGISTRY[key]


def second_factors() -> list[Factor]:
    return [entry for entry in REGISTRY.values() if entry.is_second_factor]


def held_beside() -> list[Factor]:
    """The factors held beside the chosen one (the passkey), while switched on: each a figure of
    its own in the readiness counts, never a line of the partition by chosen factor."""
    return [entry for entry in REGISTRY.values() if entry.held_beside and entry.switched_on()]


def held_factors() -> list[Factor]:
    """What a registration reset takes away: every second factor and every factor held beside
    one, switched on or not (a passkey kept through a reset would work again the day passkeys
    are switched back on)."""
    return [entry for entry in REGISTRY.values() if entry.is_second_factor or entry.held_beside]


def by_channel(channel: str) -> Factor | None:
    """The second factor a stored `otp_channel` value names; None for "not set up"."""
    return next((entry for entry in second_factors() if channel and entry.channel == channel), None)


def second_factor_of(user: User | None) -> Factor | None:
    """The factor the person's OTP step asks for: their chosen factor when it is enrolled; None
    when there is none (first logon, a registration just deleted, a smartcard-only profile)."""
    if user is None:
        return None
    entry = by_channel(user.otp_channel)
    return entry if entry is not None and entry.enrolled(user) else None


def chosen_factor_of(user: User) -> Factor | None:
    """The factor the person chose, as stored, even before its device is confirmed."""
    return by_channel(user.otp_channel)


def at_step(step: str) -> Factor | None:
    """The second factor whose code the logon step `step` asks for; None for other steps."""
    return next((entry for entry in second_factors() if entry.otp_step == step), None)


def choose(user: User, entry: Factor | None) -> None:
    """Store `entry` as the person's next second factor (None: set up again at the next
    logon). The caller saves `otp_channel` and writes the audit row in one transaction."""
    user.otp_channel = entry.channel if entry is not None else OtpChannel.NONE


def factors_of(user: User) -> list[Factor]:
    """Every factor the person holds now, in registry order (Authentication Settings, DMS)."""
    return [entry for entry in REGISTRY.values() if entry.enrolled(user)]


def first_time_factor() -> Factor:
    """What proves a person who has no second factor yet: an e-mail OTP to the registered address
    (App. C: the first-time logon, and the reset of someone setting up 2FA)."""
    return REGISTRY["email"]


register(AppFactor())
register(EmailFactor())
register(SmartcardFactor())

# Factors in modules of their own register themselves on import (after the ones above).
from . import passkeys  # noqa: E402, F401  (the passkey, issue 18)
