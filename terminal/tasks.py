"""Celery tasks of the Terminal: interfaces that call a service."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from ccass_portal import celery as _app  # noqa: F401  (the configured app before any task: ccass_portal/__init__.py)

from . import overnight_reports


@shared_task(ignore_result=True, acks_late=True)
def generate_overnight_reports(business_date: str | None = None) -> int:
    """Nightly (CELERY_BEAT_SCHEDULE, 02:00 Hong Kong time): every firm's reports for the
    last business day, or for `business_date` (YYYY-MM-DD). Safe to run twice."""
    day = date.fromisoformat(business_date) if business_date else None
    return overnight_reports.generate_nightly_reports(day)
