"""Logs a person can read (issue 17, "Finish"): no kombu warning in embedded mode, plain audit
lines that carry the event, actor and subject, one time zone in every line, and gunicorn's
control socket under var/."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.stack import ROOT
from tests.test_deployment import production_env

AUDIT = (
    "import django, logging; django.setup();"
    "logging.getLogger('portal.audit').info('audit', extra={'event': 'logon_failure', 'actor': 'B01234X1', "
    "'subject': 'B0123401'});"
    "logging.getLogger('celery.worker').warning('a line from elsewhere')"
)


def run(code: str, **env) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=production_env(DJANGO_SETTINGS_MODULE="ccass_portal.settings", **env),
    )
    assert result.returncode == 0, result.stderr
    return result


def test_embedded_mode_sends_a_task_without_kombu_hostname_warning():
    code = (
        "import django; django.setup();"
        "from ccass_portal.celery import app;"
        "conn = app.connection_for_write(); conn.info(); print('broker', conn.as_uri())"
    )
    result = run(code, REDIS_URL="")
    assert "broker memory://" in result.stdout
    assert "No hostname was supplied" not in result.stdout + result.stderr


def test_plain_audit_lines_carry_event_actor_and_subject():
    lines = [line for line in run(AUDIT, DJANGO_LOG_FORMAT="plain").stdout.splitlines() if line.strip()]
    audit = next(line for line in lines if "portal.audit" in line)
    assert "event=logon_failure" in audit and "actor=B01234X1" in audit and "subject=B0123401" in audit


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_every_line_in_one_time_zone_whatever_the_process_zone(log_format):
    """Hong Kong time (settings.TIME_ZONE) with its offset, also when the process starts in UTC
    or elsewhere (a gunicorn master, a container)."""
    result = run(AUDIT, DJANGO_LOG_FORMAT=log_format, TZ="America/New_York")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 2
    stamps = [re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", line) for line in lines]
    assert all(stamps) and {stamp.group(0)[-5:] for stamp in stamps} == {"+0800"}, lines


def test_gunicorn_control_socket_is_under_var_one_per_instance():
    other = subprocess.run(
        ["bin/web"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=production_env(
            GUNICORN_CMD_ARGS="--print-config", BIND="127.0.0.1:8001", DJANGO_SETTINGS_MODULE="ccass_portal.settings"
        ),
    )
    assert "var/gunicorn-127.0.0.1-8001.ctl" in other.stdout
    result = subprocess.run(
        ["bin/web"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=production_env(GUNICORN_CMD_ARGS="--print-config", DJANGO_SETTINGS_MODULE="ccass_portal.settings"),
    )
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("control_socket ")]
    path = line.split("=", 1)[1].strip()
    # one per instance: the native stack runs two gunicorns from the same tree
    assert path == str(ROOT / "var" / "gunicorn-127.0.0.1-8000.ctl"), line


def test_the_bin_scripts_run_gunicorn_and_celery_in_the_portals_time_zone():
    """gunicorn's own lines (its start-up and access log) and Celery's are written before or
    beside Django's formatters: the bin/ scripts give those processes TIME_ZONE too."""
    from django.conf import settings

    env = {"PATH": "/usr/bin:/bin"}  # no TZ of the caller's
    shown = subprocess.run(
        ["bash", "-c", 'source bin/_env && echo "$TZ" && date +%z'], cwd=ROOT, env=env, capture_output=True, text=True
    )
    zone, offset = shown.stdout.split()
    assert zone == settings.TIME_ZONE and offset == "+0800", shown
