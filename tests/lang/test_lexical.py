"""Lexical rules: characters, the slice-touch rule [SLICE-TOUCH], dotted names [DOTTED-NAME]."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lang.conftest import (
    assert_diagnostic,
    chapter,
    expect_error,
    loads,
    spec_file,
    the_error,
    write,
)


def test_unexpected_character(workdir: Path) -> None:
    """[LEX-CHAR] a character outside the language is reported where it stands."""
    expect_error(
        workdir,
        [("F", "integer F()\n    return 1 $ 2;")],
        "$",
        "unexpected character",
        "'$'",
    )


@pytest.mark.parametrize("condition", ["a<b", "a< b"])
def test_slice_touch_comparison_without_spaces(workdir: Path, condition: str) -> None:
    """[SLICE-TOUCH] `a<b` opens a slice; the diagnostic points at the `<` and says so."""
    expect_error(
        workdir,
        [("F", f"boolean F(integer a, integer b)\n    return {condition};")],
        "<",
        "'<' touching its operand opens a slice",
        "';'",
        "'>' was expected",
        "a < b",
    )


def test_slice_touch_in_if_condition(workdir: Path) -> None:
    """[SLICE-TOUCH] the token that follows the would-be slice is named in the message."""
    code = """
        integer F(integer a, integer b)
            if a<b then
                return 1;
            return 2;
    """
    expect_error(workdir, [("F", code)], "<b", "opens a slice", "'then'", "a < b")


def test_slice_touch_unclosed_slice(workdir: Path) -> None:
    """[SLICE-TOUCH] a real slice missing its `>` gets the same explanation."""
    expect_error(
        workdir,
        [("F", "bits(4) F(bits(8) x)\n    return x<3:0;")],
        "<3",
        "opens a slice",
        "'>' was expected",
    )


@pytest.mark.parametrize("condition", ["a < b", "a <b", "(a) < (b)"])
def test_slice_touch_comparison_with_space_before(workdir: Path, condition: str) -> None:
    """[SLICE-TOUCH] a `<` with white space before it is a comparison."""
    path = spec_file(workdir, ("F", f"boolean F(integer a, integer b)\n    return {condition};"))
    assert "F" in loads(path).program.functions


def test_slice_touch_slices_of_calls_and_slices(workdir: Path) -> None:
    """[SLICE-TOUCH] a slice may follow a name, a call, a slice or a bracketed expression."""
    code = """
        bits(2) F(bits(8) x)
            return ZeroExtend(x, 16)<7:0><1:0> EOR (x EOR x)<1:0> EOR x<1:0>;
    """
    assert "F" in loads(spec_file(workdir, ("F", code))).program.functions


def test_dotted_names(workdir: Path) -> None:
    """[DOTTED-NAME] `R.A`, `r.f` and `AArch32.F` are single names, split by the checker."""
    path = spec_file(
        workdir,
        ("R", "register bits(32) R { 3:0 A, 4 B } = 0;"),
        ("T", "type T is (bits(4) f, boolean g);"),
        ("AArch32.F()", "bits(4) AArch32.F(T t)\n    return if t.g then t.f else R.A;"),
        ("G()", "bits(4) G(T t)\n    return AArch32.F(t) AND R.A;"),
    )
    program = loads(path).program
    assert {"AArch32.F", "G"} <= set(program.functions)


def test_dotted_name_with_unknown_root(workdir: Path) -> None:
    """[DOTTED-NAME] a dotted name whose root is unknown is reported whole."""
    expect_error(
        workdir,
        [("F", "bits(4) F()\n    return Q.A;")],
        "Q.A",
        "unknown name",
        "'Q.A'",
    )


def test_comments_and_blank_lines(workdir: Path) -> None:
    """Comments run to the end of the line; blank and comment lines do not end a block."""
    code = """
        integer F(integer a) // a comment

            // inside the body
            b = a + 1; // trailing

            return b;
    """
    assert "F" in loads(spec_file(workdir, ("F", code))).program.functions


def test_form_feed_does_not_shift_lines(workdir: Path) -> None:
    """Line numbers count '\\n' only, as editors do: a form feed or U+2028 in the prose
    does not move later diagnostics."""
    text = "prose\x0cwith a form feed\nand\u2028a line separator\n\n" + chapter(
        ("F", "integer F()\n    return y;")
    )
    path = write(workdir, text)
    assert_diagnostic(the_error(path), path, "y;", "unknown name")


def test_crlf_line_endings(workdir: Path) -> None:
    """A chapter with CRLF line endings is read like one with LF endings."""
    path = workdir / "bad.md"
    path.write_bytes(chapter(("F", "integer F()\n    return y;")).replace("\n", "\r\n").encode())
    diagnostic = the_error(path)
    assert (diagnostic.loc.line, diagnostic.loc.col) == (9, 12)
    assert "unknown name 'y'" in diagnostic.message
