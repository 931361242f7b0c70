"""The portal's two OTP devices, built on django-otp's.

- `AuthenticatorDevice`: django-otp's TOTPDevice (RFC 6238, 6 digits, 30 s,
  one step of tolerance, `last_t` refuses replays) with the secret encrypted
  at rest instead of stored in plain hex.
- `EmailOtpDevice`: django-otp's EmailDevice (cooldown, single use, expiry)
  with 8-digit codes stored as a keyed hash, each code bound to the logon
  attempt that asked for it, and delivery handed to a Celery task that
  carries only the code's id.
"""

from __future__ import annotations

import hmac
import time
import uuid
from binascii import unhexlify

from django.conf import settings
from django.db import models
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
        if getattr(self, "_verifying", False) and not self._state.adding:
            kwargs.setdefault("update_fields", self._VERIFY_FIELDS)
        super().save(*args, **kwargs)


class EmailOtpDevice(EmailDevice):
    """Sends "CCASS: One Time Password" to the registered e-mail address."""

    challenge_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    attempt = models.CharField(
        max_length=64, blank=True, editable=False, help_text="The logon attempt this code was issued to."
    )
    sealed_token = models.TextField(
        blank=True, editable=False, help_text="The code, encrypted, until it has been delivered."
    )

    class Delivery(models.TextChoices):
        NONE = "", "No code"
        QUEUED = "QUEUED", "Queued"
        SENT = "SENT", "Sent"
        FAILED = "FAILED", "Could not be delivered"

    delivery = models.CharField(max_length=6, choices=Delivery.choices, blank=True, default="", editable=False)

    class Meta:
        verbose_name = "e-mail OTP"

    # -- issuing -------------------------------------------------------------------
    def issue(self, *, attempt: str) -> uuid.UUID:
        """Make a new code for `attempt`, replacing any earlier one. Caller saves.

        The code itself leaves this method only sealed; the returned id is what
        the delivery task carries.
        """
        code = random_number_token(settings.OTP_EMAIL_TOKEN_LENGTH)
        now = clock.now()
        self.token = sealing.digest(code)
        self.sealed_token = sealing.seal(code.encode())
        self.valid_until = now + timezone.timedelta(seconds=settings.OTP_EMAIL_TOKEN_VALIDITY)
        self.last_generated_timestamp = now
        self.attempt = attempt
        self.challenge_id = uuid.uuid4()
        self.delivery = self.Delivery.QUEUED
        return self.challenge_id

    def is_deliverable(self) -> bool:
        """False once the code was used, replaced (checked by the caller's id) or expired."""
        return bool(self.token and self.sealed_token) and clock.now() < self.valid_until

    def code_valid_until(self):
        """When the current code stops being accepted, or None without a live code."""
        return self.valid_until if self.token and clock.now() < self.valid_until else None

    def next_request_at(self):
        """When a new code may be asked for, or None if it may be asked for now."""
        if self.last_generated_timestamp is None:
            return None
        at = self.last_generated_timestamp + timezone.timedelta(seconds=self.get_cooldown_duration())
        return at if clock.now() < at else None

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
        """django-otp's CooldownMixin rule, on the portal's clock (so the demo clock moves it)."""
        last = self.last_generated_timestamp
        cooldown = self.get_cooldown_duration()
        if last and (clock.now() - last).total_seconds() <= cooldown:
            return False, {
                "reason": GenerateNotAllowed.COOLDOWN_DURATION_PENDING,
                "next_generation_at": last + timezone.timedelta(seconds=cooldown),
            }
        return super(CooldownMixin, self).generate_is_allowed()  # the rules after the cooldown

    def get_cooldown_duration(self) -> int:
        return settings.OTP_EMAIL_COOLDOWN_DURATION

    def get_throttle_factor(self) -> int:
        return 0
