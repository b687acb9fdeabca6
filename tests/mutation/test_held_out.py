"""The held-out bugs of `make mutate` stay applicable as the chapters change: each names text that
occurs once, inside a spec block, and every chapter of the architecture has some. (Whether the
suite catches them is what `make mutate` measures; it takes minutes per bug.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hypspec.api import ROOT, SPEC_DIR
from tests.mutation import score
from tests.mutation.score import BugFileError, Outcome, read_bugs, render_outcome, render_score

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


def test_the_score_counts_checks_per_chapter() -> None:
    """A checker rejection, each refuted property and each failing test function are one check
    each; a bug with none is missed. Worked by hand: chapter 00 has one bug caught twice and one
    missed; chapter 05 one bug caught once, by the checker."""
    outcomes = [
        Outcome("a", "00-foundations", "polarity", properties=["P"], tests=["t"]),
        Outcome("b", "00-foundations", "constant"),
        Outcome("c", "05-stage2-translation", "field width", rejected="spec/05: error"),
    ]
    assert [o.checks for o in outcomes] == [2, 0, 1]
    assert "MISSED" in render_outcome(outcomes[1]) and "caught" in render_outcome(outcomes[2])
    rows = [line.split() for line in render_score(outcomes).splitlines()[1:]]
    assert rows == [["00-foundations", "2", "1", "1"], ["05-stage2-translation", "1", "1", "0"],
                    ["all", "3", "2", "1"]]


def test_proofs_only_runs_no_test(monkeypatch, capsys) -> None:
    """`--proofs-only` asks the proofs and never starts pytest; the report marks the tests as not
    run rather than as zero failures."""
    def no_tests(*args: object) -> None:
        raise AssertionError("--proofs-only ran the tests")

    monkeypatch.setattr(score, "failing_tests", no_tests)
    monkeypatch.setattr(score, "refuted_properties", lambda root: ["Stage2.LeavesAreBlocksOrPages"])
    bug = read_bugs()[0].name
    assert score.main(["--proofs-only", "--skip-baseline", "--bug", bug]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(bug))
    assert "properties 1" in line and "tests -" in line
