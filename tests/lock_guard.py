"""The lock must install on every Python the README admits, down to Debian 12's 3.11.2 (issue 14).

`pip install --dry-run --python-version 3.11.2` picks wheels for 3.11.2 but evaluates the
dependencies' markers against the running interpreter, so on a newer 3.11 it does not see that
redis needs async-timeout below 3.11.3. This guard asks pip for the resolved metadata (`--report`)
and evaluates every `Requires-Dist` marker itself for the lowest supported Python: each dependency
that applies there must be in the lock at a version its specifier accepts.

    python -m tests.lock_guard requirements/dev.txt [requirements/base.txt ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOWEST_PYTHON = "3.11.2"  # Debian 12's python3 (README: prerequisites)


def marker_environment(python_full_version: str = LOWEST_PYTHON) -> dict[str, str]:
    env = dict(default_environment())
    env.update(
        python_full_version=python_full_version,
        python_version=".".join(python_full_version.split(".")[:2]),
        implementation_name="cpython",
        implementation_version=python_full_version,
        platform_python_implementation="CPython",
        sys_platform="linux",
        platform_system="Linux",
        os_name="posix",
    )
    return env


def missing_requirements(installs: list[dict], environment: dict[str, str]) -> list[str]:
    """What the locked packages need under `environment` that the lock lacks or pins outside
    the needed range. `installs` is pip's report ("install" entries: metadata, requested_extras)."""
    locked = {canonicalize_name(item["metadata"]["name"]): item for item in installs}
    extras: dict[str, set[str]] = {name: set(item.get("requested_extras") or ()) for name, item in locked.items()}
    problems: set[str] = set()
    changed = True
    while changed:  # extras asked for by a dependent (celery[redis] -> kombu[redis]) enable more
        changed = False
        for name, item in locked.items():
            for line in item["metadata"].get("requires_dist") or ():
                requirement = Requirement(line)
                wanted = {""} | extras[name]
                if requirement.marker and not any(
                    requirement.marker.evaluate({**environment, "extra": extra}) for extra in wanted
                ):
                    continue
                dependency = canonicalize_name(requirement.name)
                if dependency not in locked:
                    problems.add(f"{item['metadata']['name']} needs {requirement} (not in the lock)")
                    continue
                version = locked[dependency]["metadata"]["version"]
                if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
                    problems.add(f"{item['metadata']['name']} needs {requirement}, the lock has {version}")
                if not set(requirement.extras) <= extras[dependency]:
                    extras[dependency] |= set(requirement.extras)
                    changed = True
    return sorted(problems)


def resolve(lock: Path, python_full_version: str = LOWEST_PYTHON) -> list[dict]:
    """pip's resolution of the lock for that interpreter (binary wheels, hashes checked), installing nothing."""
    with tempfile.TemporaryDirectory() as target:
        report = Path(target) / "report.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--dry-run",
                "--ignore-installed",
                "--python-version",
                python_full_version,
                "--only-binary=:all:",
                "--require-hashes",
                "--target",
                str(Path(target) / "site"),
                "--report",
                str(report),
                "-r",
                str(lock),
            ],
            check=True,
        )
        return json.loads(report.read_text())["install"]


def main(argv: list[str]) -> int:
    failures = 0
    for lock in argv or ["requirements/dev.txt"]:
        problems = missing_requirements(resolve(Path(lock)), marker_environment())
        for problem in problems:
            print(f"{lock}: on Python {LOWEST_PYTHON}, {problem}", file=sys.stderr)
        failures += bool(problems)
    if not failures:
        print(f"lock guard: {', '.join(argv)} resolve for Python {LOWEST_PYTHON}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
