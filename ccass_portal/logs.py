"""The log formats (settings.LOGGING): JSON lines, or plain lines a person reads.

Every line is stamped in one time zone, settings.TIME_ZONE with its offset, whatever
zone the process started in (a gunicorn master, a container in UTC). Plain lines keep
an audit row's event, actor and subject, which JSON lines carry as fields.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from pythonjsonlogger.json import JsonFormatter

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
AUDIT_FIELDS = ("event", "actor", "subject")


class _ZoneTime:
    zone: ZoneInfo

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.zone).strftime(datefmt or TIME_FORMAT)


class PlainFormatter(_ZoneTime, logging.Formatter):
    def __init__(self, *args, zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [f"{name}={getattr(record, name)}" for name in AUDIT_FIELDS if getattr(record, name, "")]
        return " ".join([line, *fields])


class JsonLineFormatter(_ZoneTime, JsonFormatter):
    def __init__(self, *args, zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)
