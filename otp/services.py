"""Registering authenticator apps, and issuing, delivering and verifying OTPs.

Verification always runs inside a transaction on a row locked with
SELECT ... FOR UPDATE (IMMEDIATE transactions on SQLite), so a code is
accepted at most once however many requests carry it (SECURITY.md 9, 13).
This module knows devices and delivery only; the logon flow, the lockout
and the audit trail live in `accounts`, which calls it.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q

from ccass_portal import clock
from ccass_portal.kept_queries import KeptQuery

from .models import AuthenticatorDevice, EmailOtpDevice

log = logging.getLogger(__name__)


class DeliveryUnavailable(Exception):
    """The mail queue did not take the OTP; nothing was used up."""


# -- authenticator app -------------------------------------------------------------


def start_registration(user) -> AuthenticatorDevice:
    """A fresh unconfirmed registration; earlier unconfirmed ones are discarded."""
    with transaction.atomic():
        AuthenticatorDevice.objects.filter(user=user, confirmed=False).delete()
        device = AuthenticatorDevice.new_for(user)
        device.save()
    return device


def pending_registration(user) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def confirmed_app_device(user) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


_HAS_CONFIRMED_APP = KeptQuery(
    lambda user_id: AuthenticatorDevice.objects.filter(user_id=user_id, confirmed=True), form="exists", user_id=str
)


def has_confirmed_app_device(user) -> bool:
    """One EXISTS: asked at every password step, it reads no device row (no sealed secret)."""
    return _HAS_CONFIRMED_APP(user_id=user.pk)


@dataclass(frozen=True)
class AppCodeCheck:
    ok: bool
    replay: bool = False
    device: AuthenticatorDevice | None = None


# The person's newest app (confirmed, or the one being registered), row-locked; read at every app
# code checked, so compiled once (ccass_portal.kept_queries).
_APP_LOCKED = {
    confirmed: KeptQuery(
        lambda user_id, confirmed=confirmed: (
            AuthenticatorDevice.objects.select_for_update().filter(user_id=user_id, confirmed=confirmed).order_by("-id")
        ),
        form="first",
        user_id=str,
    )
    for confirmed in (True, False)
}


def _check_app_code(user, token: str, *, confirmed: bool) -> AppCodeCheck:
    token = (token or "").strip()
    # No savepoint inside a caller's transaction (the logon, reset, step-up and DMS steps): no caller
    # goes on after a database error there, and it saves two statements per code (issue 19).
    with transaction.atomic(savepoint=False):
        device = _APP_LOCKED[confirmed](user_id=user.pk)
        if device is None:
            return AppCodeCheck(ok=False)
        if re.fullmatch(rf"[0-9]{{{device.digits}}}", token) and device.verify_token(token):
            if not confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                # One registration per person: the newly confirmed one replaces any other.
                AuthenticatorDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            return AppCodeCheck(ok=True, device=device)
        return AppCodeCheck(ok=False, replay=device.is_replay(token), device=device)


def confirm_registration(user, token: str) -> AppCodeCheck:
    """The registration counts only once the app's first code is entered (SECURITY.md 12)."""
    return _check_app_code(user, token, confirmed=False)


def verify_app_code(user, token: str) -> AppCodeCheck:
    return _check_app_code(user, token, confirmed=True)


def remove_app_devices(user) -> int:
    deleted, _ = AuthenticatorDevice.objects.filter(user=user).delete()
    return deleted


# -- e-mail OTP --------------------------------------------------------------------


@dataclass(frozen=True)
class EmailOtpRequest:
    sent: bool
    retry_at: datetime | None = None

    def wait_text(self) -> str:
        """'m:ss' until a new OTP may be requested."""
        seconds = max(0, int((self.retry_at - clock.now()).total_seconds() + 0.999)) if self.retry_at else 0
        return f"{seconds // 60}:{seconds % 60:02d}"


Purpose = EmailOtpDevice.Purpose


def _purpose(purpose) -> str:
    if purpose not in Purpose.values:
        raise ValueError(f"unknown e-mail OTP purpose: {purpose!r}")
    return str(purpose)


def _email_device(user, purpose: str) -> EmailOtpDevice:
    """The person's device for `purpose`, locked for this transaction. Two first
    requests at once create one device: the unique slot makes the second wait for
    the first and then read its row (get_or_create)."""
    device, _ = EmailOtpDevice.objects.get_or_create(
        slot=EmailOtpDevice.slot_for(user, purpose),
        defaults={"user": user, "purpose": purpose, "name": f"e-mail ({purpose})"},
    )
    return EmailOtpDevice.objects.select_for_update().get(pk=device.pk)


