"""The held-out bugs of `make mutate` stay applicable as the chapters change: each names text that
occurs once, inside a spec block, and every chapter of the architecture has some. (Whether the
suite catches them is what `make mutate` measures; it takes minutes per bug.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hypspec.api import ROOT, SPEC_DIR
from tests.mutation.score import BugFileError, read_bugs

BUGS = read_bugs()
SPEC_BLOCK = re.compile(r"```spec\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_the_bug_applies_once_inside_a_spec_block(bug) -> None:
    text = (ROOT / bug.file).read_text(encoding="utf-8")
    assert text.count(bug.find) == 1, f"{bug.name}: {bug.find!r} occurs {text.count(bug.find)} times"
    assert any(bug.find in block for block in SPEC_BLOCK.findall(text)), bug.name
    assert bug.find != bug.replace, bug.name


def test_every_chapter_has_held_out_bugs() -> None:
    chapters = {path.stem for path in SPEC_DIR.glob("[0-9][0-9]-*.md")}
    assert chapters <= {bug.chapter for bug in BUGS}


@pytest.mark.parametrize(("text", "message"), [
    ("[[bug]]\nname = 'x'\n", r"bug #1 lacks \['about', 'bug_class', 'file', 'find', 'replace'\]"),
    ("[[bug\n", r"bugs.toml: "),
    ("", r"no \[\[bug\]\] entries"),
])
def test_a_bad_bug_file_is_refused_with_its_name(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bugs.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BugFileError, match=message):
        read_bugs(path)
