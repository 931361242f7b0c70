"""The portal's two OTP devices, built on django-otp's.

- `AuthenticatorDevice`: django-otp's TOTPDevice (RFC 6238, 6 digits, 30 s,
  one step of tolerance, `last_t` refuses replays) with the secret encrypted
  at rest instead of stored in plain hex.
- `EmailOtpDevice`: django-otp's EmailDevice (cooldown, single use, expiry)
  with 8-digit codes stored as a keyed hash, one device (and so one code and
  one cooldown) per person and purpose, and delivery handed to a Celery task
  that carries only the code's id (docs/security.md, "E-mail OTP per person
  and purpose").
"""

from __future__ import annotations

import hmac
import time
import uuid
from binascii import unhexlify

from django.conf import settings
from django.db import DatabaseError, models
from django.db.models import signals
from django.utils import timezone
from django_otp.models import CooldownMixin, GenerateNotAllowed
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex, random_number_token

from ccass_portal import clock

from . import sealing


class AuthenticatorDevice(TOTPDevice):
    """The "ForgeRock Authenticator (OATH)" registration of one person."""

    sealed_key = models.TextField(editable=False)

    class Meta:
        verbose_name = "authenticator app registration"

    @classmethod
    def new_for(cls, user) -> AuthenticatorDevice:
        """An unconfirmed device with a fresh 160-bit secret from the OS CSPRNG."""
        device = cls(user=user, name="ForgeRock Authenticator (OATH)", confirmed=False)
        device.sealed_key = sealing.seal(random_hex(20).encode())
        device.key = ""  # the plain hex column stays empty; see bin_key
        return device

    @property
    def bin_key(self) -> bytes:
        return unhexlify(sealing.unseal(self.sealed_key))

    @property
    def base32_key(self) -> str:
        from base64 import b32encode

        return b32encode(self.bin_key).decode()

    def is_replay(self, token: str) -> bool:
        """True when `token` is a code this device already accepted (its step is <= last_t)."""
        try:
            value = int(token)
        except (TypeError, ValueError):
            return False
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        current = totp.t()
        for offset in range(-self.tolerance, self.tolerance + 1):
            t = current + offset
            if 0 <= t <= self.last_t and hotp(self.bin_key, t, digits=self.digits) == value:
                return True
        return False

    def get_throttle_factor(self) -> int:
        # The portal's lockout (3 wrong OTPs = 1 failed logon, 5 = locked) governs.
        return 0

    # What django-otp's verify_token changes; saving only these spares an UPDATE of
    # the encrypted secret's table on every logon.
    _VERIFY_FIELDS = ["last_t", "drift", "throttling_failure_timestamp", "throttling_failure_count", "last_used_at"]

    def verify_token(self, token) -> bool:
        self._verifying = True
        try:
            return super().verify_token(token)
        finally:
            self._verifying = False

    def save(self, *args, **kwargs):
        verifying = getattr(self, "_verifying", False) and not self._state.adding
        if (
            verifying
            and not (args or kwargs)
            # save() would send these; with a receiver connected, it goes through save() as before.
            and not signals.pre_save.has_listeners(type(self))
            and not signals.post_save.has_listeners(type(self))
        ):
            # One UPDATE of the row those fields live in (TOTPDevice's), without save()'s walk through
            # the parent models: 0.3 ms of CPU on every code checked (issue 19). The caller holds the
            # row locked (otp.services); a row gone all the same is an error, as save() makes it.
            values = {name: getattr(self, name) for name in self._VERIFY_FIELDS}
            if not TOTPDevice.objects.filter(pk=self.pk).update(**values):
                raise DatabaseError("The app registration checked was no longer there to update.")
            return
        if verifying:
            kwargs.setdefault("update_fields", self._VERIFY_FIELDS)  # not the sealed secret's table
        super().save(*args, **kwargs)


