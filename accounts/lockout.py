"""Lockout (§4.1.2, §4.2.2): 5 consecutive unsuccessful logons within 30 minutes
lock the account; 3 consecutive wrong OTPs count as 1 unsuccessful logon.

Counting is per account (never per address or session) and atomic: each
change runs in a transaction on the person's row locked with SELECT ... FOR
UPDATE (on SQLite, IMMEDIATE transactions serialise writers), so concurrent
requests in any number of web processes count exactly (SECURITY.md 1-6).
While an account is locked nothing more is counted. A lock lasts until a DA
(users) or HKEX (DAs) lifts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac

from ccass_portal import clock

from . import audit, user_ids
from .audit import Event
from .models import KeyedAttempts, User


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int
    window: timedelta
    otp_failures_per_logon_failure: int

    @classmethod
    def from_settings(cls) -> LockoutPolicy:
        return cls(
            failures=settings.PORTAL_LOCKOUT_FAILURES,
            window=timedelta(seconds=settings.PORTAL_LOCKOUT_WINDOW),
            otp_failures_per_logon_failure=settings.PORTAL_OTP_FAILURES_PER_LOGON_FAILURE,
        )


def _locked_row(user: User) -> User:
    return User.all_objects.select_for_update().get(pk=user.pk)


def _recent(times: list[float], policy: LockoutPolicy) -> list[float]:
    """Failures still inside the window: one 29:59 old counts, one 30:01 old does not."""
    oldest = (clock.now() - policy.window).timestamp()
    return [t for t in times if t >= oldest]


def _count_logon_failure(row: User, policy: LockoutPolicy, *, request) -> bool:
    """Add one failed logon to a locked row; lock on reaching the limit. Returns locked."""
    failures = _recent(row.logon_failures, policy) + [clock.now().timestamp()]
    row.logon_failures = failures[-policy.failures :]
    fields = ["logon_failures"]
    if len(failures) >= policy.failures:
        row.locked_at = clock.now()
        row.logon_failures = []
        row.otp_failures = 0
        row.rotate_security_stamp()
        fields += ["locked_at", "otp_failures", "security_stamp"]
        audit.record(Event.ACCOUNT_LOCKED, request=request, subject=row, failures=policy.failures)
    row.save(update_fields=fields)
    return row.is_locked


def record_logon_failure(user: User, *, request=None, reason: str = "password") -> bool:
    """One unsuccessful logon attempt of `user`. Returns True if the account is (now) locked."""
    policy = LockoutPolicy.from_settings()
    with transaction.atomic():
        row = _locked_row(user)
        if row.is_locked:
            # While locked, nothing more is counted (SECURITY.md 4); the attempt is still audited.
            audit.record(Event.LOGON_FAILURE, request=request, subject=row, reason="locked")
            return True
        audit.record(Event.LOGON_FAILURE, request=request, subject=row, reason=reason)
        locked = _count_logon_failure(row, policy, request=request)
    user.locked_at = row.locked_at
    return locked


def record_otp_failure(user: User, *, request=None, replay: bool = False, **detail) -> bool:
    """One wrong OTP. Every third consecutive one is an unsuccessful logon. Returns locked.
    `detail` goes into the audit row (e.g. a failed passkey ceremony's factor and request)."""
    policy = LockoutPolicy.from_settings()
    with transaction.atomic():
        row = _locked_row(user)
        if row.is_locked:
            return True
        audit.record(Event.OTP_REPLAY if replay else Event.OTP_FAILURE, request=request, subject=row, **detail)
        row.otp_failures += 1
        if row.otp_failures >= policy.otp_failures_per_logon_failure:
            row.otp_failures = 0
            row.save(update_fields=["otp_failures"])
            locked = _count_logon_failure(row, policy, request=request)
        else:
            row.save(update_fields=["otp_failures"])
            locked = False
    user.locked_at = row.locked_at
    return locked


def record_logon_success(user: User, *, at) -> bool:
    """A complete logon resets both counts and stamps the access (last_login, last_access_at).
    Returns False (and changes nothing) if the account was locked meanwhile: then the logon must
    not go on. One conditional UPDATE: atomic against a concurrent lock without a row lock."""
    return bool(
        User.all_objects.filter(pk=user.pk, locked_at__isnull=True).update(
            logon_failures=[], otp_failures=0, last_login=at, last_access_at=at
        )
    )


def is_locked(user: User) -> bool:
    return User.all_objects.filter(pk=user.pk, locked_at__isnull=False).exists()


def lift_lock(user: User, *, actor=None, request=None) -> None:
    """Unlock (a DA for a user, HKEX for a DA). Counting starts afresh."""
    with transaction.atomic():
        row = _locked_row(user)
        was_locked = row.is_locked
        row.locked_at = None
        row.logon_failures = []
        row.otp_failures = 0
        row.save(update_fields=["locked_at", "logon_failures", "otp_failures"])
        if was_locked:
            audit.record(Event.ACCOUNT_UNLOCKED, request=request, actor=actor, subject=row)
    user.locked_at = None


# -- User IDs that name nobody ---------------------------------------------------------
# A stranger must not learn from the locked message which IDs exist: a typed ID that names
# nobody is counted on the same clock and window, and "locked" after the same number of
# failures, for as long as a real lock lasts (no DA ever lifts it). Keyed by a keyed hash
# of the normalised ID, so the table holds nothing that was typed.


def attempts_key(kind: str, value: str) -> str:
    return f"{kind}:" + salted_hmac(f"accounts.lockout.{kind}", value).hexdigest()


def _unknown_key(typed_user_id: str) -> str:
    return attempts_key("unknown-id", user_ids.normalise_user_id(typed_user_id))


def unknown_id_is_locked(typed_user_id: str) -> bool:
    return KeyedAttempts.objects.filter(key=_unknown_key(typed_user_id), locked_at__isnull=False).exists()


def record_unknown_id_failure(typed_user_id: str) -> bool:
    """One failed logon of an ID that names nobody (audited by the caller). Returns locked."""
    policy = LockoutPolicy.from_settings()
    with transaction.atomic():
        row, _ = KeyedAttempts.objects.select_for_update().get_or_create(key=_unknown_key(typed_user_id))
        if row.locked_at is not None:
            return True
        failures = _recent(row.times, policy) + [clock.now().timestamp()]
        row.times = failures[-policy.failures :]
        if len(failures) >= policy.failures:
            row.locked_at = clock.now()
            row.times = []
        row.save(update_fields=["times", "locked_at"])
    return row.locked_at is not None


def record_unknown_id_code_failure(typed_user_id: str) -> bool:
    """A wrong code (self-service reset) for an ID that names nobody: every third is a
    failed logon, as for a person (record_otp_failure). Returns locked."""
    if unknown_id_is_locked(typed_user_id):
        return True
    policy = LockoutPolicy.from_settings()
    key = attempts_key("unknown-id-otp", user_ids.normalise_user_id(typed_user_id))
    with transaction.atomic():
        row, _ = KeyedAttempts.objects.select_for_update().get_or_create(key=key)
        row.times = row.times + [clock.now().timestamp()]
        third = len(row.times) >= policy.otp_failures_per_logon_failure
        if third:
            row.times = []
        row.save(update_fields=["times"])
    return record_unknown_id_failure(typed_user_id) if third else False


# Kinds counted inside the lockout window; "unknown-id-otp" counts every third wrong code with
# no window (as a person's otp_failures), so its rows are never stale.
WINDOWED_KINDS = ("unknown-id", "reset-id", "reset-address")


def sweep_keyed_attempts() -> int:
    """Delete the rows that count nothing any more: not locked, and every time outside the window.
    Such a row answers exactly as an absent one (`_recent` drops those times), so no answer
    changes; a locked row stays, as a real lock does. Returns how many rows went."""
    policy = LockoutPolicy.from_settings()
    stale = []
    rows = KeyedAttempts.objects.filter(locked_at__isnull=True).values_list("pk", "key", "times")
    for pk, key, times in rows.iterator(chunk_size=2000):
        if key.split(":", 1)[0] in WINDOWED_KINDS and not _recent(times, policy):
            stale.append(pk)
    deleted = 0
    for start in range(0, len(stale), 1000):
        with transaction.atomic():
            # Re-checked under the delete: a row counted meanwhile has a recent time now.
            rows = KeyedAttempts.objects.select_for_update().filter(pk__in=stale[start : start + 1000])
            gone = [row.pk for row in rows if row.locked_at is None and not _recent(row.times, policy)]
            deleted += KeyedAttempts.objects.filter(pk__in=gone).delete()[0]
    return deleted


def within_limit(key: str, limit: int) -> bool:
    """Count one request under `key`; False (and not counted) once `limit` requests were
    made within the lockout window. For throttles keyed by something other than a person."""
    policy = LockoutPolicy.from_settings()
    with transaction.atomic():
        row, _ = KeyedAttempts.objects.select_for_update().get_or_create(key=key)
        recent = _recent(row.times, policy)
        allowed = len(recent) < limit
        row.times = recent + [clock.now().timestamp()] if allowed else recent
        row.save(update_fields=["times"])
    return allowed
