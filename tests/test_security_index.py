"""Every numbered check of docs/security.md ("Security checks") has at least one test named after
its number (test_secNN_...). The list is read from the repository's own docs; a missing list fails
rather than falling back to a remembered count."""

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SECURITY_DOC = TESTS.parent / "docs" / "security.md"
SECTION = "## Security checks"


def numbered_tests() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for number in re.findall(r"sec(\d\d)", node.name) if node.name.startswith("test_sec") else []:
                    found.setdefault(int(number), []).append(f"{path.relative_to(TESTS)}::{node.name}")
    return found


def security_checks(text: str) -> list[int]:
    """The numbers of the "Security checks" section, in order; [] when the section is absent."""
    if SECTION not in text:
        return []
    section = text.split(SECTION, 1)[1]
    following = re.search(r"^## ", section, re.M)  # the section ends at the next level-2 heading
    if following:
        section = section[: following.start()]
    return [int(n) for n in re.findall(r"^(\d+)\. ", section, re.M)]


def test_the_checks_list_is_in_the_repository_and_numbered_without_gaps():
    assert SECURITY_DOC.exists(), f"{SECURITY_DOC} is missing"
    numbers = security_checks(SECURITY_DOC.read_text())
    assert numbers, f'{SECURITY_DOC} has no "{SECTION}" section with numbered checks'
    assert numbers == list(range(1, len(numbers) + 1)), f"checks out of order or with gaps: {numbers}"


def test_security_checks_parser_sees_a_missing_or_emptied_list():
    assert security_checks("# Security\n\n## Threat model\n1. not a check\n") == []
    assert security_checks(f"{SECTION}\n\nNothing yet.\n\n## Next\n1. not a check\n") == []
    assert security_checks(f"{SECTION}\n### Group\n1. a\n2. b\n## Next\n3. c\n") == [1, 2]


def test_every_security_check_has_a_numbered_test():
    numbers = security_checks(SECURITY_DOC.read_text()) if SECURITY_DOC.exists() else []
    assert numbers, f'no numbered "{SECTION}" in {SECURITY_DOC}: nothing to check the tests against'
    found = numbered_tests()
    missing = [n for n in numbers if n not in found]
    assert not missing, f"docs/security.md checks without a test_secNN_ test: {missing}"