class EmailOtpDevice(EmailDevice):
    """Sends "CCASS: One Time Password" to the registered e-mail address.

    One device per person and purpose: a code asked for one purpose never
    replaces, blocks or answers for a code of another, and within the cooldown
    a new request never replaces the code already mailed, so nothing anyone
    but the person does can spoil the code in the person's mailbox.
    """

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", "logon and self-service reset"
        AUTHORISATION = "authorisation", "DMS Authorisation Code"
        STEP_UP = "step_up", "re-proving the factor in the person's settings"

    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.SIGN_IN, editable=False)
    # "<user pk>:<purpose>": the database keeps one device per person and purpose (a
    # constraint cannot name the parent table's `user` column).
    slot = models.CharField(max_length=200, unique=True, editable=False)
    challenge_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    sealed_token = models.TextField(
        blank=True, editable=False, help_text="The code, encrypted, until it has been delivered."
    )

    class Delivery(models.TextChoices):
        NONE = "", "No code"
        QUEUED = "QUEUED", "Queued"
        SENT = "SENT", "Sent"
        FAILED = "FAILED", "Could not be delivered"

    delivery = models.CharField(max_length=6, choices=Delivery.choices, blank=True, default="", editable=False)
    # When the worker should have acted on a QUEUED code by. Past it, the delivery was lost on
    # the way (a broker restarted without its queue): the sweep publishes it again once, then
    # releases it (otp.services.sweep_lost_email_otps; docs/security.md).
    delivery_due_by = models.DateTimeField(null=True, blank=True, editable=False)
    republished = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = "e-mail OTP"

    @staticmethod
    def slot_for(user, purpose: str) -> str:
        return f"{user.pk}:{purpose}"

    # -- issuing -------------------------------------------------------------------
    def issue(self) -> uuid.UUID:
        """Make a new code, replacing any earlier one (used, expired or undeliverable:
        see next_request_at). Caller saves.

        The code itself leaves this method only sealed; the returned id is what
        the delivery task carries.
        """
        code = random_number_token(settings.OTP_EMAIL_TOKEN_LENGTH)
        now = clock.now()
        self.token = sealing.digest(code)
        self.sealed_token = sealing.seal(code.encode())
        self.valid_until = now + timezone.timedelta(seconds=settings.OTP_EMAIL_TOKEN_VALIDITY)
        self.last_generated_timestamp = now
        self.challenge_id = uuid.uuid4()
        self.delivery = self.Delivery.QUEUED
        self.delivery_due_by = now + timezone.timedelta(seconds=settings.OTP_EMAIL_DELIVERY_GRACE)
        self.republished = False
        return self.challenge_id

    def is_deliverable(self) -> bool:
        """False once the code was used, replaced (checked by the caller's id) or expired."""
        return bool(self.token and self.sealed_token) and clock.now() < self.valid_until

    def code_valid_until(self):
        """When the current code stops being accepted, or None without a live code."""
        return self.valid_until if self.token and clock.now() < self.valid_until else None

    def next_request_at(self):
        """When a new code may be asked for, or None if it may be asked for now: not within
        the cooldown of the last one, and never while a code that may be in the person's
        mailbox is still valid (so a request by anyone cannot make that code fail)."""
        times = []
        if self.last_generated_timestamp is not None:
            times.append(self.last_generated_timestamp + timezone.timedelta(seconds=self.get_cooldown_duration()))
        if self.token and self.valid_until and self.delivery != self.Delivery.FAILED:
            times.append(self.valid_until)
        at = max(times, default=None)
        return at if at is not None and clock.now() < at else None

    def delivery_code(self) -> str:
        return sealing.unseal(self.sealed_token).decode()

    # -- verifying -------------------------------------------------------------------
    def verify_token(self, token) -> bool:
        """Single use, not one second past `valid_until`, compared in constant time."""
        now = clock.now()
        token = str(token or "")
        if self.token and now < self.valid_until and hmac.compare_digest(sealing.digest(token), self.token):
            self.token = None
            self.sealed_token = ""
            self.valid_until = now
            self.last_generated_timestamp = None  # a used code does not block asking for the next
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        return False

    def generate_is_allowed(self):
        """django-otp's CooldownMixin rule, on the portal's clock (so the demo clock moves it),
        extended by next_request_at: a live code is never replaced."""
        at = self.next_request_at()
        if at is not None:
            return False, {"reason": GenerateNotAllowed.COOLDOWN_DURATION_PENDING, "next_generation_at": at}
        return super(CooldownMixin, self).generate_is_allowed()  # the rules after the cooldown

    def get_cooldown_duration(self) -> int:
        return settings.OTP_EMAIL_COOLDOWN_DURATION

    def get_throttle_factor(self) -> int:
        return 0
