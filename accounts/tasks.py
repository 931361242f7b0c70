"""Celery tasks of the accounts app: interfaces that take ids and call a service."""

from __future__ import annotations

import logging
from importlib import import_module

from celery import shared_task
from django.conf import settings

from ccass_portal import celery as _app  # noqa: F401  (the configured app before any task: ccass_portal/__init__.py)

from . import lockout, notices

log = logging.getLogger("portal.sessions")


@shared_task(ignore_result=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_change_notice(user_pk, change: str, at: str) -> None:
    """E-mail the person that their password or authentication settings changed."""
    notices.send_change_notice(user_pk, change, at)


@shared_task(ignore_result=True)
def clear_expired_sessions() -> None:
    """Hourly (CELERY_BEAT_SCHEDULE): remove the sessions past their expiry, which Django never
    removes by itself (docs/operations.md). A live session is never touched. Safe to run twice."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    log.info("expired_sessions_cleared")


@shared_task(ignore_result=True)
def sweep_keyed_attempts() -> None:
    """Hourly (CELERY_BEAT_SCHEDULE): keyed attempt counts that no longer count leave the table,
    which strangers can otherwise grow one typed User ID at a time (docs/operations.md)."""
    log.info("keyed_attempts_swept", extra={"rows": lockout.sweep_keyed_attempts()})
