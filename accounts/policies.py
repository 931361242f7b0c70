"""Small policies of the 2FA migration that several screens ask."""

from django.conf import settings

from ccass_portal import clock


def smartcard_available() -> bool:
    """Smartcard logon is offered until the decommissioning date (§5)."""
    return clock.today() < settings.PORTAL_SMARTCARD_DECOMMISSION_DATE


def card_logs_on(user) -> bool:
    """The person's simulated card still logs on: a card, cards not yet decommissioned (§5),
    and a profile made before the 2FA launch (later ones use only 2FA, §4)."""
    return smartcard_available() and bool(user.srn) and not user.created_after_launch


def twofa_launched() -> bool:
    return clock.today() >= settings.PORTAL_LAUNCH_DATE
