"""The tests mirror the code (issue 16 item 9; docs/architecture.md, "Tests").

A test of accounts, otp, dms or the Terminal lives in tests/accounts, tests/otp, tests/dms or
tests/terminal; tests/ itself keeps only the cross-cutting checks below. Fixtures live in conftest
files and reach tests by pytest's lookup, never by import: a conftest imported as a module is
loaded twice (once by pytest, once by the import) and hides which fixtures a directory really has.
Plain helpers (factories, logon steps) live in named modules such as tests/factories.py."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Checks that belong to no single part: the architecture and the docs' indexes, the deployment and
# its files, translations across every portal, the lock, the one clock, project-wide error pages.
CROSS_CUTTING = {
    "test_architecture.py",
    "test_bench.py",
    "test_compose_file.py",
    "test_database_outage.py",
    "test_demo_clock.py",
    "test_deployment.py",
    "test_error_pages.py",
    "test_finish.py",  # issue 17's finishing items, one per portal (accounts, DMS, Terminal, demo)
    "test_form_renderer.py",  # the base's form renderer, every portal's forms
    "test_public_pages.py",  # the base's public pages: the landing page, /sso/ and every portal's User Login
    "test_foundation.py",
    "test_i18n.py",
    "test_kept_queries.py",  # the base's compiled-once reads, used by accounts and otp (ccass_portal/kept_queries.py)
    "test_lock_guard.py",
    "test_logging.py",
    "test_redis_ping.py",  # the health check's Redis PING (ccass_portal/redis_ping.py)
    "test_run.py",
    "test_security_index.py",
    "test_service_messages_translated.py",
    "test_test_layout.py",
    "test_web_worker.py",  # what a web worker loads at rest (issue 19)
    "test_zh_hant_pages.py",
}


def conftest_imports(path: Path) -> list[str]:
    """`module:line` for every import of a conftest in the file (absolute or relative)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module or ''}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(name.split(".")[-1] == "conftest" for name in names):
            found.append(f"{path.relative_to(TESTS.parent)}:{node.lineno}")
    return found


def test_no_module_imports_from_a_conftest():
    offenders = [hit for path in sorted(TESTS.rglob("*.py")) for hit in conftest_imports(path)]
    assert offenders == [], "move the helper to a named module (tests/factories.py, ...): " + ", ".join(offenders)


def test_only_cross_cutting_checks_sit_at_the_top_of_tests():
    stray = sorted(p.name for p in TESTS.glob("test_*.py") if p.name not in CROSS_CUTTING)
    assert stray == [], f"put these beside the code they test (tests/accounts, tests/otp, ...): {stray}"


def test_every_allowed_top_level_check_exists():
    # A renamed or moved check must leave the allowlist too, or the list stops meaning anything.
    assert sorted(CROSS_CUTTING - {p.name for p in TESTS.glob("test_*.py")}) == []


# tests/stack cannot be a package: it would shadow tests/stack.py (the throwaway PostgreSQL and
# Redis that tests.run starts). Its modules are imported by their basename, so they keep names
# no other test file has (test_stack_*).
NOT_A_PACKAGE = {"stack"}


def test_every_directory_of_tests_is_a_package():
    # Packages give each test module its dotted name (tests.dms.test_services), so two parts may each
    # have a test file of the same name; a directory without __init__.py would clash on the basename.
    bare = sorted(
        str(d.relative_to(TESTS.parent))
        for d in {p.parent for p in TESTS.rglob("test_*.py")}
        if not (d / "__init__.py").exists() and d.name not in NOT_A_PACKAGE
    )
    assert bare == [], f"add an empty __init__.py to: {bare}"


def test_the_test_files_outside_packages_have_names_of_their_own():
    names = [p.name for p in TESTS.rglob("test_*.py")]
    clashes = sorted({p.name for d in NOT_A_PACKAGE for p in (TESTS / d).glob("test_*.py") if names.count(p.name) > 1})
    assert clashes == []
