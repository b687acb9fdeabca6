"""Reporting: every error is reported [ALL-ERRORS], in order, and rendered with its
source line and a caret; `hypspec check` exits 1 on errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hypspec.cli import main
from tests.lang.conftest import ROOT, assert_diagnostic, errors, spec_file

THREE_ERRORS = """
    integer F()
        x = y;
        bits(8) z = '0';
        return G();
"""


def test_all_errors_in_a_file(workdir: Path) -> None:
    """[ALL-ERRORS] three independent errors give three diagnostics, in line order."""
    path = spec_file(workdir, ("F", THREE_ERRORS))
    found = errors(path)
    assert len(found) == 3, [d.render() for d in found]
    assert_diagnostic(found[0], path, "y;", "unknown name 'y'")
    assert_diagnostic(found[1], path, "'0'", "expected bits(8), found bits(1)")
    assert_diagnostic(found[2], path, "G()", "unknown function 'G'")


def test_all_errors_across_definitions_and_stages(workdir: Path) -> None:
    """[ALL-ERRORS] a syntax error in one block does not hide checking errors in others."""
    path = spec_file(
        workdir,
        ("F", "integer F()\n    return 1 $ 2;"),
        ("G", "integer G()\n    return y;"),
        ("H", "var Foo H;"),
    )
    found = errors(path)
    assert len(found) == 3, [d.render() for d in found]
    assert_diagnostic(found[0], path, "$", "unexpected character")
    assert_diagnostic(found[1], path, "y;", "unknown name 'y'")
    assert_diagnostic(found[2], path, "Foo", "unknown type 'Foo'")


def test_errors_across_files(workdir: Path) -> None:
    """[ALL-ERRORS] every chapter is checked; diagnostics are ordered by file, then line."""
    first = spec_file(workdir, ("F", "integer F()\n    return y;"), name="a.md")
    second = spec_file(workdir, ("G", "integer G()\n    return F() + z;"), name="b.md")
    found = errors(second, first)
    assert [(d.loc.file, d.loc.line) for d in found] == [("a.md", 9), ("b.md", 9)]
    assert "'z'" in found[1].message


def test_rendering(workdir: Path) -> None:
    """A diagnostic renders as `file:line:col: error: message`, the line, and a caret."""
    path = spec_file(workdir, ("F", "integer F()\n    return y;"))
    (diagnostic,) = errors(path)
    assert diagnostic.render().split("\n") == [
        "bad.md:9:12: error: unknown name 'y'",
        "        return y;",
        "               ^",
    ]


def test_cli_check_reports_and_exits_1(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hypspec check bad.md` prints every diagnostic with its caret and exits 1."""
    spec_file(workdir, ("F", THREE_ERRORS))
    assert main(["check", "bad.md"]) == 1
    err = capsys.readouterr().err.split("\n")
    assert err[:3] == [
        "bad.md:9:9: error: unknown name 'y'",
        "        x = y;",
        "            ^",
    ]
    assert err[-2] == "3 errors"


def test_cli_check_subprocess(workdir: Path) -> None:
    """The installed command behaves the same in a fresh process."""
    spec_file(workdir, ("F", "integer F()\n    return a<b;"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "hypspec.cli", "check", "bad.md"],
        capture_output=True, text=True, cwd=workdir, env=env, check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.split("\n")
    assert lines[0].startswith("bad.md:9:13: error: '<' touching its operand opens a slice")
    assert lines[1:3] == ["        return a<b;", "                ^"]
    assert lines[3] == "1 error"


def test_cli_check_ok(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_file(workdir, ("F", "integer F()\n    return 1;"), name="good.md")
    assert main(["check", "good.md"]) == 0
    assert capsys.readouterr().out.startswith("ok: 1 chapter(s), 1 function(s)")


def test_no_cascade_after_a_failed_declaration(workdir: Path) -> None:
    """[ALL-ERRORS] a local whose declaration failed is not reported again at each use."""
    code = """
        integer F(integer a)
            x = y + 1;
            bits(2) z = Q;
            if x == a then
                return UInt(z);
            return x;
    """
    path = spec_file(workdir, ("F", code))
    found = errors(path)
    assert len(found) == 2, [d.render() for d in found]
    assert_diagnostic(found[0], path, "y + 1", "unknown name 'y'")
    assert_diagnostic(found[1], path, "Q;", "unknown name 'Q'")
