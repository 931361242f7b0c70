"""A Chromium virtual authenticator for the browser tests (the DevTools protocol's WebAuthn
domain, reached through a CDP session of the page): the passkey tests of the logon
(test_passkeys.py) and of DMS approval (test_passkey_approval.py) share it."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.passkey_authenticator import SoftAuthenticator


class VirtualAuthenticator:
    """A platform authenticator with user verification, through a CDP session of the page."""

    def __init__(self, page: Page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]

    def add(self, soft: SoftAuthenticator) -> None:
        """Put a credential the server already knows (enrol_credential) on this authenticator."""
        self.cdp.send("WebAuthn.addCredential", {"authenticatorId": self.id, "credential": soft.virtual_credential()})

    def credentials(self) -> list:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def user_verifies(self, verified: bool) -> None:
        self.cdp.send("WebAuthn.setUserVerified", {"authenticatorId": self.id, "isUserVerified": verified})
