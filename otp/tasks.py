"""Celery tasks of the OTP app: interfaces that take an id and call a service."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings

from ccass_portal import celery as _app  # noqa: F401  (the configured app before any task: ccass_portal/__init__.py)
from ccass_portal import clock

from . import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,  # bounded by the code's expiry instead
)
def send_email_otp(self, challenge_id: str) -> str:
    """Deliver one e-mail OTP. Carries only the code's id, never the code."""
    outcome = services.deliver_email_otp(challenge_id, final_attempt=self.request.is_eager)
    if outcome == services.DeliveryOutcome.RETRY:
        # Exponential back-off (2, 4, 8, ... s, at most 60), the last try brought forward
        # to come before the code expires; when no try can, give up and say so.
        backoff = min(2 ** (self.request.retries + 1), 60)
        countdown = services.next_delivery_attempt_in(challenge_id, backoff=backoff)
        if countdown is None:
            return services.give_up_email_otp(challenge_id)
        services.expect_delivery_within(challenge_id, countdown)  # not lost while the retry waits
        raise self.retry(countdown=countdown)
    return outcome


@shared_task(ignore_result=True)
def sweep_lost_email_otps() -> dict:
    """Every 5 s (CELERY_BEAT_SCHEDULE): queued codes lost on the way are sent again or released."""
    return services.sweep_lost_email_otps()


# The web publishes on a connection of its own with short socket timeouts: a broker that
# refuses, and one that accepts and never answers (hung, or a half-open connection), must
# both answer the person within 2 s (SECURITY.md 30). Workers keep the broker's timeouts.
PUBLISH_SOCKET_TIMEOUT = 0.4


def enqueue_email_otp(challenge_id, *, expires: datetime) -> None:
    """Publish the delivery task; a dead or hung broker fails fast (bounded retries)."""
    remaining = max(1, int((expires - clock.now()).total_seconds()))
    timeouts = {"socket_connect_timeout": PUBLISH_SOCKET_TIMEOUT, "socket_timeout": PUBLISH_SOCKET_TIMEOUT}
    with send_email_otp.app.connection_for_write(
        connect_timeout=PUBLISH_SOCKET_TIMEOUT, transport_options=timeouts
    ) as connection:
        send_email_otp.apply_async(
            args=[str(challenge_id)],
            expires=remaining,
            retry=True,
            retry_policy=settings.PORTAL_TASK_PUBLISH_RETRY_POLICY,
            connection=connection,
        )
