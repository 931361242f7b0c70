"""Production settings (SECURITY.md 28, 29) and the logs (issue 5)."""

import json
import os
import subprocess
import sys

import pytest

from tests.stack import ROOT


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    env["DJANGO_SECRET_KEY"] = "a-production-like-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    env.update(extra)
    return env


def test_sec28_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def production_settings(*names: str) -> dict:
    """Values of ccass_portal.settings as production loads them (no test settings, no DEBUG)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import json, ccass_portal.settings as s; print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))",
        ],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.django_db
def test_sec29_security_headers(client, settings):
    # HSTS as production configures it, not a value this test sets: a production default below a
    # year, or without subdomains, fails on the wire below.
    for name, value in production_settings("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS").items():
        setattr(settings, name, value)
    response = client.get("/login/", secure=True)
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    hsts = response["Strict-Transport-Security"]
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 31536000 and "includeSubDomains" in hsts


def test_production_hsts_default_is_a_year_and_http_redirects():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import ccass_portal.settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SECURE_REDIRECT_EXEMPT)",
        ],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split(" ", 2)[:2] == ["31536000", "True"]
    assert "sso" in result.stdout  # the health check stays on plain http for load balancers


def test_logs_are_json_lines_on_stdout():
    code = (
        "import django, logging; django.setup();"
        "logging.getLogger('portal.audit').info('audit', extra={'event': 'logon_failure', 'subject': 'B0123401'})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=production_env(DJANGO_SETTINGS_MODULE="ccass_portal.settings"),
    )
    assert result.returncode == 0, result.stderr
    [line] = [text for text in result.stdout.splitlines() if text.strip()]
    record = json.loads(line)
    assert record["level"] == "INFO" and record["logger"] == "portal.audit"
    assert record["event"] == "logon_failure" and record["subject"] == "B0123401"
    assert record["time"][10] == "T" and record["time"].endswith("+0800")


def test_a_web_worker_warms_up_at_start_in_its_own_process():
    """ccass_portal.wsgi compiles the templates of the logon and Terminal pages and loads argon2's bindings and the cipher before
    the first request (first-logon latency, peak RSS per worker: docs/benchmarks.md)."""
    probe = (
        "import sys\n"
        "import ccass_portal.wsgi\n"
        "from django.template import engines\n"
        "from ccass_portal.warmup import template_names\n"
        "loader = engines['django'].engine.template_loaders[0]\n"
        "cached = set(loader.get_template_cache)  # keyed by template name\n"
        "names = template_names()\n"
        "assert {'base.html', 'accounts/login.html', 'accounts/otp_app.html', 'portal/terminal_home.html'} <= set(names)\n"
        "# The admin's, DMS's, the back-office's, the demo's and account pages off the logon: on first use (issue 19).\n"
        "off_the_logon = ('admin/', 'dms/', 'backoffice/', 'demo/', 'accounts/change_password', 'accounts/reset_')\n"
        "# Nor the pages of a logon other than the everyday one (first-time setup, 90-day change, smartcard, passkey).\n"
        "off_the_logon += ('otp/admin', 'accounts/setup', 'accounts/expired', 'accounts/smartcard', 'accounts/passkey')\n"
        "assert not [n for n in cached if n.startswith(off_the_logon)]\n"
        "assert {'accounts/otp_email.html', 'accounts/success.html', 'portal/sso.html', 'errors/500.html'} <= set(names)\n"
        "missing = [n for n in names if n not in cached]\n"
        "assert not missing, missing\n"
        "assert '_argon2_cffi_bindings' in sys.modules\n"
        "print('warm', len(names))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("warm ")
