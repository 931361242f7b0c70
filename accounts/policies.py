"""Small policies of the 2FA migration that several screens ask."""

from django.conf import settings

from ccass_portal import clock


def smartcard_available() -> bool:
    """Smartcard logon is offered until the decommissioning date (§5)."""
    return clock.today() < settings.PORTAL_SMARTCARD_DECOMMISSION_DATE


def twofa_launched() -> bool:
    return clock.today() >= settings.PORTAL_LAUNCH_DATE
