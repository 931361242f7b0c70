"""Imports run only downward (docs/architecture.md, "The parts and their allowed arrows").

Terminal pages and dms -> accounts -> otp -> the clock and settings. Every product .py
file is parsed with ast, so an import anywhere (also inside a function) counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("ccass_portal", "accounts", "otp", "dms")

# ccass_portal holds the base (settings, the clock, Celery) and, until issue 16 item 4
# gives them an app, the Terminal pages: these modules are the Terminal's.
TERMINAL_MODULES = {
    "ccass_portal.views",
    "ccass_portal.urls",
    "ccass_portal.terminal",
    "ccass_portal.overnight_reports",
    "ccass_portal.tasks",
    "ccass_portal.context_processors",
    "ccass_portal.demo_access",
    "ccass_portal.demo_clock",
    "ccass_portal.forms",
    "ccass_portal.warmup",
    "ccass_portal.wsgi",
}
# Seeds the whole demo, overnight reports included; moves up with the Terminal (docs/architecture.md).
ACCOUNTS_MAY_USE_TERMINAL = {"accounts.management.commands.seed_demo"}


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
    if part == "terminal":
        return any(module == m or module.startswith(m + ".") for m in TERMINAL_MODULES)
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


def test_otp_imports_nothing_of_accounts_dms_or_the_terminal():
    assert upward_imports("otp", ("accounts", "dms", "terminal")) == []


def test_accounts_imports_nothing_of_dms():
    assert upward_imports("accounts", ("dms",)) == []


def test_accounts_imports_nothing_of_the_terminal_pages():
    assert upward_imports("accounts", ("terminal",), ACCOUNTS_MAY_USE_TERMINAL) == []


@pytest.mark.parametrize("part", ["ccass_portal", "accounts", "otp", "dms"])
def test_no_product_code_imports_tests(part):
    assert upward_imports(part, ("tests",)) == []


def test_the_base_of_ccass_portal_imports_no_part_above_it():
    """settings, the clock, Celery, models: below otp, so they import none of the parts."""
    breaches = []
    for path in product_files():
        name = module_name(path)
        if not in_part(name, "ccass_portal") or in_part(name, "terminal"):
            continue
        breaches += [
            f"{path.relative_to(ROOT)} imports {module}"
            for module in sorted(imported_modules(path))
            if any(in_part(module, part) for part in ("accounts", "otp", "dms", "terminal"))
        ]
    assert breaches == []


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
