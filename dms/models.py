"""DMS records: the maker-checker requests, and HKEX's processed eServices.

A `ChangeRequest` is one change to one user profile that a DA maker prepared
and a DA checker authorises (SPEC.md "DMS"). It keeps the profile as it was
(`before`) and as it will be (`payload`), so the request is also the audit
trail the "View Reports" page shows. An `EServiceRecord` is one DA3 or DA4
request processed by an HKEX operator in the back-office.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Participant
from ccass_portal import clock


class ChangeRequest(models.Model):
    class Kind(models.TextChoices):
        CREATE = "CREATE", _("Create User Profile")
        CHANGE = "CHANGE", _("Change User Profile")
        DELETE = "DELETE", _("Delete User Profile")

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending")
        APPROVED = "APPROVED", _("Authorised")
        REJECTED = "REJECTED", _("Rejected")
        WITHDRAWN = "WITHDRAWN", _("Withdrawn")

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subject_user_id = models.CharField("User ID", max_length=8, db_index=True)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    payload = models.JSONField("After", default=dict, blank=True)
    before = models.JSONField("Before", default=dict, blank=True)
    # A new smartcard password, hashed, until the request is decided; never in
    # `payload`, reports or the audit trail.
    secret_hash = models.CharField(max_length=128, blank=True, editable=False)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING, db_index=True)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("Reason", max_length=200, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["participant", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.subject_user_id} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class EServiceRecord(models.Model):
    """One processed HKEX eService: DA3 (DA maintenance), DA4 (additional user accounts) or
    SCard 1 (a DA's smartcard password, until decommissioning; §4.1.2)."""

    class Service(models.TextChoices):
        DA3 = "DA3", _("DA3 - CCASS/ CCMS Terminal Delegated Administrator Application/ Maintenance Form")
        DA4 = "DA4", _("DA4 - CCASS / CCMS User Account Application Form")
        SCARD1 = "SCARD1", _("SCard 1 - Smartcard Maintenance for DA")

    class Action(models.TextChoices):
        ADD_DA = "ADD_DA", _("Add DA")
        UNLOCK = "UNLOCK", _("Unlock DA Account")
        ENABLE = "ENABLE", _("Enable DA")
        DISABLE = "DISABLE", _("Disable DA")
        DELETE = "DELETE", _("Delete DA")
        RESET_OTP = "RESET_OTP", _("Reset DA's OTP Device Registration")
        ASSIGN_ROLE = "ASSIGN_ROLE", _("Assign DA role to an existing user")
        ADD_ACCOUNTS = "ADD_ACCOUNTS", _("Grant additional user accounts")
        SMARTCARD_RESET = "SCARD_RESET", _("Reset Smartcard Password")

    FEE_PER_ACCOUNT = Decimal("250.00")

    service = models.CharField(max_length=6, choices=Service.choices)
    action = models.CharField(max_length=12, choices=Action.choices)
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subject_user_id = models.CharField("User ID", max_length=8, blank=True)
    details = models.JSONField(default=dict, blank=True)
    accounts_granted = models.PositiveIntegerField(default=0)
    fee_hkd = models.DecimalField("Fee (HKD)", max_digits=12, decimal_places=2, default=Decimal("0.00"))
    processed_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-processed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.action} {self.participant_id}"

    @property
    def reference(self) -> str:
        """As HKEX Client Connect numbers them, e.g. DA3_00013361."""
        return f"{self.service}_{self.pk or 0:08d}"
