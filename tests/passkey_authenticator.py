"""A software WebAuthn authenticator for tests and the benchmark (issue 18).

It holds one ES256 key pair and answers the options JSON the server hands to the
browser (``navigator.credentials.create`` / ``get``) with the JSON a browser
would post back, in the shape py_webauthn's ``parse_registration_credential_json``
and ``parse_authentication_credential_json`` read. The origin is a parameter, so a
test can play a relay page on another origin; the relying party ID comes from the
options (registration) or from the argument (assertion; options carry ``rpId``).

It signs honestly: nothing here knows the server's secrets, so an assertion it
makes is exactly what a real authenticator in the victim's hand would make.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

# Authenticator data flags (WebAuthn Level 3, 6.1).
FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40

# COSE: kty EC2 (2), alg ES256 (-7), crv P-256 (1).
COSE_ES256 = -7


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    """One credential (key pair + id) on a software authenticator.

    ``sign_count`` starts at 0 and goes up by one per assertion, as a counting
    authenticator does; ``aaguid`` is all zeroes, as attestation "none" sends.
    """

    rp_id: str = "localhost"
    origin: str = "http://localhost:8000"
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0
    user_handle: bytes | None = None

    # --- the key, in the forms the server and Chromium want -----------------

    @property
    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: COSE_ES256,  # alg
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    @property
    def private_key_pkcs8_b64(self) -> str:
        """The private key as Chromium's ``WebAuthn.addCredential`` takes it
        (base64 of PKCS#8 DER; the DevTools protocol sends bytes as base64)."""
        der = self.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        return base64.b64encode(der).decode("ascii")

    def virtual_credential(self, *, user_handle: bytes | None = None) -> dict:
        """The ``credential`` argument of CDP ``WebAuthn.addCredential``."""
        handle = user_handle if user_handle is not None else self.user_handle
        credential = {
            "credentialId": base64.b64encode(self.credential_id).decode("ascii"),
            "isResidentCredential": handle is not None,
            "rpId": self.rp_id,
            "privateKey": self.private_key_pkcs8_b64,
            "signCount": self.sign_count,
        }
        if handle is not None:
            credential["userHandle"] = base64.b64encode(handle).decode("ascii")
        return credential

    # --- the pieces of a response ------------------------------------------

    def _authenticator_data(self, flags: int, attested: bytes = b"") -> bytes:
        rp_id_hash = hashlib.sha256(self.rp_id.encode("utf-8")).digest()
        return rp_id_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        # Compact JSON with type, challenge, origin first: the order browsers use.
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode("utf-8")

    @staticmethod
    def _options(options: dict | str) -> dict:
        options = json.loads(options) if isinstance(options, str) else dict(options)
        # The library's begin views wrap nothing; some callers hand {"publicKey": ...}.
        return options.get("publicKey", options)

    # --- ceremonies ---------------------------------------------------------

    def register(self, options: dict | str, *, origin: str | None = None, user_verified: bool = True) -> dict:
        """The registration response JSON for ``PublicKeyCredentialCreationOptions``
        JSON (attestation "none")."""
        options = self._options(options)
        if "rp" in options and options["rp"].get("id"):
            self.rp_id = options["rp"]["id"]
        if options.get("user", {}).get("id"):
            self.user_handle = b64url_decode(options["user"]["id"])
        attested = (
            bytes(16)  # aaguid
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self.cose_public_key
        )
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if user_verified else 0)
        auth_data = self._authenticator_data(flags, attested)
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    def assert_(
        self,
        options: dict | str,
        *,
        origin: str | None = None,
        user_verified: bool = True,
        rp_id: str | None = None,
    ) -> dict:
        """The authentication (assertion) response JSON for
        ``PublicKeyCredentialRequestOptions`` JSON. ``rp_id`` overrides the
        options' ``rpId`` (a relay that forwards to another relying party)."""
        options = self._options(options)
        if rp_id is not None:
            self.rp_id = rp_id
        elif options.get("rpId"):
            self.rp_id = options["rpId"]
        self.sign_count += 1
        flags = FLAG_UP | (FLAG_UV if user_verified else 0)
        auth_data = self._authenticator_data(flags)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.private_key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if self.user_handle is not None:
            response["userHandle"] = b64url(self.user_handle)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": response,
            "clientExtensionResults": {},
        }


def enrol_credential(user, authenticator: SoftAuthenticator | None = None, *, name: str = ""):
    """Test set-up: a ``WebAuthnCredential`` row for ``user`` holding the
    authenticator's public key, as a finished registration would leave it.
    Returns ``(authenticator, credential)``."""
    from django_otp_webauthn.models import WebAuthnCredential, WebAuthnUserHandle

    authenticator = authenticator or SoftAuthenticator()
    if authenticator.user_handle is None:
        authenticator.user_handle = WebAuthnUserHandle.get_handle_for_user(user)
    credential = WebAuthnCredential.objects.create(
        user=user,
        name=name or "Test passkey",
        aaguid="00000000-0000-0000-0000-000000000000",
        credential_id=authenticator.credential_id,
        public_key=authenticator.cose_public_key,
        sign_count=authenticator.sign_count,
        transports=["internal"],
        discoverable=True,
        confirmed=True,
    )
    return authenticator, credential
