"""Encryption at rest for OTP secrets (SECURITY.md 11) and queued e-mail codes.

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`. Keys come from
PORTAL_OTP_ENCRYPTION_KEYS (newest first, so keys can be rotated); without it,
a key is derived from SECRET_KEY with HKDF, which is enough for the demo but
ties the secrets to SECRET_KEY.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(secret: str, purpose: bytes) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())
    return base64.urlsafe_b64encode(key)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    return MultiFernet([Fernet(_derive(secret_key, b"ccass-portal otp sealing"))])


def _current() -> MultiFernet:
    return _fernet(tuple(getattr(settings, "PORTAL_OTP_ENCRYPTION_KEYS", ()) or ()), settings.SECRET_KEY)


def seal(plain: bytes) -> str:
    return _current().encrypt(plain).decode()


def unseal(token: str) -> bytes:
    return _current().decrypt(token.encode())


def digest(code: str) -> str:
    """A keyed hash of a short code, for storing e-mail OTPs hashed (16 hex digits fit django-otp's field)."""
    key = _derive(settings.SECRET_KEY, b"ccass-portal otp digest")
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()[:16]
