"""Whom to ask: the HKEX hotline and e-mail address of each terminal (Information
Package §7), shown wherever a person is told to ask HKEX or their DA."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import User
from .user_ids import normalise_user_id


@dataclass(frozen=True)
class Contact:
    terminal: str
    hotline: str
    hours: str
    email: str


CONTACTS = {
    "CCASS": Contact(
        "CCASS",
        "2979 7111",
        _("During normal office hours from 09:00 to 18:00 (Mondays to Fridays, excluding public holidays)"),
        "ClearingPS@hkex.com.hk",
    ),
    "CCMS": Contact("CCMS", "2979 7222", "", "ClearingPSD@hkex.com.hk"),
}


def terminal_of(who: User | str | None) -> str | None:
    """CCASS or CCMS for a signed-in person (their participant's clearing house), or for a
    typed User ID by its shape alone (HKCC and SEOCH IDs start with HK, §3.2), so what a
    stranger sees never depends on whether the account exists. None when unknown."""
    if isinstance(who, User):
        return who.participant.terminal if who.participant_id else None
    user_id = normalise_user_id(who or "")
    if len(user_id) != 8:
        return None
    return "CCMS" if user_id.startswith("HK") else "CCASS"


def contacts_for(who: User | str | None) -> list[Contact]:
    terminal = terminal_of(who)
    return [CONTACTS[terminal]] if terminal else list(CONTACTS.values())
