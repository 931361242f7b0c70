"""Work a web worker does once at start instead of on its first requests.

Without it the first logon a worker serves also compiles the logon templates and imports argon2's
bindings (Django's hashers import their library on first use): a slower first logon after every
restart, and memory that shows up as growth during a hash (peak RSS, docs/benchmarks.md). The same
goes for OpenSSL's cipher set-up on the first app code checked (the secret is sealed at rest)."""

import gc
from pathlib import Path

from django.contrib.auth.hashers import get_hashers
from django.template import engines
from django.template.loader import get_template

from otp import sealing

# The admin's templates (HKEX operators only) compile on first use: 1.5 MiB per worker that the
# pages people log on through never need (issue 19, idle RSS per worker). So do the pages of DMS,
# the back-office and the demo (0.8 MiB): behind a logon whose pages (accounts/, base.html) are
# warmed, compiled after that logon's hash, in the memory argon2's block leaves free.
# Neither do the account pages a logon never shows (Authentication Settings, Change Password, the
# self-service reset, adding a passkey) nor the Terminal's pages past its menu: 0.3 MiB. Nor the
# pages of a logon that is not the everyday one: the first-time setup (once per person), the 90-day
# change, the smartcard logon (until decommissioning) and the passkey logon (passkeys are off by
# default): 0.1 MiB, a few milliseconds once per worker on first use.
NOT_WARMED = (
    "admin/",
    "otp/admin",  # the admin's, in django-otp's and contrib.auth's folders
    "otp_totp/admin",
    "auth/widgets",
    "accounts/setup",
    "accounts/register",
    "accounts/skip_warning",
    "accounts/expired",
    "accounts/smartcard",
    "accounts/passkey",
    "accounts/_passkey_",
    "registration/",
    "dms/",
    "backoffice/",
    "demo/",
    "accounts/authentication_settings",
    "accounts/change_password",
    "accounts/reset_",
    "accounts/_step_up_code",
    "portal/overnight_reports",
    "portal/function_not_available",
    "portal/demo_outbox",
)


def template_names() -> list[str]:
    """Every template of the project and of its apps but the admin's (the cached loader keeps each compiled)."""
    names = set()
    for engine in engines.all():
        for directory in engine.template_dirs:
            root = Path(directory)
            names.update(str(p.relative_to(root)) for p in root.rglob("*.html") if p.is_file())
    return sorted(n for n in names if not n.startswith(NOT_WARMED))


def warm_up() -> None:
    for hasher in get_hashers():
        if getattr(hasher, "library", None):
            hasher._load_library()
    for name in template_names():
        get_template(name)
    sealing.unseal(sealing.seal(b"warm-up"))
    # What is loaded by now (modules, settings, compiled templates: ~90,000 objects) lives as long as
    # the worker. Frozen, the collector's full passes no longer walk it on a worker's requests:
    # 0.75 -> 0.23 ms of collection per logon (docs/benchmarks.md, "Garbage collection").
    gc.collect()
    gc.freeze()
