"""The demo's participants and accounts (documented in README.md, "Demo accounts")."""

import secrets
import string
from datetime import datetime
from zoneinfo import ZoneInfo

DEMO_SMARTCARD_PASSWORD = "246810"
DEMO_OPERATOR_ID = "HKEXOPS1"
# The operator's password is made at install (seed_demo prints it once), never a constant: whoever
# knew a published one would own /admin/ of any demo others can reach (issue 12 finding 4).
# Tests and scripted demos may choose it through this environment variable.
DEMO_OPERATOR_PASSWORD_ENV = "PORTAL_DEMO_OPERATOR_PASSWORD"
CERTIFICATE_EXPIRY = datetime(2030, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Hong_Kong"))

# participant ID, name, clearing house, designated bank, customer code, max users, e-mail domain,
# (maker, checker, checker), business users
PARTICIPANTS = [
    (
        "B01234",
        "ABC SECURITIES",
        "HKSCC",
        False,
        "",
        20,
        "abc-securities.example",
        ("B01234X1", "B01234Y1", "B01234Z1"),
        ["B0123401", "B0123402", "B0123403", "B0123404", "B0123405"],
    ),
    (
        "BNK999",
        "DEMO DESIGNATED BANK",
        "HKSCC",
        True,
        "",
        10,
        "demo-bank.example",
        ("BNK999X1", "BNK999Y1", "BNK999Z1"),
        ["BNK99901", "BNK99902"],
    ),
    (
        "HKABC1",
        "ABC FUTURES",
        "HKCC",
        False,
        "ABC",
        10,
        "abc-futures.example",
        ("HKABC1X1", "HKABC1Y1", "HKABC1Z1"),
        ["HKABC101", "HKABC102"],
    ),
    (
        "HKABC2",
        "ABC OPTIONS",
        "SEOCH",
        False,
        "ABC",
        10,
        "abc-options.example",
        ("HKABC2X1", "HKABC2Y1", "HKABC2Z1"),
        ["HKABC201", "HKABC202"],
    ),
]

OVERNIGHT_REPORT_DAYS = 3  # seed_demo makes each firm's reports for the last 3 business days

SURNAMES = ["CHAN", "WONG", "LEE", "CHEUNG", "LAU", "NG", "HO", "LAM", "YEUNG", "TSANG"]


def new_operator_password(length: int = 20) -> str:
    """A random password meeting the HKEX rule: a digit, a lower-case letter, a capital and a special
    character from !@#$%^&*() (accounts.password_validation), none of the context words."""
    specials = "!@#$%^&*()"
    groups = (string.ascii_lowercase, string.ascii_uppercase, string.digits, specials)
    alphabet = "".join(groups)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        upper = password.upper()
        if all(any(c in group for c in password) for group in groups) and "HKEX" not in upper and "CCASS" not in upper:
            return password


def srn_for(user_id: str) -> str:
    """A made-up card serial number, stable per User ID and distinct for each: the User ID's
    8 characters in hex (16 characters), so no two demo cards share an SRN (docs/security.md)."""
    return user_id.encode("ascii").hex().upper()
