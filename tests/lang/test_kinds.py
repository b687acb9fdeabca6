"""Where each kind of thing may appear: forall only in properties [FORALL-PROPERTY],
maps only as globals [MAP-GLOBAL], patterns are constants [PATTERN-CONST]."""

from __future__ import annotations

from pathlib import Path

from tests.lang.conftest import expect_error, loads, spec_file


def test_forall_outside_property(workdir: Path) -> None:
    """[FORALL-PROPERTY] quantifiers belong to properties; reported at `forall`."""
    expect_error(workdir, [("F", "boolean F()\n    return forall (integer x) :: x == x;")],
                 "forall", "forall may only appear in a property")


def test_forall_in_property(workdir: Path) -> None:
    """[FORALL-PROPERTY] a property may quantify; it is a boolean function of its inputs."""
    code = "property P(bits(4) a)\n    return forall (bits(4) b) :: (a EOR b) EOR b == a;"
    program = loads(spec_file(workdir, ("P", code))).program
    assert list(program.properties) == ["P"]
    assert str(program.functions["P"].result_ty) == "boolean"


def test_map_as_local(workdir: Path) -> None:
    """[MAP-GLOBAL] a map is memory-like global state, never a local."""
    expect_error(workdir, [("F", "F()\n    map bits(4) of bits(8) m;")], "map",
                 "a map can only be a global variable")


def test_map_as_parameter(workdir: Path) -> None:
    """[MAP-GLOBAL] nor a parameter."""
    expect_error(workdir, [("F", "F(map bits(4) of bits(8) m)\n    assert TRUE;")], "map",
                 "a map can only be a global variable")


def test_map_in_record(workdir: Path) -> None:
    """[MAP-GLOBAL] nor a record field."""
    expect_error(workdir, [("T", "type T is (map bits(4) of bits(8) m);")], "map",
                 "a map can only be a global variable")


def test_map_global(workdir: Path) -> None:
    """[MAP-GLOBAL] a global map is indexed by its key type."""
    path = spec_file(
        workdir,
        ("M", "var map bits(4) of bits(8) M;"),
        ("F", "bits(8) F(bits(4) k)\n    M[k] = '00000001';\n    return M[k];"),
    )
    assert str(loads(path).program.globals["M"].ty) == "map bits(4) of bits(8)"


def test_pattern_must_be_constant(workdir: Path) -> None:
    """[PATTERN-CONST] `when` patterns are literals or constants."""
    code = """
        integer F(bits(2) a, bits(2) b)
            case a of
                when b return 1;
                otherwise return 0;
    """
    expect_error(workdir, [("F", code)], "b return", "a pattern must be a constant")


def test_unknown_value(workdir: Path) -> None:
    """UNKNOWN is a value of the named type, chosen by the oracle."""
    code = "bits(4) F()\n    x = bits(4) UNKNOWN;\n    return x;"
    assert "F" in loads(spec_file(workdir, ("F", code))).program.functions


def test_dont_care_bits_outside_pattern(workdir: Path) -> None:
    """[DONT-CARE] a bit string with 'x' bits is a pattern, not a value."""
    expect_error(workdir, [("F", "bits(2) F(bits(2) a)\n    return a AND '1x';")], "'1x'",
                 "'x' bits is a pattern")


def test_dont_care_bits_in_patterns(workdir: Path) -> None:
    """[DONT-CARE] after `when`, in `IN {...}` and as a side of == or != it matches."""
    code = """
        integer F(bits(4) a)
            if a IN {'1xx0', '0000'} || '0x1x' != a then
                return 1;
            case a of
                when '01x1' return 2;
                otherwise return 3;
    """
    assert "F" in loads(spec_file(workdir, ("F", code))).program.functions


def test_condition_must_be_boolean(workdir: Path) -> None:
    """[BOOL-COND] `if`, `elsif`, `assert` and `&&`/`||`/`-->` take booleans."""
    expect_error(workdir, [("F", "F(bits(1) b)\n    assert b;")], "b;",
                 "expected boolean, found bits(1)")


def test_equality_of_records(workdir: Path) -> None:
    """[EQ-SCALAR] == and != compare scalars: bits, integers, booleans, enumerations."""
    expect_error(
        workdir,
        [("T", "type T is (bits(4) f);"), ("F", "boolean F(T a, T b)\n    return a == b;")],
        "a == b", "cannot compare values of type T",
    )


def test_case_on_boolean(workdir: Path) -> None:
    """[CASE-SUBJECT] `case` selects on bits, integers or enumerations."""
    code = "integer F(boolean b)\n    case b of\n        when TRUE return 1;\n        otherwise return 0;"
    expect_error(workdir, [("F", code)], "b of", "cannot select on a value of type boolean")


