"""System checks of the portal's own settings (run by `manage.py check`)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def demo_mode_in_a_deployment(app_configs=None, **kwargs):
    """Demo mode seeds known accounts, shows every e-mail OTP in the demo outbox and lets the demo
    clock age out failed logons: never for a deployment others use (docs/security.md "Demo mode")."""
    if not settings.PORTAL_DEMO:
        return []
    return [
        checks.Warning(
            "PORTAL_DEMO is on: demo accounts, the demo outbox and the demo clock are part of this site.",
            hint="Set PORTAL_DEMO=false for any deployment that people other than the demo operator can reach.",
            id="portal.W001",
        )
    ]
