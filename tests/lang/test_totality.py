"""Totality: every function terminates and returns [LOOP-BOUND] [NO-RECURSION]
[MUST-RETURN]; constants and loop variables are read-only [ASSIGN-CONST] [ASSIGN-LOOPVAR]."""

from __future__ import annotations

from pathlib import Path

from tests.lang.conftest import FIRST_CODE_LINE, expect_error, loads, spec_file


def test_non_constant_loop_bound(workdir: Path) -> None:
    """[LOOP-BOUND] loop bounds are constants; reported at the offending bound."""
    code = "F(integer n)\n    for i = 0 to n\n        assert TRUE;"
    expect_error(workdir, [("F", code)], (FIRST_CODE_LINE + 1, 18),
                 "a loop bound must be a constant")


def test_non_constant_loop_start(workdir: Path) -> None:
    """[LOOP-BOUND] the start too, counting down as well as up."""
    code = "F(integer n)\n    for i = n downto 0\n        assert TRUE;"
    expect_error(workdir, [("F", code)], "n downto", "a loop bound must be a constant")


def test_constant_loop_bounds(workdir: Path) -> None:
    """[LOOP-BOUND] named constants and constant arithmetic are fine."""
    code = """
        integer F()
            total = 0;
            for i = N - 1 downto 0
                total = total + i;
            return total;
    """
    path = spec_file(workdir, ("N", "constant integer N = 4;"), ("F", code))
    assert "F" in loads(path).program.functions


def test_invalid_recursion_direct(workdir: Path) -> None:
    """[NO-RECURSION] a function may not call itself; reported at the call."""
    expect_error(workdir, [("F", "integer F(integer a)\n    return F(a);")], "F(a);",
                 "recursive call to F")


def test_invalid_recursion_mutual(workdir: Path) -> None:
    """[NO-RECURSION] nor through other functions: the call closing the cycle is reported."""
    expect_error(
        workdir,
        [("F", "integer F(integer a)\n    return G(a);"), ("G", "integer G(integer a)\n    return F(a);")],
        "F(a);", "recursive call to F",
    )


def test_invalid_recursion_through_procedure(workdir: Path) -> None:
    """[NO-RECURSION] procedure calls count as calls."""
    expect_error(
        workdir,
        [("P", "P()\n    Q();"), ("Q", "Q()\n    if TRUE then\n        P();")],
        "P();", "recursive call to P",
    )


def test_assignment_to_constant(workdir: Path) -> None:
    """[ASSIGN-CONST] a constant cannot be assigned; reported at its name."""
    expect_error(workdir, [("C", "constant integer C = 4;"), ("F", "F()\n    C = 5;")],
                 "C = 5", "cannot assign to constant 'C'")


def test_assignment_to_enumeration_member(workdir: Path) -> None:
    """[ASSIGN-CONST] enumeration members are constants."""
    expect_error(workdir, [("E", "enumeration E {A, B};"), ("F", "F()\n    A = B;")],
                 "A = B", "cannot assign to constant 'A'")


def test_assignment_to_loop_variable(workdir: Path) -> None:
    """[ASSIGN-LOOPVAR] the loop variable is read-only in its body."""
    code = "F()\n    for i = 0 to 3\n        i = 2;"
    expect_error(workdir, [("F", code)], "i = 2", "cannot assign to loop variable 'i'")


def test_function_can_fall_off_its_end(workdir: Path) -> None:
    """[MUST-RETURN] every path returns; reported at the function's name."""
    code = "integer F(boolean b)\n    if b then\n        return 1;"
    expect_error(workdir, [("F", code)], "F(", "function F can reach its end without a return")


def test_case_without_otherwise_can_fall_off(workdir: Path) -> None:
    """[MUST-RETURN] a case without `otherwise` may match no arm."""
    code = """
        integer F(bits(1) b)
            case b of
                when '0' return 0;
                when '1' return 1;
    """
    expect_error(workdir, [("F", code)], "F(", "can reach its end without a return")


def test_property_can_fall_off_its_end(workdir: Path) -> None:
    """[MUST-RETURN] properties return a boolean on every path."""
    expect_error(workdir, [("P", "property P(boolean b)\n    assert b;")], "P(",
                 "property P can reach its end without a return")


def test_returning_paths(workdir: Path) -> None:
    """[MUST-RETURN] if/else, case with otherwise, and `assert FALSE` all end a path."""
    code = """
        integer F(bits(2) b)
            if b == '00' then
                return 0;
            elsif b == '01' then
                assert FALSE;
            else
                case b of
                    when '10' return 2;
                    otherwise return 3;
    """
    assert "F" in loads(spec_file(workdir, ("F", code))).program.functions


def test_no_missing_return_cascade(workdir: Path) -> None:
    """[MUST-RETURN] a return whose expression is ill-typed still returns: only the type
    error is reported."""
    expect_error(workdir, [("F", "integer F()\n    return TRUE;")], "TRUE",
                 "expected integer, found boolean")


def test_procedure_returning_a_value(workdir: Path) -> None:
    """[RETURN-TYPE] a procedure's return has no value."""
    expect_error(workdir, [("F", "F()\n    return 1;")], "return", "procedure F cannot return a value")


def test_function_return_without_value(workdir: Path) -> None:
    """[RETURN-TYPE] a function's return has one."""
    expect_error(workdir, [("F", "integer F()\n    return;")], "return",
                 "F must return a value of type integer")
