"""The portal's settings with one or more changes the benchmark recommends, to measure them
without touching the product: BENCH_WHATIF=cache_sessions,no_health_checks,quiet_logs."""

import os

from ccass_portal.settings import *  # noqa: F401,F403
from ccass_portal.settings import DATABASES, LOGGING, REDIS_URL

WHATIF = {w for w in os.environ.get("BENCH_WHATIF", "").split(",") if w}

if "cache_sessions" in WHATIF:  # sessions in Redis (already run for Celery) instead of a table
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
if "no_health_checks" in WHATIF:  # no "SELECT 1" before the first query of each request
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if "quiet_logs" in WHATIF:  # no INFO lines (one JSON line per audit event)
    LOGGING["root"]["level"] = "WARNING"
