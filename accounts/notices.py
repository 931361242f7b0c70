"""Change notices: the person is told by e-mail of every change of their password or
authentication settings (docs/security.md, "Step-up and change notices"), so that a
change made by someone else does not go unseen.

Like the OTP mail, a notice holds no link and no User ID (a mail that is forwarded or
read by someone else gives nothing away); it is queued only when the change commits,
and the task carries the person's id, the kind of change and its time, nothing secret.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ccass_portal import clock

from .models import User

log = logging.getLogger("portal.notices")


class Change:
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    DEVICE_DELETED = "device_deleted"
    OTP_CHANNEL_EMAIL = "otp_channel_email"
    REGISTRATION_RESET = "registration_reset"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"


WHAT = {
    Change.PASSWORD_CHANGED: gettext_lazy(
        "The password of your CCASS account was changed on %(when)s (Hong Kong time)."
    ),
    Change.PASSWORD_RESET: gettext_lazy(
        "The password of your CCASS account was reset with “Forgot/Reset your password?” on %(when)s (Hong Kong time)."
    ),
    Change.DEVICE_DELETED: gettext_lazy(
        "The mobile application registered for the OTP of your CCASS account was deleted on %(when)s (Hong Kong time)."
    ),
    Change.OTP_CHANNEL_EMAIL: gettext_lazy(
        "Your CCASS account was set to receive its OTP by e-mail instead of the mobile application on %(when)s "
        "(Hong Kong time)."
    ),
    Change.PASSKEY_ADDED: gettext_lazy("A passkey was added to your CCASS account on %(when)s (Hong Kong time)."),
    Change.PASSKEY_REMOVED: gettext_lazy("A passkey was removed from your CCASS account on %(when)s (Hong Kong time)."),
    # "Unlock/Reset OTP Device Registration" by a DA, or HKEX's eService DA3 for a DA.
    Change.REGISTRATION_RESET: gettext_lazy(
        "The password and OTP device registration of your CCASS account were reset by your Delegated "
        "Administrator (or by HKEX) on %(when)s (Hong Kong time); your next logon is a first-time logon."
    ),
}


def notify_change(user: User, change: str) -> None:
    """Queue the notice of `change` once the current transaction commits. A queue that
    refuses it does not undo the change (it is already made); it is logged."""
    at = clock.now().isoformat()
    transaction.on_commit(partial(_enqueue, user.pk, change, at), robust=True)


def _enqueue(user_pk, change: str, at: str) -> None:
    """Publish as the OTP mail is published (otp.tasks.enqueue_email_otp): a dead or hung
    broker fails fast, and the person's request still answers (SECURITY.md 30)."""
    from otp.tasks import PUBLISH_SOCKET_TIMEOUT

    from .tasks import send_change_notice

    timeouts = {"socket_connect_timeout": PUBLISH_SOCKET_TIMEOUT, "socket_timeout": PUBLISH_SOCKET_TIMEOUT}
    try:
        with send_change_notice.app.connection_for_write(
            connect_timeout=PUBLISH_SOCKET_TIMEOUT, transport_options=timeouts
        ) as connection:
            send_change_notice.apply_async(
                args=[user_pk, change, at],
                retry=True,
                retry_policy=settings.PORTAL_TASK_PUBLISH_RETRY_POLICY,
                connection=connection,
            )
    except Exception as exc:  # the broker's own exceptions vary by transport
        log.warning("notice.enqueue_failed", extra={"change": change, "error": type(exc).__name__})


def notice_body(change: str, at: datetime) -> str:
    """English, then Traditional Chinese: a mail is read outside any session's language."""
    parts = []
    for language in ("en", "zh-hant"):
        with translation.override(language):
            when = format_date(timezone.localtime(at), "d-M-y H:i:s")
            parts.append(
                "\n".join(
                    [
                        str(WHAT[change]) % {"when": when},
                        _(
                            "If you did not make this change, contact your Delegated Administrator at once "
                            "(Delegated Administrators: contact HKEX)."
                        ),
                    ]
                )
            )
    return "\n\n".join(parts)


def notice_subject() -> str:
    subjects = []
    for language in ("en", "zh-hant"):
        with translation.override(language):
            subjects.append(_("CCASS: a change to your logon settings"))
    return " / ".join(subjects)


def send_change_notice(user_pk, change: str, at: str) -> None:
    user = User.all_objects.filter(pk=user_pk).first()
    if user is None or not user.email or change not in WHAT:
        return
    send_mail(
        notice_subject(),
        notice_body(change, datetime.fromisoformat(at)),
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
