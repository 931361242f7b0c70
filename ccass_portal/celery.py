"""The Celery application. Without REDIS_URL, tasks run in-process (eager).

Loaded by the task modules (accounts/otp/ccass_portal tasks.py) and by `celery -A ccass_portal`,
never by a web worker at rest (ccass_portal/__init__.py)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccass_portal.settings")

app = Celery("ccass_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _crontabs(sender, **kwargs):
    """settings.CELERY_BEAT_SCHEDULE writes a crontab as its fields (a dict): made here."""
    sender.conf.beat_schedule = {
        name: {**entry, "schedule": crontab(**entry["schedule"])} if isinstance(entry["schedule"], dict) else entry
        for name, entry in sender.conf.beat_schedule.items()
    }