def test_constant_value_must_be_constant(workdir: Path) -> None:
    """[CONST-VALUE] a constant's value is known when the spec is checked."""
    expect_error(workdir, [("V", "var integer V;"), ("C", "constant integer C = V + 1;")],
                 "V + 1", "a constant's value must be a constant expression")


def test_type_used_before_definition(workdir: Path) -> None:
    """[DEF-ORDER] types are defined in reading order (so no type contains itself)."""
    expect_error(
        workdir,
        [("U", "type U is (T t);"), ("T", "type T is bits(4) { 3:0 A };")],
        "T t", "type T is used before its definition is complete",
    )


def test_constant_used_before_definition(workdir: Path) -> None:
    """[DEF-ORDER] constants too; a constant may size a later type or register."""
    expect_error(
        workdir,
        [("A", "constant integer A = B + 1;"), ("B", "constant integer B = 1;")],
        "B + 1", "a constant's value must be a constant expression",
    )
    path = spec_file(
        workdir,
        ("N", "constant integer N = 8;"),
        ("T", "type T is bits(N) { 7:4 HI, 3:0 LO };"),
        ("R", "type R is (T t, bits(N DIV 2) half);"),
    )
    program = loads(path).program
    assert [str(t) for _, t in program.records["R"].fields] == ["T", "bits(4)"]


TABLE = ("M", "var map bits(4) of bits(8) M;")


def test_clear_a_map(workdir: Path) -> None:
    """[CLEAR-MAP] `clear M[k] where cond;` names a global map; `k` has its key type."""
    path = spec_file(workdir, TABLE, ("F", "F(bits(2) tag)\n    clear M[k] where k<3:2> == tag;"))
    (clear,) = loads(path).program.functions["F"].body
    assert str(clear.key_ty) == "bits(4)"


def test_clear_a_register(workdir: Path) -> None:
    """[CLEAR-MAP] only a map's keys can be cleared."""
    expect_error(workdir, [("R", "register bits(8) R { 0 E };"), ("F", "F()\n    clear R[k] where k == 0;")],
                 "R[", "'R' is not a global map")


def test_clear_an_unknown_map(workdir: Path) -> None:
    """[CLEAR-MAP] the map must exist."""
    expect_error(workdir, [("F", "F()\n    clear Q[k] where k == 0;")], "Q[", "unknown name 'Q'")


def test_clear_key_hides_a_global(workdir: Path) -> None:
    """[CLEAR-MAP] the key is a new name, which must not hide a global [NO-SHADOW]."""
    expect_error(workdir, [TABLE, ("F", "F()\n    clear M[M] where TRUE;")], "clear",
                 "local 'M' would hide the global 'M'")


def test_clear_condition_is_boolean(workdir: Path) -> None:
    """[CLEAR-MAP] the condition is boolean [BOOL-COND]."""
    expect_error(workdir, [TABLE, ("F", "F()\n    clear M[k] where k;")], "k;", "expected boolean")


def test_clear_condition_calls_no_function(workdir: Path) -> None:
    """[CLEAR-COND] the condition is evaluated for every key, so it cannot act: no call but a
    built-in's."""
    expect_error(workdir, [TABLE, ("G", "boolean G(bits(4) k)\n    return k == 0;"),
                           ("F", "F()\n    clear M[k] where IsZero(k) || G(k);")],
                 "G(k)", "cannot call G; write the test out")


def test_clear_condition_has_no_unknown(workdir: Path) -> None:
    """[CLEAR-COND] nor an UNKNOWN, which would be one choice for all keys in one semantics."""
    expect_error(workdir, [TABLE, ("F", "F()\n    clear M[k] where k == bits(4) UNKNOWN;")],
                 "bits(4) UNKNOWN", "cannot be UNKNOWN")


def test_clear_condition_reads_no_map(workdir: Path) -> None:
    """[CLEAR-COND] nor a map, which may change before a key the clear took is read."""
    expect_error(workdir, [TABLE, ("F", "F()\n    clear M[k] where M[k] == 0;")], "M[k] ==",
                 "cannot read a map; read what it needs into a local first")


def test_clear_key_is_not_visible_after(workdir: Path) -> None:
    """[CLEAR-MAP] the key's name ends with the statement."""
    expect_error(workdir, [TABLE, ("F", "bits(4) F()\n    clear M[k] where TRUE;\n    return k;")], "k;",
                 "unknown name 'k'")

