"""Syntax: unexpected tokens with what was expected, indentation [INDENT], nesting depth."""

from __future__ import annotations

from pathlib import Path

from tests.lang.conftest import FIRST_CODE_LINE, expect_error, loads, spec_file


def test_unexpected_token_lists_expected(workdir: Path) -> None:
    """[SYNTAX] the message names the token found and what the parser could take there."""
    diagnostic = expect_error(
        workdir,
        [("F", "integer F(integer a integer b)\n    return a;")],
        "integer b",
        "unexpected 'integer'",
        "expected ')', ','",
    )
    assert diagnostic.message == "unexpected 'integer'; expected ')', ','"


def test_unexpected_name_and_number(workdir: Path) -> None:
    """[SYNTAX] names and numbers are quoted with their kind."""
    expect_error(workdir, [("F", "integer F(integer a)\n    return a b;")], "b;",
                 "unexpected name 'b'", "expected ';'")


def test_unexpected_operand(workdir: Path) -> None:
    """[SYNTAX] a missing operand: the expected list shows what may start an expression."""
    expect_error(workdir, [("F", "integer F()\n    return 1 +;")], ";",
                 "unexpected ';'", "'('", "'-'", "'TRUE'")


def test_missing_semicolon(workdir: Path) -> None:
    """[SYNTAX] the end of the line is the unexpected token; the caret is just past the text."""
    expect_error(workdir, [("F", "integer F()\n    return 1\n")], (FIRST_CODE_LINE + 1, 13),
                 "unexpected end of line", "expected ';'")


def test_unexpected_end_of_block(workdir: Path) -> None:
    """[SYNTAX] a block that stops mid-definition."""
    expect_error(workdir, [("F", "integer F(")], (FIRST_CODE_LINE, 11),
                 "unexpected end of the code block", "')'", "a name")


def test_missing_body_indentation(workdir: Path) -> None:
    """[INDENT] a body must be indented under its header."""
    expect_error(workdir, [("F", "integer F()\nreturn 1;")], "return",
                 "unexpected 'return'", "expected an indented block")


def test_missing_then_block(workdir: Path) -> None:
    """[INDENT] an `if ... then` at the end of a line needs an indented block."""
    code = """
        integer F(integer a)
            if a == 1 then
            return 1;
            return 2;
    """
    expect_error(workdir, [("F", code)], "return 1;", "unexpected 'return'",
                 "expected an indented block")


def test_unexpected_indentation(workdir: Path) -> None:
    """[INDENT] a line indented deeper than its block: the caret is on that line's text."""
    code = """
        integer F(integer a)
            x = 1;
                return x;
    """
    expect_error(workdir, [("F", code)], "return", "unexpected indentation", "expected",
                 "'assert'")


def test_bad_dedent(workdir: Path) -> None:
    """[INDENT] a dedent to a column that no enclosing block starts at."""
    code = """
        integer F(integer a)
            if a == 1 then
                return 1;
              return 2;
    """
    expect_error(workdir, [("F", code)], "return 2;", "inconsistent indentation", "dedent")


def test_brackets_allow_line_breaks(workdir: Path) -> None:
    """Inside (), [] and {} line breaks and indentation are free."""
    code = """
        register bits(8) R {
                3:0 A,
          7:4 B
        } = 0;
    """
    func = """
        bits(4) F(bits(4) a,
                  bits(4) b)
            return (a AND
          b);
    """
    assert "F" in loads(spec_file(workdir, ("R", code), ("F", func))).program.functions


def test_nesting_too_deep(workdir: Path) -> None:
    """[NEST-DEPTH] a definition nested beyond the implementation's recursion depth is a
    diagnostic at the block's first line, not a crash."""
    expression = " + ".join(["a"] * 2000)
    expect_error(workdir, [("F", f"integer F(integer a)\n    return {expression};")],
                 (FIRST_CODE_LINE, 1), "nests too deeply")


def test_nested_ifs_too_deep(workdir: Path) -> None:
    """[NEST-DEPTH] the same for statements."""
    lines = ["integer F(integer a)"]
    lines += ["    " * (i + 1) + "if a == 1 then" for i in range(300)]
    lines += ["    " * 301 + "return 1;", "    return 2;"]
    expect_error(workdir, [("F", "\n".join(lines))], (FIRST_CODE_LINE, 1), "nests too deeply")
