"""A software WebAuthn authenticator for tests: one ES256 key per credential, "none"
attestation, real authenticatorData, clientDataJSON and signatures, so the server's
verification (py_webauthn) runs exactly as it does for a browser.

It answers the options the server sends (`create` for registration, `get` for
authentication) with the JSON a browser's `PublicKeyCredential.toJSON()` gives. An
`origin` other than the portal's plays a relay (phishing) page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    credential_id: bytes
    rp_id: str
    user_handle: bytes
    key: ec.EllipticCurvePrivateKey
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def virtual_credential(self) -> dict:
        """The `credential` argument of CDP `WebAuthn.addCredential` (bytes as plain base64,
        the private key as PKCS#8 DER): a resident credential for this RP and user."""
        der = self.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        return {
            "credentialId": base64.b64encode(self.credential_id).decode(),
            "isResidentCredential": True,
            "rpId": self.rp_id,
            "privateKey": base64.b64encode(der).decode(),
            "userHandle": base64.b64encode(self.user_handle).decode(),
            "signCount": self.sign_count,
        }


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost:8000"
    user_verified: bool = True
    credentials: list[SoftCredential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def _flags(self) -> int:
        return UP | (UV if self.user_verified else 0)

    def create(self, options: dict, *, origin: str | None = None) -> dict:
        """navigator.credentials.create(): a new credential for the options' RP and user."""
        rp_id = options["rp"]["id"]
        credential = SoftCredential(
            credential_id=os.urandom(32),
            rp_id=rp_id,
            user_handle=unb64url(options["user"]["id"]),
            key=ec.generate_private_key(ec.SECP256R1()),
        )
        self.credentials.append(credential)
        attested = bytes(16) + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags() | AT])
            + struct.pack(">I", 0)
            + attested
            + credential.cose_public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
            "authenticatorAttachment": "platform",
        }

    def get(self, options: dict, *, origin: str | None = None, credential: SoftCredential | None = None) -> dict:
        """navigator.credentials.get(): an assertion by the first allowed credential held."""
        if credential is None:
            allowed = {unb64url(c["id"]) for c in options.get("allowCredentials", [])}
            credential = next(c for c in self.credentials if not allowed or c.credential_id in allowed)
        credential.sign_count += 1
        auth_data = (
            hashlib.sha256(credential.rp_id.encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", credential.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }


def enrol_credential(user, authenticator: SoftAuthenticator | None = None, *, name: str = "", rp_id: str = "localhost"):
    """Test set-up: a new key pair on `authenticator` and the `WebAuthnCredential` row a
    finished registration would leave for `user`. Returns `(authenticator, row)`; the new
    credential is `authenticator.credentials[-1]`."""
    from django_otp_webauthn.models import WebAuthnCredential, WebAuthnUserHandle

    authenticator = authenticator or SoftAuthenticator()
    credential = SoftCredential(
        credential_id=os.urandom(32),
        rp_id=rp_id,
        user_handle=WebAuthnUserHandle.get_handle_for_user(user),
        key=ec.generate_private_key(ec.SECP256R1()),
    )
    authenticator.credentials.append(credential)
    row = WebAuthnCredential.objects.create(
        user=user,
        name=name or "Test passkey",
        aaguid="00000000-0000-0000-0000-000000000000",
        credential_id=credential.credential_id,
        public_key=credential.cose_public_key(),
        sign_count=0,
        transports=["internal"],
        discoverable=True,
        confirmed=True,
    )
    return authenticator, row
