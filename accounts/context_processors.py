from . import policies


def smartcard(request):
    """Whether the landing pages offer the smartcard logon (until decommissioning)."""
    return {"smartcard_available": policies.smartcard_available()}