def email_otp_status(user, *, purpose) -> EmailOtpDevice | None:
    return EmailOtpDevice.objects.filter(slot=EmailOtpDevice.slot_for(user, _purpose(purpose))).first()


def request_email_otp(user, *, purpose) -> EmailOtpRequest:
    """Issue a new 8-digit code for the person and `purpose` and queue its delivery on commit.

    At most one code per person and purpose every OTP_EMAIL_COOLDOWN_DURATION (300 s),
    and never while the last one may still be used: a request inside that time is
    refused with the time left and changes nothing, so the code already mailed keeps
    working whoever asked (docs/security.md, "E-mail OTP per person and purpose").
    If the queue refuses the task, the code and the cooldown are withdrawn and
    DeliveryUnavailable is raised (SECURITY.md 30).
    """
    purpose = _purpose(purpose)
    with transaction.atomic():
        device = _email_device(user, purpose)
        allowed, info = device.generate_is_allowed()
        if not allowed:
            return EmailOtpRequest(sent=False, retry_at=info["next_generation_at"])
        previous_generated = device.last_generated_timestamp
        challenge_id = device.issue()
        device.save()
        transaction.on_commit(
            partial(_enqueue_or_withdraw, device.pk, challenge_id, device.valid_until, previous_generated),
            robust=False,
        )
    return EmailOtpRequest(sent=True, retry_at=device.next_request_at())


def _enqueue_or_withdraw(device_pk, challenge_id, valid_until, previous_generated) -> None:
    from .tasks import enqueue_email_otp

    try:
        enqueue_email_otp(challenge_id, expires=valid_until)
    except Exception as exc:  # the broker's own exceptions vary by transport
        log.warning("otp.email.enqueue_failed", extra={"challenge": str(challenge_id), "error": type(exc).__name__})
        EmailOtpDevice.objects.filter(pk=device_pk, challenge_id=challenge_id).update(
            token=None,
            sealed_token="",
            challenge_id=None,
            delivery=EmailOtpDevice.Delivery.NONE,
            last_generated_timestamp=previous_generated,
            valid_until=clock.now(),
        )
        raise DeliveryUnavailable from exc


def verify_email_otp(user, token: str, *, purpose) -> bool:
    """True once for the person's current code of `purpose`, within its 300 s."""
    purpose = _purpose(purpose)
    token = (token or "").strip()
    with transaction.atomic():
        device = EmailOtpDevice.objects.select_for_update().filter(slot=EmailOtpDevice.slot_for(user, purpose)).first()
        if device is None or not re.fullmatch(rf"[0-9]{{{settings.OTP_EMAIL_TOKEN_LENGTH}}}", token):
            return False
        return device.verify_token(token)


def withdraw_email_otp(user) -> None:
    """Invalidate every outstanding e-mail code of the person, whatever its purpose
    (reset of the registration, a new e-mail address)."""
    EmailOtpDevice.objects.filter(user=user).update(
        token=None, sealed_token="", challenge_id=None, valid_until=clock.now(), last_generated_timestamp=None
    )


class DeliveryOutcome:
    SENT = "sent"
    NOTHING_TO_DO = "nothing to do"
    RETRY = "retry"
    GAVE_UP = "gave up"


def deliver_email_otp(challenge_id: str | uuid.UUID, *, final_attempt: bool = False) -> str:
    """Send the code `challenge_id` names, unless it was used, replaced or expired.

    The row is not locked while the mail server is talked to; the code is
    marked delivered afterwards only if it is still the current one.
    """
    challenge_id = uuid.UUID(str(challenge_id))  # the task carries it as a string
    device = EmailOtpDevice.objects.select_related("user").filter(challenge_id=challenge_id).first()
    if device is None or not device.is_deliverable():
        return DeliveryOutcome.NOTHING_TO_DO
    expect_delivery_within(challenge_id, settings.EMAIL_TIMEOUT)  # held by this worker now
    body = settings.OTP_EMAIL_BODY.format(token=device.delivery_code())
    recipient = device.email or device.user.email
    try:
        send_mail(settings.OTP_EMAIL_SUBJECT, body, settings.OTP_EMAIL_SENDER, [recipient])
    except OSError as exc:  # smtplib.SMTPException is an OSError
        log.warning("otp.email.smtp_failed", extra={"challenge": str(challenge_id), "error": type(exc).__name__})
        device.refresh_from_db()
        if not final_attempt and device.challenge_id == challenge_id and device.is_deliverable():
            return DeliveryOutcome.RETRY
        return give_up_email_otp(challenge_id)
    EmailOtpDevice.objects.filter(pk=device.pk, challenge_id=challenge_id).update(
        sealed_token="", delivery=EmailOtpDevice.Delivery.SENT
    )
    log.info("otp.email.sent", extra={"challenge": str(challenge_id)})
    return DeliveryOutcome.SENT


