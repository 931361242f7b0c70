"""The HKEX Password Policy (§4, App. C step f) and the modern checks beside it.

Each rule is a small validator class in ``AUTH_PASSWORD_VALIDATORS``, as in
``django.contrib.auth.password_validation``, so operators can tune it. Each
failed rule is named in its own message. Where HKEX rules differ from NIST
SP 800-63B (composition rules, 90-day expiry) see docs/security.md.
"""

from __future__ import annotations

import re

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

HKEX_SPECIALS = "!@#$%^&*()"
# Longest password accepted. Argon2 hashes every byte (nothing is truncated);
# the cap only keeps a single request from costing unbounded CPU.
MAX_PASSWORD_LENGTH = 256


class HkexPasswordPolicyValidator:
    """At least 16 characters, and at least one number, one lower-case letter,
    one capital and one special character from !@#$%^&*(). Other characters
    (spaces, Unicode, other punctuation) are allowed."""

    def __init__(self, min_length: int = 16, specials: str = HKEX_SPECIALS, max_length: int = MAX_PASSWORD_LENGTH):
        self.min_length = min_length
        self.specials = specials
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        errors = []
        if len(password) < self.min_length:
            errors.append(
                ValidationError(
                    ngettext(
                        "At least %(min_length)d character.",
                        "At least %(min_length)d characters.",
                        self.min_length,
                    ),
                    code="password_too_short",
                    params={"min_length": self.min_length},
                )
            )
        if len(password) > self.max_length:
            errors.append(
                ValidationError(
                    _("At most %(max_length)d characters."),
                    code="password_too_long",
                    params={"max_length": self.max_length},
                )
            )
        if not any(c.isdigit() for c in password):
            errors.append(ValidationError(_("At least 1 number."), code="password_no_number"))
        if not any(c.islower() for c in password):
            errors.append(ValidationError(_("At least 1 lower letter."), code="password_no_lower"))
        if not any(c in self.specials for c in password):
            errors.append(
                ValidationError(
                    _("At least 1 special character from %(specials)s"),
                    code="password_no_special",
                    params={"specials": self.specials},
                )
            )
        if not any(c.isupper() for c in password):
            errors.append(ValidationError(_("At least 1 capital letter."), code="password_no_capital"))
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _(
            "At least %(min_length)d characters, with at least 1 number, 1 lower letter, "
            "1 special character from %(specials)s and 1 capital letter."
        ) % {"min_length": self.min_length, "specials": self.specials}


# Words of firm names too common to count as "the firm's name".
_GENERIC_FIRM_WORDS = {
    "LIMITED",
    "LTD",
    "COMPANY",
    "CO",
    "SECURITIES",
    "BANK",
    "BROKERAGE",
    "HOLDINGS",
    "INTERNATIONAL",
    "HONG",
    "KONG",
    "HK",
    "THE",
    "AND",
    "OF",
    "FUTURES",
    "OPTIONS",
}


class ContextWordsValidator:
    """Refuses passwords that contain the User ID, the firm's name or ID, or a
    name of the service ("HKEX", "CCASS", ...): the first guesses of an attacker."""

    def __init__(self, service_words=("HKEX", "CCASS", "CCMS")):
        self.service_words = tuple(w.upper() for w in service_words)

    def _firm_words(self, user) -> list[str]:
        participant = getattr(user, "participant", None) if user is not None else None
        if participant is None:
            return []
        words = [participant.participant_id, re.sub(r"\W+", "", participant.name.upper())]
        words += [w for w in re.split(r"\W+", participant.name.upper()) if len(w) >= 4 and w not in _GENERIC_FIRM_WORDS]
        return [w for w in words if w]

    def validate(self, password: str, user=None) -> None:
        folded = re.sub(r"\s+", "", password.upper())
        errors = []
        user_id = getattr(user, "user_id", "") if user is not None else ""
        if user_id and user_id.upper() in folded:
            errors.append(ValidationError(_("Must not contain your User ID."), code="password_contains_user_id"))
        if any(word in folded for word in self._firm_words(user)):
            errors.append(ValidationError(_("Must not contain your firm's name or ID."), code="password_contains_firm"))
        found = [w for w in self.service_words if w in folded]
        if found:
            errors.append(
                ValidationError(
                    _("Must not contain %(words)s."),
                    code="password_contains_service_name",
                    params={"words": ", ".join(found)},
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _("Must not contain your User ID, your firm's name, HKEX or CCASS.")


class PasswordHistoryValidator:
    """The new password differs from the last `history` passwords (the current one included)."""

    def __init__(self, history: int = 5):
        self.history = history

    def validate(self, password: str, user=None) -> None:
        if user is None or user._state.adding:
            return
        from .models import PasswordHistory

        hashes = list(
            PasswordHistory.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[: self.history]
        )
        if user.password and user.password not in hashes:
            hashes.insert(0, user.password)
        if any(check_password(password, h) for h in hashes[: self.history]):
            raise ValidationError(
                ngettext(
                    "Must differ from your last password.",
                    "Must differ from your last %(history)d passwords.",
                    self.history,
                ),
                code="password_reused",
                params={"history": self.history},
            )

    def password_changed(self, password: str, user=None) -> None:
        if user is None or not user.password:
            return
        from .models import PasswordHistory

        PasswordHistory.objects.create(user=user, password=user.password)
        stale = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-id")[self.history :]
        PasswordHistory.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()

    def get_help_text(self) -> str:
        return _("Must differ from your last %(history)d passwords.") % {"history": self.history}
