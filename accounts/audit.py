"""The audit trail: one row per security event, written by the service that acted.

Never pass a password, OTP or secret in `data`; keep to IDs, kinds and outcomes.
"""

from __future__ import annotations

import logging

from django.utils.functional import Promise

from .client import client_address
from .models import AuditEvent

log = logging.getLogger("portal.audit")


class Event:
    """Every kind of audit row, of every part (docs/architecture.md): one class."""

    LOGON_SUCCESS = "logon_success"
    LOGON_FAILURE = "logon_failure"
    OTP_FAILURE = "otp_failure"
    OTP_REPLAY = "otp_replay"
    OTP_SENT = "otp_sent"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_UNLOCKED = "account_unlocked"
    DEVICE_REGISTERED = "device_registered"
    DEVICE_DELETED = "device_deleted"
    OTP_CHANNEL_EMAIL = "otp_channel_email"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    RESET_REFUSED = "reset_refused"
    SMARTCARD_LOGON_SUCCESS = "smartcard_logon_success"
    SMARTCARD_LOGON_FAILURE = "smartcard_logon_failure"
    LOGOUT = "logout"
    SESSION_EXPIRED = "session_expired"
    REGISTRATION_RESET = "registration_reset"
    REPORT_DOWNLOADED = "report_downloaded"
    DEMO_CLOCK_MOVED = "demo_clock_moved"
    # Passkeys (accounts.passkeys); a failed or cancelled ceremony is an OTP_FAILURE with factor="passkey".
    PASSKEY_REGISTERED = "passkey_registered"
    PASSKEY_USED = "passkey_used"
    PASSKEY_RENAMED = "passkey_renamed"
    PASSKEY_REMOVED = "passkey_removed"
    # DMS maker-checker (dms.services): the trail is one vocabulary, so its kinds are here too.
    REQUEST_PREPARED = "dms_request_prepared"
    REQUEST_AUTHORISED = "dms_request_authorised"
    REQUEST_REJECTED = "dms_request_rejected"
    REQUEST_WITHDRAWN = "dms_request_withdrawn"
    AUTHORISATION_REFUSED = "dms_authorisation_refused"
    # HKEX back-office eServices (dms.backoffice).
    DA3_PROCESSED = "eservice_da3_processed"
    DA4_PROCESSED = "eservice_da4_processed"
    SCARD1_PROCESSED = "eservice_scard1_processed"


def client_ip(request) -> str | None:
    return client_address(request)  # one place decides the address (accounts.client)


def record(
    kind: str, *, request=None, actor=None, subject=None, actor_label: str = "", participant=None, **data
) -> AuditEvent:
    """`participant` names the firm when the subject is not one of its people (e.g. DA4)."""
    subject = subject if subject is not None else actor
    data = {key: str(value) if isinstance(value, Promise) else value for key, value in data.items()}
    participant_id = (
        getattr(participant, "pk", None)
        or getattr(subject, "participant_id", None)
        or getattr(actor, "participant_id", None)
    )
    event = AuditEvent.objects.create(
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=(actor.pk if getattr(actor, "pk", None) else actor_label or "anonymous")[:64],
        subject=subject if getattr(subject, "pk", None) else None,
        subject_label=(getattr(subject, "pk", None) or actor_label or "")[:64],
        participant_id=participant_id,
        source_ip=client_ip(request),
        data=data,
    )
    log.info("audit", extra={"event": kind, "actor": event.actor_label, "subject": event.subject_label})
    return event
