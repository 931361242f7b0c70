"""Celery tasks of the accounts app: interfaces that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from . import notices


@shared_task(ignore_result=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_change_notice(user_pk, change: str, at: str) -> None:
    """E-mail the person that their password or authentication settings changed."""
    notices.send_change_notice(user_pk, change, at)
