"""`make test`: static checks, then the whole suite against real services.

1. `manage.py check`, `makemigrations --check`, bandit, ruff (lint and format), the lock against Python 3.11.2
   (tests/lock_guard.py), and the compose file's schema.
2. A throwaway PostgreSQL cluster and redis-server on loopback (tests/stack.py).
3. pytest on PostgreSQL (the production database), then the embedded-mode
   tests again on SQLite (the one-command demo's database).
Every service started here is stopped by its pid, whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests import stack

PY = sys.executable


def run(cmd: list[str], env: dict | None = None) -> int:
    print("$", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=stack.ROOT, env={**os.environ, **(env or {})})


def static_checks(env: dict) -> int:
    failures = 0
    failures += run([PY, "-m", "ccass_portal.translations"], env) != 0  # .po -> .mo
    failures += run([PY, "manage.py", "check", "--fail-level", "WARNING"], env) != 0
    failures += run([PY, "manage.py", "makemigrations", "--check", "--dry-run"], env) != 0
    # bandit: no medium or high finding in the product's code (low ones are the
    # word "password" in labels and audit kinds; see docs/security.md).
    failures += (
        run(
            [
                str(stack.ROOT / ".venv" / "bin" / "bandit"),
                "-q",
                "-ll",
                "-r",
                "accounts",
                "otp",
                "ccass_portal",
                "dms",
                "terminal",
                "demo",
            ]
        )
        != 0
    )
    # Ruff keeps the tree clean: lint (pyproject.toml's rules) and format.
    ruff = str(stack.ROOT / ".venv" / "bin" / "ruff")
    failures += run([ruff, "check", "--no-cache", "."]) != 0
    failures += run([ruff, "format", "--check", "--no-cache", "."]) != 0
    # The lock resolves for the lowest Python the README admits (Debian 12's 3.11.2; issue 14).
    failures += run([PY, "-m", "tests.lock_guard", "requirements/base.txt", "requirements/dev.txt"]) != 0
    compose = stack.ROOT / "docker-compose.yml"
    if compose.exists():
        failures += (
            run(
                [
                    str(stack.ROOT / ".venv" / "bin" / "check-jsonschema"),
                    "--builtin-schema",
                    "vendor.compose-spec",
                    str(compose),
                ]
            )
            != 0
        )
    return failures


def main(argv: list[str]) -> int:
    base_env = {"DJANGO_SETTINGS_MODULE": "tests.settings"}
    skip_static = "--no-static" in argv  # for a developer re-running a few tests
    if "--static-only" in argv:  # `make static`, and `make fresh-check` in a clean container
        return 1 if static_checks(base_env) else 0
    argv = [a for a in argv if a != "--no-static"]
    if skip_static:
        run([PY, "-m", "ccass_portal.translations"], base_env)
    elif static_checks(base_env):
        print("static checks failed", flush=True)
        return 1
    services = []
    try:
        postgres = stack.start_postgres()
        services.append(postgres)
        redis = stack.start_redis()
        services.append(redis)
        env = {**base_env, "DATABASE_URL": postgres.url, "TEST_REDIS_URL": redis.url}
        print(f"PostgreSQL on {postgres.url}, Redis on {redis.url}", flush=True)
        code = run([PY, "-m", "pytest", *argv], env)
        embedded = run(
            [PY, "-m", "pytest", "-m", "embedded", "-p", "no:randomly", *argv],
            {**base_env, "TEST_REDIS_URL": redis.url},
        )
        # Files chosen by a developer may hold no `embedded` test: pytest's "no tests collected" (5)
        # then means nothing to re-run, not a failure. The whole suite (no argv) always has some.
        if embedded == 5 and argv:
            embedded = 0
        return code or embedded
    finally:
        for service in reversed(services):
            service.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
