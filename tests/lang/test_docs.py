"""docs/language.md and these tests agree on the static rules: every rule in the
reference's table is exercised by a test that names it, and every rule a test names
is in the table."""

from __future__ import annotations

import re

from tests.lang.conftest import ROOT

DOC = ROOT / "docs" / "language.md"
RULE = re.compile(r"\[([A-Z][A-Z0-9]+(?:-[A-Z0-9]+)*)\]")  # [SLICE-TOUCH], [UTF8]


def rules_in_doc() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Static rules", 1)[1]
    rows = re.finditer(r"^\| ([A-Z][A-Z0-9-]+) \|", table, re.MULTILINE)
    return {m.group(1) for m in rows} - {"ID"}


def rules_in_tests() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "tests" / "lang").glob("test_*.py"):
        if path.name == "test_docs.py":
            continue
        found |= set(RULE.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_documented_rule_is_tested() -> None:
    assert rules_in_doc() - rules_in_tests() == set()


def test_every_tested_rule_is_documented() -> None:
    assert rules_in_tests() - rules_in_doc() == set()


def test_rule_references_in_the_text_are_in_the_table() -> None:
    text = DOC.read_text(encoding="utf-8").split("## Static rules", 1)[0]
    assert set(RULE.findall(text)) - rules_in_doc() == set()
