"""The passkey factor in the portal (issue 18; docs/security.md, "Passkeys").

Every decision about passkeys that `accounts` makes is here, so the factor registry's
entry is a thin adapter: whether passkeys are on, whether a person is offered one,
what the factor allows, the ceremony a session is in, and the person's own changes
(name, remove) with their audit rows. The ceremonies themselves are `otp.passkeys`.
"""

from __future__ import annotations

from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ccass_portal import clock
from otp import passkeys as otp_passkeys
from otp.passkeys import PasskeyError, PasskeyFailure  # noqa: F401  (the callers' one error type)

from . import audit, factors, notices
from .audit import Event

CEREMONY_KEY = "passkey_ceremony"
# AUTHENTICATION SETTINGS: adding a passkey is a change of factor, so it follows a step-up;
# the step-up lets one passkey be added within ENROL_GRANT (docs/security.md, "Passkeys").
ENROL_GRANT_KEY = "passkey_enrol_until"
ENROL_GRANT = timedelta(minutes=5)


class Purpose:
    LOGON = "logon"
    RESET = "reset"  # "Forgot/Reset your password?": the same options whoever the ID names
    ENROL = "enrol"  # at first-time logon, or in AUTHENTICATION SETTINGS
    STEP_UP = "step_up"


def enabled() -> bool:
    """PORTAL_PASSKEYS: off, the portal is exactly the seeds' portal."""
    return bool(settings.PORTAL_PASSKEYS)


def offered_to(user) -> bool:
    """A person is offered a passkey ceremony only if passkeys are on and they hold one."""
    return enabled() and otp_passkeys.has_passkey(user)


# -- the ceremony a session is in ----------------------------------------------------------
# One at a time per session, naming its person and purpose; the challenge is spent once.


def _b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode()


def _key(user) -> str:
    return str(getattr(user, "pk", user))  # a person, or a typed User ID that may name nobody


def _remember(request, *, user, purpose: str, challenge: bytes) -> None:
    request.session[CEREMONY_KEY] = {
        "user": _key(user),
        "purpose": purpose,
        "challenge": _b64(challenge),
        # As long as the browser is told to wait (the options' timeout), no longer.
        "until": (clock.now() + otp_passkeys.ceremony_timeout()).timestamp(),
    }


def take_challenge(request, *, user, purpose: str) -> bytes | None:
    """The challenge of the session's ceremony for this person and purpose, spent now; None
    when there is none, or it outlived the timeout the browser was given."""
    held = request.session.get(CEREMONY_KEY)
    if not held or held.get("user") != _key(user) or held.get("purpose") != purpose:
        return None
    request.session.pop(CEREMONY_KEY, None)
    if clock.now().timestamp() > held.get("until", 0):
        return None
    return urlsafe_b64decode(held["challenge"])


def forget_ceremony(request) -> None:
    request.session.pop(CEREMONY_KEY, None)


def begin_authentication(request, *, user, purpose: str) -> dict:
    ceremony = otp_passkeys.authentication_options(user, request=request)
    _remember(request, user=user, purpose=purpose, challenge=ceremony.challenge)
    return ceremony.options


def begin_reset(request, *, user_id: str) -> dict:
    """Options naming no credential, for whatever the typed User ID names (accounts.reset)."""
    ceremony = otp_passkeys.authentication_options(None, request=request)
    _remember(request, user=user_id, purpose=Purpose.RESET, challenge=ceremony.challenge)
    return ceremony.options


def begin_registration(request, *, user) -> dict:
    ceremony = otp_passkeys.registration_options(user, request=request)
    _remember(request, user=user, purpose=Purpose.ENROL, challenge=ceremony.challenge)
    return ceremony.options


def prove(request, *, user, response, purpose: str):
    """The person's passkey that answered the session's ceremony; its use is audited.
    Raises PasskeyError (the caller counts the failure)."""
    challenge = take_challenge(request, user=user, purpose=purpose)
    return _proved(request, user=user, response=response, purpose=purpose, challenge=challenge)


def prove_reset(request, *, user_id: str, user, response):
    """As `prove`, for the reset's ceremony begun for the typed `user_id` (`user` None when it
    names nobody: then no passkey is found, by the same path)."""
    challenge = take_challenge(request, user=user_id, purpose=Purpose.RESET)
    return _proved(request, user=user, response=response, purpose=Purpose.RESET, challenge=challenge)


