"""Participants, their users and DAs, and the audit trail.

The User is keyed by its User ID (§3.2), which never changes. Profile fields
are those of DMS "Create/Change User Profile" (§4.3.1, App. D.c).
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from ccass_portal import clock

from . import user_ids


class ClearingHouse(models.TextChoices):
    HKSCC = "HKSCC", "HKSCC"
    HKCC = "HKCC", "HKCC"
    SEOCH = "SEOCH", "SEOCH"


class Participant(models.Model):
    participant_id = models.CharField(
        "Participant ID",
        max_length=6,
        unique=True,
        help_text="The first six characters of every User ID of the firm: B01234, BNK999, HKABC1, HKABC2.",
    )
    name = models.CharField(max_length=120)
    clearing_house = models.CharField(max_length=5, choices=ClearingHouse.choices)
    is_designated_bank = models.BooleanField("HKSCC Designated Bank", default=False)
    customer_code = models.CharField(
        max_length=3, blank=True, help_text="HKCC and SEOCH participants only: the code inside HK...-IDs."
    )
    max_users = models.PositiveIntegerField(
        "MAX. NO. OF USERS", default=10, help_text="User accounts (users and DAs) the firm may hold (§4.3.1)."
    )

    class Meta:
        ordering = ["participant_id"]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.name}"

    @property
    def kind(self) -> str:
        return user_ids.participant_kind(self.clearing_house, self.is_designated_bank)

    @property
    def terminal(self) -> str:
        """CCASS for HKSCC participants and DBs, CCMS for HKCC and SEOCH."""
        return "CCASS" if self.clearing_house == ClearingHouse.HKSCC else "CCMS"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        try:
            user_ids.validate_participant_id(
                self.participant_id,
                clearing_house=self.clearing_house,
                is_designated_bank=self.is_designated_bank,
            )
        except ValidationError as exc:
            errors["participant_id"] = exc.messages
        if self.is_designated_bank and self.clearing_house != ClearingHouse.HKSCC:
            errors["is_designated_bank"] = ["Only HKSCC has Designated Banks."]
        if self.clearing_house in (ClearingHouse.HKCC, ClearingHouse.SEOCH):
            if self.customer_code != self.participant_id[2:5]:
                errors["customer_code"] = ["The customer code is the 3 characters after HK in the participant ID."]
        elif self.customer_code:
            errors["customer_code"] = ["Only HKCC and SEOCH participants have a customer code."]
        if errors:
            raise ValidationError(errors)

    def active_users(self):
        return User.objects.filter(participant=self)

    def spare_accounts(self) -> int:
        return self.max_users - self.active_users().count()


class Role(models.TextChoices):
    USER = "USER", _("Business user")
    DA_MAKER = "DA_MAKER", _("DA maker")
    DA_CHECKER = "DA_CHECKER", _("DA checker")


# Disable After never before Enable From: the model, the DMS form and the DMS service ask this.
DATES_OUT_OF_ORDER = _("Disable After must not be before Enable From.")


def dates_in_order(enable_from, disable_after) -> bool:
    return not (enable_from and disable_after and disable_after < enable_from)


# The Delegated Administrator roles: the one list DMS, its reports and the back-office use.
DA_ROLES = (Role.DA_MAKER, Role.DA_CHECKER)


class OtpChannel(models.TextChoices):
    NONE = "", _("Not set up")
    APP = "APP", _("Mobile application (ForgeRock Authenticator)")
    EMAIL = "EMAIL", _("E-mail")


def _new_stamp() -> str:
    return secrets.token_hex(16)


class UserManager(BaseUserManager):
    """Active (not deleted) profiles; logon, DMS and listings see only these."""

    use_in_migrations = True

    @staticmethod
    def shown(through: str = "") -> models.Q:
        """The rule of this manager as a filter, also across a relation (`through="user__"`)."""
        return models.Q(**{f"{through}deleted_at__isnull": True})

    def get_queryset(self):
        return super().get_queryset().filter(self.shown())

    def get_by_natural_key(self, user_id):
        return self.get(user_id=user_ids.normalise_user_id(user_id))

    def create_user(self, user_id, password=None, **extra):
        user = self.model(user_id=user_ids.normalise_user_id(user_id), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, user_id, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("surname", "OPERATOR")
        return self.create_user(user_id, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Status(models.TextChoices):
        ENABLED = "ENABLED", _("ENABLED")
        DISABLED = "DISABLED", _("DISABLED")

    class InternalExternal(models.TextChoices):
        INTERNAL = "INTERNAL", _("INTERNAL")
        EXTERNAL = "EXTERNAL", _("EXTERNAL")

    user_id = models.CharField("User ID", max_length=8, primary_key=True)
    participant = models.ForeignKey(
        Participant,
        verbose_name="Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="Empty for HKEX operators.",
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER)

    # DMS profile fields (§4.3.1, App. A, App. D.c)
    internal_external = models.CharField(
        "Internal/External", max_length=8, choices=InternalExternal.choices, default=InternalExternal.EXTERNAL
    )
    status = models.CharField("User Status", max_length=8, choices=Status.choices, default=Status.ENABLED)
    surname = models.CharField("Surname", max_length=60)
    other_names = models.CharField("Other Names", max_length=60, blank=True)
    email = models.EmailField("Email", blank=True)
    enable_from = models.DateField("Enable From", null=True, blank=True)
    disable_after = models.DateField("Disable After", null=True, blank=True)
    clearing_house_options = models.CharField("Clearing House Options", max_length=20, default="Cash")
    access_channel = models.CharField("Access Channel", max_length=10, default="C3T")
    user_groups = models.JSONField("Selected User Groups", default=list, blank=True)
    transaction_limit = models.DecimalField(
        "Transaction limit (HKD)",
        max_digits=15,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )

    # The simulated smartcard (§4, §5): card serial number and its 6-8 digit password.
    srn = models.CharField("SRN (for user using smartcard)", max_length=16, blank=True)
    smartcard_password = models.CharField(max_length=128, blank=True)
    certificate_expiry = models.DateTimeField("Certificate Expiry Date", null=True, blank=True)

    # 2FA state
    created_after_launch = models.BooleanField(
        default=False, help_text="Created after the 2FA launch: smartcard logon is never allowed."
    )
    twofa_set_up_at = models.DateTimeField("2FA set up", null=True, blank=True)
    otp_channel = models.CharField("OTP channel", max_length=5, choices=OtpChannel.choices, blank=True, default="")
    password_changed_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField("Locked", null=True, blank=True)
    # Lockout counting (accounts.lockout): times of recent failed logons, and
    # consecutive wrong OTPs not yet turned into a failed logon.
    logon_failures = models.JSONField(default=list, blank=True, editable=False)
    otp_failures = models.PositiveSmallIntegerField(default=0, editable=False)
    # Changed whenever every other session of the person must end (device
    # removed, profile disabled, registration reset); part of the session hash.
    security_stamp = models.CharField(max_length=32, default=_new_stamp, editable=False)
    last_access_at = models.DateTimeField("Last access", null=True, blank=True)

    # Django
    is_staff = models.BooleanField("HKEX operator", default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=clock.now)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()
    all_objects = models.Manager()

    USERNAME_FIELD = "user_id"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["surname"]

    class Meta:
        ordering = ["user_id"]
        indexes = [models.Index(fields=["participant", "user_id"])]
        constraints = [
            # A card is one person's: the smartcard logon finds the person by the SRN alone.
            models.UniqueConstraint(fields=["srn"], condition=~models.Q(srn=""), name="user_srn_one_person"),
        ]

    def __str__(self) -> str:
        return self.user_id

    # -- naming ------------------------------------------------------------------
    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.other_names}".strip()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.user_id

    # -- roles -------------------------------------------------------------------
    @property
    def is_delegated_administrator(self) -> bool:
        return self.role in DA_ROLES

    @property
    def is_operator(self) -> bool:
        return self.is_staff and self.participant_id is None

    # -- 2FA and smartcard -------------------------------------------------------
    @property
    def has_twofa(self) -> bool:
        return self.twofa_set_up_at is not None

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    def _get_session_auth_hash(self, secret=None):
        # As Django's, plus the security stamp, so that rotating the stamp ends
        # every other session just as a password change does.
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.security_stamp}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def rotate_security_stamp(self) -> None:
        self.security_stamp = _new_stamp()

    def set_smartcard_password(self, raw: str | None) -> None:
        self.smartcard_password = make_password(raw) if raw else ""

    def check_smartcard_password(self, raw: str) -> bool:
        # No card password: "!" is Django's unusable marker, which still runs one hash
        # (no timing difference) and fails. None would crash identify_hasher.
        return check_password(raw, self.smartcard_password or "!")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.user_id = user_ids.normalise_user_id(self.user_id)
        if self.participant_id is not None and self._state.adding:
            try:
                user_ids.validate_user_id(
                    self.user_id,
                    participant=self.participant,
                    delegated_administrator=self.is_delegated_administrator,
                )
            except ValidationError as exc:
                raise ValidationError({"user_id": exc.messages}) from exc
        if not dates_in_order(self.enable_from, self.disable_after):
            raise ValidationError({"disable_after": DATES_OUT_OF_ORDER})


class AuditEvent(models.Model):
    """One row per security event and per DMS change. Never holds a secret."""

    at = models.DateTimeField(default=clock.now, db_index=True)
    kind = models.CharField(max_length=40, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=64, blank=True, help_text="The User ID as typed, or 'anonymous'.")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_label = models.CharField(max_length=64, blank=True)
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["participant", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.subject_label}"


class PasswordHistory(models.Model):
    """Hashes of a person's recent passwords, so a new one differs from them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]


class KeyedAttempts(models.Model):
    """Attempts counted under a keyed hash rather than a person (docs/security.md, "Attacker
    model"): the failed logons of a typed User ID that names nobody, so that it is counted
    and locked like a real one; and self-service reset requests per User ID and per client
    address. Only the hash is kept, never what was typed."""

    key = models.CharField(max_length=80, unique=True)
    times = models.JSONField(default=list, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "keyed attempts"

    def __str__(self) -> str:
        return self.key[:16]