# The last try of a failed send comes at least this long before the code expires: a try
# planned for later would be dropped by the queue as expired (the task's `expires`), and
# nobody would learn that the mail never left (SECURITY.md 33).
LAST_ATTEMPT_MARGIN = timedelta(seconds=1)


def next_delivery_attempt_in(challenge_id: str | uuid.UUID, *, backoff: float) -> float | None:
    """Seconds before the next try at sending `challenge_id`: the back-off, brought
    forward so that the try comes before the code expires; None when none can."""
    device = EmailOtpDevice.objects.filter(challenge_id=uuid.UUID(str(challenge_id))).first()
    if device is None or device.valid_until is None:
        return None
    left = (device.valid_until - LAST_ATTEMPT_MARGIN - clock.now()).total_seconds()
    return min(backoff, left) if left > 0 else None


def give_up_email_otp(challenge_id: str | uuid.UUID) -> str:
    """Mark the code undeliverable (the OTP page then says so) and release the cooldown,
    so that the person can ask for a new code at once. Nothing if it was replaced."""
    EmailOtpDevice.objects.filter(challenge_id=uuid.UUID(str(challenge_id))).update(
        delivery=EmailOtpDevice.Delivery.FAILED, last_generated_timestamp=None, sealed_token=""
    )
    return DeliveryOutcome.GAVE_UP


# -- codes lost on the way -------------------------------------------------------------


def _grace() -> timedelta:
    return timedelta(seconds=settings.OTP_EMAIL_DELIVERY_GRACE)


def expect_delivery_within(challenge_id: str | uuid.UUID, seconds: float) -> None:
    """A worker holds the code (sending it, or a retry planned in `seconds`): it is not
    lost before then."""
    EmailOtpDevice.objects.filter(
        challenge_id=uuid.UUID(str(challenge_id)), delivery=EmailOtpDevice.Delivery.QUEUED
    ).update(delivery_due_by=clock.now() + timedelta(seconds=seconds) + _grace())


class SweepOutcome:
    REPUBLISHED = "republished"
    RELEASED = "released"


def sweep_lost_email_otps() -> dict[str, int]:
    """No queued code is lost silently (issue 15, item 2). A code still QUEUED past its
    `delivery_due_by` never reached a worker (a broker restarted without its queue, a
    task dropped): it is published again, once, while it has life left; otherwise it is
    released (FAILED: the OTP page says so, and the cooldown is freed so the person may
    ask for a new code at once). Each code is claimed by a conditional UPDATE, so two
    sweeps at once never handle one code twice. Run by beat every 5 s (otp.tasks)."""
    from .tasks import enqueue_email_otp

    now = clock.now()
    done = {SweepOutcome.REPUBLISHED: 0, SweepOutcome.RELEASED: 0}
    lost = (
        EmailOtpDevice.objects.filter(delivery=EmailOtpDevice.Delivery.QUEUED, challenge_id__isnull=False)
        .filter(Q(delivery_due_by__lt=now) | Q(delivery_due_by__isnull=True))
        .values_list("challenge_id", "valid_until", "republished", "delivery_due_by")
    )
    for challenge_id, valid_until, republished, due_by in lost:
        unchanged = EmailOtpDevice.objects.filter(
            challenge_id=challenge_id, delivery=EmailOtpDevice.Delivery.QUEUED, delivery_due_by=due_by
        )
        if not republished and valid_until - now > _grace() + LAST_ATTEMPT_MARGIN:
            if not unchanged.update(delivery_due_by=now + _grace(), republished=True):
                continue
            try:
                enqueue_email_otp(challenge_id, expires=valid_until)
            except Exception as exc:  # the broker's own exceptions vary by transport
                log.warning(
                    "otp.email.republish_failed", extra={"challenge": str(challenge_id), "error": type(exc).__name__}
                )
                give_up_email_otp(challenge_id)
                done[SweepOutcome.RELEASED] += 1
                continue
            log.info("otp.email.republished", extra={"challenge": str(challenge_id)})
            done[SweepOutcome.REPUBLISHED] += 1
        elif unchanged.update(delivery=EmailOtpDevice.Delivery.FAILED, last_generated_timestamp=None, sealed_token=""):
            log.warning("otp.email.released", extra={"challenge": str(challenge_id)})
            done[SweepOutcome.RELEASED] += 1
    return done