def _proved(request, *, user, response, purpose: str, challenge):
    device = otp_passkeys.verify_authentication(user, response, request=request, expected_challenge=challenge)
    audit.record(Event.PASSKEY_USED, request=request, subject=user, passkey=device.pk, purpose=purpose)
    return device


def default_name(user) -> str:
    return gettext("Passkey %(number)d") % {"number": otp_passkeys.passkeys_of(user).count() + 1}


@transaction.atomic
def enrol(request, *, user, response, name: str = ""):
    """Store the passkey that answered the session's registration ceremony, with its audit row."""
    challenge = take_challenge(request, user=user, purpose=Purpose.ENROL)
    if challenge is None:
        raise PasskeyError(PasskeyFailure.NO_CEREMONY)
    device = otp_passkeys.verify_registration(
        user, response, request=request, expected_challenge=challenge, name=name or default_name(user)
    )
    audit.record(Event.PASSKEY_REGISTERED, request=request, subject=user, passkey=device.pk)
    return device


# -- the person's own list (AUTHENTICATION SETTINGS) -------------------------------------------


def grant_enrolment(request) -> None:
    """The step-up was made: one passkey may be added from this session, for a while."""
    request.session[ENROL_GRANT_KEY] = (clock.now() + ENROL_GRANT).timestamp()


def enrolment_granted(request) -> bool:
    return clock.now().timestamp() < request.session.get(ENROL_GRANT_KEY, 0)


@transaction.atomic
def add(request, *, user, response):
    """A passkey added in AUTHENTICATION SETTINGS, after step-up; the person is told by e-mail."""
    if not enrolment_granted(request):
        raise PasskeyError(PasskeyFailure.NO_CEREMONY)
    device = enrol(request, user=user, response=response)
    request.session.pop(ENROL_GRANT_KEY, None)
    notices.notify_change(user, notices.Change.PASSKEY_ADDED)
    return device


@transaction.atomic
def rename(request, *, user, passkey_id: int, name: str):
    device = otp_passkeys.rename_passkey(user, passkey_id=passkey_id, name=name)
    audit.record(Event.PASSKEY_RENAMED, request=request, subject=user, passkey=device.pk)
    return device


# -- the factor registry's entry (accounts.factors) ----------------------------------------------


class PasskeyFactor(factors.Factor):
    """A passkey: held beside the person's chosen factor (the app or the e-mail OTP, their
    fallback), never stored as `otp_channel`. It proves by a ceremony, not a code: its logon
    steps are accounts.logon's PASSKEY steps, and a DMS checker holding one approves by a
    ceremony bound to the request instead of an Authorisation Code.

    Not one of `second_factors()`: those are the stored choices the OTP step and the
    readiness partition (each person on one line) are made of; a passkey sits beside one.
    `factors_of(user)` lists it for its holders while passkeys are on."""

    key = "passkey"
    channel = ""
    label = _("Passkey")
    readiness_label = _("Passkey holders (beside their OTP)")
    readiness_tone = "good"
    allows_self_service_reset = True  # like the app: proved without a code sent by e-mail
    gives_authorisation_code = False
    is_second_factor = False
    held_beside = True  # a figure of its own in the readiness counts; removed by a reset
    otp_step = ""  # no code step

    def switched_on(self) -> bool:
        return enabled()

    def chosen_by(self, user) -> bool:
        return self.enrolled(user)

    def enrolled(self, user) -> bool:
        return offered_to(user)

    def in_use(self) -> Q:
        """Holders of a passkey, while passkeys are on (nobody when off)."""
        if not enabled():
            return Q(pk__isnull=True)
        return Q(Exists(otp_passkeys.confirmed_passkeys().filter(user=OuterRef("pk"))))

    def check(self, user, token: str, *, purpose=None) -> factors.Check:
        return factors.Check(ok=False)  # nothing typed proves a passkey (see `prove`)

    def complete_enrolment(self, user) -> None:
        raise TypeError("a passkey is enrolled by its registration ceremony (accounts.passkeys.enrol)")

    def remove(self, user, *, actor=None) -> int:
        """Every passkey of the person; returns how many (the reset's audit row says)."""
        return otp_passkeys.remove_passkeys(user)


factors.register(PasskeyFactor())
