"""Imports run only downward (docs/architecture.md, "The parts and their allowed arrows").

demo -> terminal and dms -> accounts -> otp -> the clock and settings (the base of
ccass_portal). Every product .py file is parsed with ast, so an import anywhere (also
inside a function) counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("ccass_portal", "accounts", "otp", "dms", "terminal", "demo")

# The wiring of ccass_portal sits above every part: the root URLs include each portal's app,
# and the WSGI entry point warms up what the first requests would load (warmup.py).
ROOT_WIRING = {"ccass_portal.urls", "ccass_portal.wsgi", "ccass_portal.warmup"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_files() -> list[Path]:
    return sorted(p for package in PRODUCT_PACKAGES for p in (ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module the file names in an import, relative imports resolved; `from a import b`
    counts as both `a` and `a.b` (b may be a module)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def in_part(module: str, part: str) -> bool:
    return module == part or module.startswith(part + ".")


def upward_imports(importer_part: str, forbidden: tuple[str, ...], allowed_files: set[str] = frozenset()):
    breaches = []
    for path in product_files():
        name = module_name(path)
        if not in_part(name, importer_part) or name in allowed_files:
            continue
        for module in sorted(imported_modules(path)):
            if any(in_part(module, part) for part in forbidden):
                breaches.append(f"{path.relative_to(ROOT)} imports {module}")
    return breaches


def test_the_scan_sees_every_package_and_resolves_relative_imports():
    files = {module_name(p) for p in product_files()}
    assert {"otp.services", "accounts.logon", "dms.services", "ccass_portal.clock"} <= files
    # dms/dashboard.py says `from .selectors import ...`: resolved to dms.selectors.
    assert "dms.selectors" in imported_modules(ROOT / "dms" / "dashboard.py")
    # accounts/logon.py says `from ccass_portal import clock`.
    assert "ccass_portal.clock" in imported_modules(ROOT / "accounts" / "logon.py")


def test_otp_imports_nothing_of_accounts_dms_the_terminal_or_the_demo():
    assert upward_imports("otp", ("accounts", "dms", "terminal", "demo")) == []


def test_accounts_imports_nothing_of_dms_the_terminal_or_the_demo():
    """No exception: the demo seeding command, which also seeds the Terminal's overnight
    reports, lives in the demo app (demo/management/commands/seed_demo.py)."""
    assert upward_imports("accounts", ("dms", "terminal", "demo")) == []


def test_the_terminal_and_dms_import_nothing_of_each_other_or_the_demo():
    assert upward_imports("terminal", ("dms", "demo")) == []
    assert upward_imports("dms", ("terminal", "demo")) == []


def test_the_terminal_is_an_app_of_its_own():
    """Its pages, menu, reports and task left the settings package (issue 16 item 4)."""
    gone = ["views", "terminal", "overnight_reports", "tasks", "demo_clock", "demo_access", "forms"]
    assert [name for name in gone if (ROOT / "ccass_portal" / f"{name}.py").exists()] == []
    assert (ROOT / "terminal" / "views.py").exists() and (ROOT / "terminal" / "overnight_reports.py").exists()


def test_other_parts_take_the_shared_view_helpers_from_portal_views_not_the_logon_views():
    """accounts/views.py holds the logon screens; the helpers every portal shares (portal
    chrome, the strong-session guard, page methods) are accounts/portal_views.py."""
    users = [
        f"{path.relative_to(ROOT)}"
        for path in product_files()
        if not in_part(module_name(path), "accounts") and "accounts.views" in imported_modules(path)
    ]
    assert users == []


@pytest.mark.parametrize("part", PRODUCT_PACKAGES)
def test_no_product_code_imports_tests(part):
    assert upward_imports(part, ("tests",)) == []


def test_the_base_of_ccass_portal_imports_no_part_above_it():
    """settings, the clock, Celery, models: below otp, so they import none of the parts
    (the root wiring excepted)."""
    assert upward_imports("ccass_portal", ("accounts", "otp", "dms", "terminal", "demo"), ROOT_WIRING) == []


def test_no_service_exception_is_an_http_answer():
    """Services raise their own errors and views turn them into answers (issue 16 item 7):
    no product exception subclasses Http404."""
    subclasses = []
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(base, "id", None) or getattr(base, "attr", None) for base in node.bases}
                if "Http404" in bases:
                    subclasses.append(f"{module_name(path)}.{node.name}")
    assert subclasses == []
