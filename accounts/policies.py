"""Small policies of the 2FA migration that several screens ask."""

from django.conf import settings
from django.db.models import Q

from ccass_portal import clock


def smartcard_available() -> bool:
    """Smartcard logon is offered until the decommissioning date (§5)."""
    return clock.today() < settings.PORTAL_SMARTCARD_DECOMMISSION_DATE


def card_logs_on(user) -> bool:
    """The person's simulated card still logs on: a card, cards not yet decommissioned (§5),
    a certificate not yet expired, and a profile made before the 2FA launch (later ones use
    only 2FA, §4). `cards_that_log_on` is the same rule as a query; keep them together."""
    return (
        smartcard_available()
        and bool(user.srn)
        and not user.created_after_launch
        and (user.certificate_expiry is None or user.certificate_expiry > clock.now())
    )


def cards_that_log_on() -> Q:
    """`card_logs_on` as a filter on people (the readiness figures count with it)."""
    if not smartcard_available():
        return Q(pk__isnull=True)
    return (
        ~Q(srn="")
        & Q(created_after_launch=False)
        & (Q(certificate_expiry__isnull=True) | Q(certificate_expiry__gt=clock.now()))
    )


def twofa_launched() -> bool:
    return clock.today() >= settings.PORTAL_LAUNCH_DATE
