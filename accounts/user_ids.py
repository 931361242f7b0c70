"""User ID formats of the Information Package (§3.2) and "Generate User ID".

Every User ID is eight characters: a six-character prefix that names the
participant, then two characters. The prefix is

=========== ============================ ===========
HKSCC CP    participant ID               ``B01234``
HKSCC DB    participant ID               ``BNK999``
HKCC CP     ``HK`` + customer code + 1-4 ``HKABC1``
SEOCH CP    ``HK`` + customer code + 1-4 ``HKABC2``
=========== ============================ ===========

and the suffix is two alphanumerics for a user (``B0123401``) or X/Y/Z and
1-9 for a Delegated Administrator (``B01234X1``). Decisions (docs/decisions.md):
the SEOCH DA shape follows the seed's example (``HKABC2X1``); a user suffix of
DA shape is refused so that a User ID alone says whether it is a DA; an ID once
issued is never issued again, even after the profile is deleted.
"""

from __future__ import annotations

import re
from itertools import product
from string import ascii_uppercase, digits
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import Participant

USER_ID_LENGTH = 8

PARTICIPANT_ID_PATTERNS = {
    "HKSCC_CP": (re.compile(r"[A-Z]\d{5}"), _("a letter and 5 digits, e.g. B01234")),
    "HKSCC_DB": (re.compile(r"[A-Z]{3}\d{3}"), _("3 letters and 3 digits, e.g. BNK999")),
    "HKCC": (re.compile(r"HK[A-Z0-9]{3}[1-4]"), _("HK, the 3-character customer code and 1-4, e.g. HKABC1")),
    "SEOCH": (re.compile(r"HK[A-Z0-9]{3}[1-4]"), _("HK, the 3-character customer code and 1-4, e.g. HKABC2")),
}

DA_SUFFIX = re.compile(r"[XYZ][1-9]")
USER_SUFFIX = re.compile(r"[A-Z0-9]{2}")
ANY_USER_ID = re.compile(r"[A-Z0-9]{8}")

# Suffixes in the order "Generate User ID" proposes them: 01..99, then with letters.
_ALPHABET = digits + ascii_uppercase
USER_SUFFIXES = tuple(
    a + b for a, b in product(_ALPHABET, repeat=2) if a + b != "00" and not DA_SUFFIX.fullmatch(a + b)
)
DA_SUFFIXES = tuple(f"{letter}{n}" for letter in "XYZ" for n in range(1, 10))


class QuotaExhausted(Exception):
    """The participant has no spare user account left (§4.3.1)."""


def quota_exhausted(participant: Participant, *, pending: int = 0) -> QuotaExhausted:
    """The one message for a firm without a spare account (DMS and the back-office), in the
    language of the request."""
    params = {"participant": participant.participant_id, "max_users": participant.max_users, "pending": pending}
    if pending:
        message = gettext(
            "%(participant)s has no spare user account (MAX. NO. OF USERS: %(max_users)s, "
            "%(pending)s awaiting authorisation). Ask HKEX for more (eService DA4)."
        )
    else:
        message = gettext(
            "%(participant)s has no spare user account (MAX. NO. OF USERS: %(max_users)s). "
            "Ask HKEX for more (eService DA4)."
        )
    return QuotaExhausted(message % params)


def normalise_user_id(value: str) -> str:
    """User IDs are case-insensitive and surrounding blanks are not part of them."""
    return (value or "").strip().upper()


def participant_kind(clearing_house: str, is_designated_bank: bool) -> str:
    if clearing_house == "HKSCC":
        return "HKSCC_DB" if is_designated_bank else "HKSCC_CP"
    return clearing_house


def validate_participant_id(value: str, *, clearing_house: str, is_designated_bank: bool = False) -> None:
    kind = participant_kind(clearing_house, is_designated_bank)
    pattern, shape = PARTICIPANT_ID_PATTERNS[kind]
    if not pattern.fullmatch(value or ""):
        raise ValidationError(
            _("%(value)s is not a valid participant ID here: expected %(shape)s."),
            code="invalid_participant_id",
            params={"value": value, "shape": shape},
        )


def is_da_user_id(user_id: str) -> bool:
    return len(user_id) == USER_ID_LENGTH and bool(DA_SUFFIX.fullmatch(user_id[6:]))


def validate_user_id(value: str, *, participant: Participant, delegated_administrator: bool) -> None:
    """Raise ValidationError unless `value` is a User ID of this participant's format."""
    prefix = participant.participant_id
    if not ANY_USER_ID.fullmatch(value or ""):
        raise ValidationError(
            _("A User ID is 8 letters or digits, e.g. %(example)s."),
            code="invalid_user_id",
            params={"example": prefix + ("X1" if delegated_administrator else "01")},
        )
    if not value.startswith(prefix):
        raise ValidationError(
            _("User IDs of %(name)s start with %(prefix)s."),
            code="wrong_participant",
            params={"name": participant.name, "prefix": prefix},
        )
    suffix = value[len(prefix) :]
    if delegated_administrator and not DA_SUFFIX.fullmatch(suffix):
        raise ValidationError(
            _("A Delegated Administrator's User ID ends with X, Y or Z and a digit 1-9, e.g. %(example)s."),
            code="invalid_da_suffix",
            params={"example": prefix + "X1"},
        )
    if not delegated_administrator:
        if DA_SUFFIX.fullmatch(suffix):
            raise ValidationError(
                _("User IDs ending X1-Z9 are reserved for Delegated Administrators."),
                code="reserved_da_suffix",
            )
        if suffix == "00":
            raise ValidationError(
                _("%(value)s is not a valid User ID."), code="invalid_user_id", params={"value": value}
            )


def next_free_user_id(
    participant: Participant, *, delegated_administrator: bool = False, reserved: frozenset[str] = frozenset()
) -> str:
    """The User ID "Generate User ID" proposes: the first never-issued one, within quota,
    skipping `reserved` IDs (those that pending requests already hold)."""
    from .models import User

    if participant.spare_accounts() <= 0:
        raise quota_exhausted(participant)
    taken = set(reserved) | set(
        User.all_objects.filter(user_id__startswith=participant.participant_id).values_list("user_id", flat=True)
    )
    suffixes = DA_SUFFIXES if delegated_administrator else USER_SUFFIXES
    for suffix in suffixes:
        candidate = participant.participant_id + suffix
        if candidate not in taken:
            return candidate
    raise QuotaExhausted(
        gettext("Every User ID of %(participant)s of this kind has been issued.")
        % {"participant": participant.participant_id}
    )
