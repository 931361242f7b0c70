"""`python -m tests.run` (make test, and a developer's run of a few files): the SQLite re-run of the
`embedded` tests is no failure when the files chosen hold none; a real failure still fails."""

from __future__ import annotations

import subprocess
import sys

from tests.stack import ROOT


def run_tests(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.run", "--no-static", *argv, "-q", "-p", "no:randomly"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_files_without_embedded_tests_pass_when_their_tests_pass():
    result = run_tests("tests/test_lock_guard.py")
    assert "-m embedded" in result.stdout and "deselected" in result.stdout, result.stdout[-2000:]
    assert result.returncode == 0, result.stdout[-2000:]


def test_a_failing_selection_still_fails():
    result = run_tests("tests/test_lock_guard.py", "-k", "no_test_has_this_name")
    assert result.returncode != 0, result.stdout[-2000:]
