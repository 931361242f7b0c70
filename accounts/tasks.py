"""Celery tasks of accounts: interfaces that call a service."""

from __future__ import annotations

import logging
from importlib import import_module

from celery import shared_task
from django.conf import settings

log = logging.getLogger("portal.sessions")


@shared_task(ignore_result=True)
def clear_expired_sessions() -> None:
    """Hourly (CELERY_BEAT_SCHEDULE): remove the sessions past their expiry, which Django never
    removes by itself (docs/operations.md). A live session is never touched. Safe to run twice."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    log.info("expired_sessions_cleared")
