"""The user profile as DMS shows and changes it (§4.3.1, App. A, App. D.c).

`snapshot` is the one place that says which fields a maker may change and how
they are kept in a request's JSON (dates as ISO strings, the limit as a string).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from accounts.models import ClearingHouse, Participant, Role, User
from ccass_portal import clock

# "Selected User Groups" as the App. A confirmation screen lists them.
USER_GROUPS = tuple(
    "11 12 13 14 15 16 17 18 19 20 21 22 23 24 51 52 54 55 A AA AB AC AD C CR D DV GX E F F1 H I J K L M N NU NV "
    "O P PD PM Q R RA RB RD RU RX RY RZ SA SM ST WA WB WC WD WE WF WG".split()
)

# The seeds show "Cash" for HKSCC participants; CCMS participants clear derivatives.
CLEARING_HOUSE_OPTIONS = {
    ClearingHouse.HKSCC: ("Cash",),
    ClearingHouse.HKCC: ("Derivatives",),
    ClearingHouse.SEOCH: ("Derivatives",),
}
# The seeds show C3T (Create) and CJT (Change).
ACCESS_CHANNELS = ("C3T", "CJT")
MAX_TRANSACTION_LIMIT = Decimal("9999999999.99")  # the seed's "Default 9,999,999,999.99"

PROFILE_FIELDS = (
    "internal_external",
    "status",
    "surname",
    "other_names",
    "email",
    "enable_from",
    "disable_after",
    "clearing_house_options",
    "access_channel",
    "user_groups",
    "transaction_limit",
)

LABELS = {
    "user_id": _("User ID"),
    "role": _("Role"),
    "internal_external": _("Internal/External"),
    "status": _("User Status"),
    "surname": _("Surname"),
    "other_names": _("Other Names"),
    "email": _("Email"),
    "enable_from": _("Enable From"),
    "disable_after": _("Disable After"),
    "clearing_house_options": _("Clearing House Options"),
    "access_channel": _("Access Channel"),
    "user_groups": _("Selected User Groups"),
    "transaction_limit": _("Transaction limit (HKD)"),
    "unlock_reset": _("Unlock/Reset OTP Device Registration"),
    "smartcard_password_reset": _("Reset Smartcard Password"),
}


def clearing_house_options(participant: Participant) -> tuple[str, ...]:
    return CLEARING_HOUSE_OPTIONS[participant.clearing_house]


def to_json(field: str, value):
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if field == "user_groups":
        return sorted(value)
    return value


def from_json(field: str, value):
    if field in ("enable_from", "disable_after"):
        return date.fromisoformat(value) if value else None
    if field == "transaction_limit":
        return Decimal(value)
    return value


def snapshot(user: User) -> dict:
    """The changeable profile of `user`, as a request keeps it."""
    data = {"user_id": user.user_id, "role": user.role}
    data.update({field: to_json(field, getattr(user, field)) for field in PROFILE_FIELDS})
    return data


def display_date(value: str | None) -> str:
    """DD/MM/YY, as the DMS screens show dates."""
    return date.fromisoformat(value).strftime("%d/%m/%y") if value else ""


def rows(data: dict) -> list[tuple[str, str]]:
    """(label, shown value) pairs of a snapshot or payload, for pages and reports."""
    shown = []
    for key, label in LABELS.items():
        if key not in data:
            continue
        value = data[key]
        if key in ("enable_from", "disable_after"):
            value = display_date(value)
        elif key == "user_groups":
            value = " ".join(value)
        elif key == "role":
            value = Role(value).label
        elif key == "status" and value in User.Status.values:
            value = str(User.Status(value).label)  # shown in the reader's language
        elif key == "internal_external" and value in User.InternalExternal.values:
            value = str(User.InternalExternal(value).label)
        elif isinstance(value, bool):
            value = str(_("Yes")) if value else ""
        shown.append((label, "" if value is None else str(value)))
    return shown


def compare(before: dict, after: dict) -> list[tuple[str, str, str, bool]]:
    """(label, before, after, changed) for the request page and the audit trail."""
    identity = {key: before[key] for key in ("user_id", "role") if key in before}
    old, new = dict(rows(before)), dict(rows({**identity, **after}))
    labels = [label for label in LABELS.values() if label in old or label in new]
    return [
        (label, old.get(label, ""), new.get(label, ""), old.get(label, "") != new.get(label, "")) for label in labels
    ]


# -- a profile's status and deletion: one rule for DMS and the back-office (dms.backoffice) --


def set_profile_status(user: User, status: str) -> list[str]:
    """Sets User Status (unsaved) and returns the fields to save: disabling ends every
    session of the person (SECURITY.md 18)."""
    fields = ["status"]
    if status == User.Status.DISABLED and user.status != User.Status.DISABLED:
        user.rotate_security_stamp()
        fields.append("security_stamp")
    user.status = status
    return fields


def soft_delete_profile(user: User) -> None:
    """Soft delete: the ID stays taken for ever; every session of the person ends."""
    user.deleted_at = clock.now()
    user.is_active = False
    user.rotate_security_stamp()
    user.save(update_fields=["deleted_at", "is_active", "security_stamp"])
