"""Names: declarations [DUP-DECL] [GLOBAL-DOT], resolution [UNKNOWN-NAME] [UNKNOWN-TYPE] [UNKNOWN-FUNC],
calls [ARITY] [PROC-VALUE] [PROPERTY-CALL], scoping [NO-SHADOW] [LOCAL-REDECL], an invariant's
assumptions [ASSUMING]."""

from __future__ import annotations

from pathlib import Path

from tests.lang.conftest import expect_error, loads, spec_file

PROC_P = ("P", "P()\n    assert TRUE;")


def test_duplicate_declaration(workdir: Path) -> None:
    """[DUP-DECL] the second declaration of a name is reported at its name."""
    diagnostic = expect_error(workdir, [("F", "var integer F;"), ("F", "var boolean F;")],
                              "F;", "'F' is declared more than once", nth=2)
    assert (diagnostic.loc.line, diagnostic.loc.col) == (16, 13)


def test_duplicate_declaration_of_enumeration_member(workdir: Path) -> None:
    """[DUP-DECL] enumeration members share the one global name space."""
    expect_error(workdir, [("E", "enumeration E {A, B};"), ("A", "var integer A;")],
                 "A;", "'A' is declared more than once")


def test_duplicate_declaration_of_builtin(workdir: Path) -> None:
    """[DUP-DECL] a built-in's name cannot be declared again."""
    expect_error(workdir, [("UInt", "integer UInt(integer a)\n    return a;")],
                 "UInt(", "'UInt' is declared more than once")


def test_dotted_global_name(workdir: Path) -> None:
    """[GLOBAL-DOT] a variable named `GIC.X` would read as field X of GIC: rejected at its declaration."""
    expect_error(workdir, [("GIC.X", "var bits(8) GIC.X;")], "GIC.X;", "cannot contain a dot")


def test_unknown_name(workdir: Path) -> None:
    """[UNKNOWN-NAME] reported at the name, once (no cascade about the missing return)."""
    expect_error(workdir, [("F", "integer F()\n    return y;")], "y;", "unknown name 'y'")


def test_unknown_type(workdir: Path) -> None:
    """[UNKNOWN-TYPE] reported at the type name."""
    expect_error(workdir, [("F", "var Foo F;")], "Foo", "unknown type 'Foo'")


def test_register_is_not_a_type(workdir: Path) -> None:
    """[NOT-A-TYPE] a register has a layout but is a variable, not a type."""
    expect_error(
        workdir,
        [("R", "register bits(32) R { 3:0 A } = 0;"), ("F", "boolean F(R r)\n    return TRUE;")],
        "R r", "'R' is a register, not a type",
    )


def test_unknown_function(workdir: Path) -> None:
    """[UNKNOWN-FUNC] reported at the call."""
    expect_error(workdir, [("F", "integer F()\n    return G(1);")], "G(1)",
                 "unknown function 'G'")


def test_wrong_argument_count(workdir: Path) -> None:
    """[ARITY] a user function called with the wrong number of arguments."""
    expect_error(
        workdir,
        [("F", "integer F(integer a)\n    return a;"), ("G", "integer G()\n    return F(1, 2);")],
        "F(1, 2)", "F takes 1 argument(s), 2 given",
    )


def test_wrong_argument_count_builtin(workdir: Path) -> None:
    """[ARITY] the same for built-ins."""
    expect_error(workdir, [("F", "bits(8) F(bits(4) a)\n    return ZeroExtend(a);")],
                 "ZeroExtend", "ZeroExtend takes 2 argument(s), 1 given")


def test_wrong_argument_type(workdir: Path) -> None:
    """[WIDTH-ARG] each argument must have its parameter's type."""
    expect_error(
        workdir,
        [("F", "integer F(bits(4) a)\n    return 1;"), ("G", "integer G()\n    return F('101');")],
        "'101'", "expected bits(4), found bits(3)",
    )


