"""Imports run only downward (docs/architecture.md, "The parts and their allowed arrows").

demo -> terminal and dms -> accounts -> otp -> the clock and settings (the base of
ccass_portal). Every product .py file is parsed with ast, so an import anywhere (also
inside a function) counts.
"""

from __future__ import annotations

import ast
import re
import sys
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
        elif (  # a view named by its dotted path (ccass_portal/lazy_views.py) is imported all the same
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("lazy", "LazyView")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value).rpartition(".")[0])
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
    # dms/urls.py names its views by path: lazy("dms.profile_views.create").
    assert "dms.profile_views" in imported_modules(ROOT / "dms" / "urls.py")


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


# A DMS or back-office path ("/dms/...", "/backoffice/...", the admin's "/admin/"), URL name
# ("dms:landing") or portal key ("dms") written in accounts.
HIGHER_PORTAL = re.compile(r"^/(dms|backoffice|admin)(/|$)|^(dms|backoffice):|^(dms|backoffice)$")


def portal_names_in(path: Path, *, except_assignment_to: str | None = None) -> list[str]:
    """String literals of the file that name a DMS or back-office path, URL or portal
    (docstrings and the one named assignment excepted)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                skipped.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == except_assignment_to for t in node.targets
        ):
            skipped.update(id(inner) for inner in ast.walk(node))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skipped
        and HIGHER_PORTAL.search(node.value)
    ]


def test_accounts_names_no_dms_or_back_office_path_outside_the_portals_table():
    """The middleware, the logon, service hours and the admin ask the portals table
    (accounts.logon.PORTALS) where a portal's pages are, never a path of their own."""
    found = []
    for path in sorted((ROOT / "accounts").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        table = "PORTALS" if path == ROOT / "accounts" / "logon.py" else None
        found += portal_names_in(path, except_assignment_to=table)
    assert found == []


def test_the_portal_path_scan_sees_a_path_written_in_accounts(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    sample = tmp_path / "sample.py"
    sample.write_text('"""Docstring /dms/ ok."""\nPORTALS = {"dms": "/dms/"}\nx = redirect("dms:landing")\n')
    assert portal_names_in(sample, except_assignment_to="PORTALS") == ["sample.py:3 'dms:landing'"]


# Markup in a Python string: an opening or closing tag, or the helpers that mark HTML safe.
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*[\s>/]")


def markup_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and MARKUP.search(node.value)
    ]
    found += [
        f"{path.relative_to(ROOT)}:{node.lineno} {name}"
        for node in ast.walk(tree)
        for name in [getattr(node, "id", None) or getattr(node, "attr", None)]
        if isinstance(node, (ast.Name, ast.Attribute)) and name in {"format_html", "mark_safe", "SafeString"}
    ]
    return found


def test_dms_builds_no_html_in_python():
    """DMS's pages are made by templates (issue 16 item 4): no tag, format_html or mark_safe in
    its Python (the one fast table filter lives with the other template filters)."""
    found = []
    for path in sorted((ROOT / "dms").rglob("*.py")):
        if "migrations" not in path.parts:
            found += markup_in(path)
    assert found == []


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
