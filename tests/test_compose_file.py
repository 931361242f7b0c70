"""docker-compose.yml as operators get it (issue 12 finding 4, issue 15 items 1-2). The boot itself
is proved by `make compose-check`; these hold the file's promises in `make test`."""

import os
import re
import subprocess

import yaml

from tests.stack import ROOT, free_port

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def with_defaults(value: str) -> str:
    """A compose string with every ${VAR:-default} at its default (the operator set nothing)."""
    return DEFAULT.sub(lambda m: m.group(2), value)


def test_only_nginx_and_the_mail_ui_are_published_and_only_on_the_operators_machine():
    published = {name: [with_defaults(p) for p in service.get("ports", [])] for name, service in SERVICES.items()}
    assert {name for name, ports in published.items() if ports} == {"nginx", "mail"}
    for ports in published.values():
        for port in ports:
            assert port.startswith("127.0.0.1:"), port  # demo mode shows codes: never 0.0.0.0 by default


def test_nginx_stands_in_front_of_web_with_the_repositorys_config():
    nginx = SERVICES["nginx"]
    assert nginx["image"].startswith("nginx:")
    assert "./deploy/nginx/compose.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert "web" in nginx["depends_on"]
    assert "ports" not in SERVICES["web"]
    assert "server web:8000" in (ROOT / "deploy" / "nginx" / "compose.conf").read_text()
    # The portal believes X-Forwarded-For from the compose network only (accounts/client.py).
    assert SERVICES["web"]["environment"]["PORTAL_TRUSTED_PROXIES"]


def test_redis_keeps_the_queue_across_a_restart():
    redis = SERVICES["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_web_waits_for_the_release_migrations_and_gives_up_clearly(tmp_path):
    """podman 4.3 starts web beside release: bin/web waits for the migrations, never serves a 500."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="ccass_portal.settings",
        DJANGO_SECRET_KEY="a-test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DATABASE_URL=f"sqlite:///{tmp_path / 'not-migrated.sqlite3'}",
        PORTAL_WAIT_FOR_MIGRATIONS="2",
        BIND=f"127.0.0.1:{free_port()}",
    )
    result = subprocess.run([str(ROOT / "bin" / "web")], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "waiting for the release to migrate the database" in result.stdout
    assert "still not migrated" in result.stderr
    assert "Booting worker" not in result.stdout + result.stderr  # gunicorn never started
