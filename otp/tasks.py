"""Celery tasks of the OTP app: interfaces that take an id and call a service."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

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
        raise self.retry(countdown=countdown)
    return outcome


def enqueue_email_otp(challenge_id, *, expires: datetime) -> None:
    """Publish the delivery task; a dead broker fails fast (bounded retries)."""
    remaining = max(1, int((expires - timezone.now()).total_seconds()))
    send_email_otp.apply_async(
        args=[str(challenge_id)],
        expires=remaining,
        retry=True,
        retry_policy=settings.PORTAL_TASK_PUBLISH_RETRY_POLICY,
    )