def test_procedure_used_as_value(workdir: Path) -> None:
    """[PROC-VALUE] a procedure's call has no value."""
    expect_error(workdir, [PROC_P, ("F", "integer F()\n    x = P();\n    return 1;")],
                 "P()", "procedure P returns no value", nth=2)


def test_function_used_without_call(workdir: Path) -> None:
    """[PROC-VALUE] a function's name alone is not a value."""
    expect_error(workdir, [PROC_P, ("F", "integer F()\n    x = P;\n    return 1;")],
                 "P;", "function P is used without calling it")


def test_property_called(workdir: Path) -> None:
    """[PROPERTY-CALL] properties are proof goals, not functions."""
    expect_error(
        workdir,
        [("Q", "property Q()\n    return TRUE;"), ("F", "boolean F()\n    return Q();")],
        "Q()", "Q is a property and cannot be called", nth=2,
    )


def test_local_shadowing_global(workdir: Path) -> None:
    """[NO-SHADOW] a local declaration may not hide a global; reported at the statement."""
    expect_error(workdir, [("V", "var integer V;"), ("F", "F()\n    integer V = 1;")],
                 "integer V = 1", "local 'V' would hide the global 'V'")


def test_parameter_shadowing_global(workdir: Path) -> None:
    """[NO-SHADOW] so may a parameter."""
    expect_error(workdir, [("C", "constant integer C = 1;"), ("F", "F(integer C)\n    C = 2;")],
                 "C)", "parameter 'C' would hide the global 'C'")


def test_loop_variable_shadowing_enumeration_member(workdir: Path) -> None:
    """[NO-SHADOW] and so may a loop variable."""
    code = "F()\n    for A = 0 to 3\n        assert TRUE;"
    expect_error(workdir, [("E", "enumeration E {A, B};"), ("F", code)],
                 "for A", "local 'A' would hide the global 'A'")


def test_local_declared_twice(workdir: Path) -> None:
    """[LOCAL-REDECL] a local name is declared once per function, even in inner blocks."""
    code = """
        F(boolean b)
            integer x = 1;
            if b then
                integer x = 2;
    """
    expect_error(workdir, [("F", code)], "integer x = 2", "'x' is already declared")


def test_duplicate_parameter(workdir: Path) -> None:
    """[LOCAL-REDECL] parameters too."""
    expect_error(workdir, [("F", "F(integer a, boolean a)\n    assert TRUE;")], "a)",
                 "parameter a is declared twice")


def test_assignment_declares_a_local(workdir: Path) -> None:
    """An assignment to a fresh name declares a local with the value's type."""
    code = """
        bits(8) F(bits(4) a)
            x = a : a;
            return x;
    """
    loaded = loads(spec_file(workdir, ("F", code)))
    assert str(loaded.program.locals["F"]["x"]) == "bits(8)"


# Two invariants, for an invariant's assuming list to name.
INVARIANTS = [("I", "invariant I()\n    return TRUE;"), ("J", "invariant J()\n    return TRUE;")]


def assuming(names: str) -> tuple[str, str]:
    return ("K", f"invariant K() assuming ({names})\n    return TRUE;")


def test_assuming_names_only_invariants(workdir: Path) -> None:
    """[ASSUMING] each name in the list is an invariant; reported at the name."""
    expect_error(workdir, [*INVARIANTS, assuming("I, Nothing")], "Nothing)",
                 "K assumes 'Nothing', which is not an invariant")
    expect_error(workdir, [*INVARIANTS, PROC_P, assuming("P")], "P)",
                 "K assumes 'P', which is not an invariant")


def test_assuming_names_each_invariant_once(workdir: Path) -> None:
    """[ASSUMING] not the invariant itself, which every obligation assumes anyway, nor one name twice."""
    expect_error(workdir, [*INVARIANTS, assuming("K")], "K)", "K names itself in its assuming list")
    expect_error(workdir, [*INVARIANTS, assuming("J, I, J")], "J)", "K assumes 'J' twice")
