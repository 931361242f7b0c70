"""Every check of SECURITY.md has at least one test named after its number (test_secNN_...)."""

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SECURITY = TESTS.parent.parent / "shared" / "SECURITY.md"


def numbered_tests() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for number in re.findall(r"sec(\d\d)", node.name) if node.name.startswith("test_sec") else []:
                    found.setdefault(int(number), []).append(f"{path.relative_to(TESTS)}::{node.name}")
    return found


def test_every_security_check_has_a_numbered_test():
    count = 33
    if SECURITY.exists():
        count = max(int(n) for n in re.findall(r"^(\d+)\. ", SECURITY.read_text(), re.M))
    found = numbered_tests()
    missing = [n for n in range(1, count + 1) if n not in found]
    assert not missing, f"SECURITY.md checks without a test_secNN_ test: {missing}"
