"""Widths: every bit string has a static width, and widths must agree [WIDTH-ASSIGN]
[WIDTH-COMPARE] [WIDTH-CONCAT] [SLICE-RANGE] [LIT-FIT] [EMPTY-BITS] [WIDTH-LIMIT]."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lang.conftest import expect_error, loads, spec_file


def test_width_mismatch_in_assignment(workdir: Path) -> None:
    """[WIDTH-ASSIGN] a declaration's value must have the declared width."""
    expect_error(workdir, [("F", "F()\n    bits(8) x = '0000';")], "'0000'",
                 "expected bits(8), found bits(4)")


def test_width_mismatch_in_reassignment(workdir: Path) -> None:
    """[WIDTH-ASSIGN] a local keeps the type of its first assignment."""
    code = """
        F(bits(4) y)
            x = Zeros(8);
            x = y;
    """
    expect_error(workdir, [("F", code)], "y;", "expected bits(8), found bits(4)")


def test_width_mismatch_in_register_field_assignment(workdir: Path) -> None:
    """[WIDTH-ASSIGN] a register field is a slice of its width."""
    expect_error(
        workdir,
        [("R", "register bits(32) R { 3:0 A } = 0;"), ("F", "F()\n    R.A = '1';")],
        "'1'", "expected bits(4), found bits(1)",
    )


def test_width_mismatch_in_comparison(workdir: Path) -> None:
    """[WIDTH-COMPARE] both sides of == have one type; reported at the comparison."""
    expect_error(workdir, [("F", "boolean F(bits(4) a, bits(8) b)\n    return a == b;")],
                 "a == b", "operands differ: bits(4) and bits(8)")


def test_width_mismatch_in_concatenation_result(workdir: Path) -> None:
    """[WIDTH-CONCAT] `:` adds widths; the result must fit where it goes."""
    expect_error(workdir, [("F", "bits(8) F(bits(4) a)\n    return a : a : a;")],
                 "a : a : a", "expected bits(8), found bits(12)")


def test_concatenation_of_integer(workdir: Path) -> None:
    """[WIDTH-CONCAT] `:` joins bit strings only: an integer has no width to add."""
    expect_error(workdir, [("F", "bits(8) F(bits(4) a, integer n)\n    return a : n;")],
                 "a : n", "':' joins two bit strings")


@pytest.mark.parametrize(
    ("slice_text", "words"),
    [
        ("a<9:6>", "slice <9:6> is outside a 8-bit value"),
        ("a<2:5>", "slice <2:5> is outside a 8-bit value"),
        ("a<8>", "bit 8 is outside a 8-bit value"),
        ("a<6+:4>", "slice <6+:4> is outside a 8-bit value"),
    ],
)
def test_slice_out_of_range(workdir: Path, slice_text: str, words: str) -> None:
    """[SLICE-RANGE] constant slice bounds must lie inside the value, hi >= lo."""
    expect_error(workdir, [("F", f"bits(1) F(bits(8) a)\n    x = {slice_text};\n    return '0';")],
                 slice_text, words)


def test_dynamic_slice_wider_than_value(workdir: Path) -> None:
    """[SLICE-RANGE] `<lo+:width>` with a dynamic lo still has a constant width, which
    cannot exceed the value's."""
    expect_error(workdir, [("F", "bits(9) F(bits(8) a, integer i)\n    return a<i+:9>;")],
                 "a<i+:9>", "<lo+:9> is wider than a 8-bit value")


def test_slice_needs_constant_bounds(workdir: Path) -> None:
    """[SLICE-RANGE] `<hi:lo>` needs constants; `<lo+:width>` is the dynamic form."""
    expect_error(workdir, [("F", "bits(4) F(bits(8) a, integer i)\n    return a<i:0>;")],
                 "a<i:0>", "needs constant bounds", "<lo+:width>")


def test_integer_literal_does_not_fit(workdir: Path) -> None:
    """[LIT-FIT] an integer literal used as bits must fit the width."""
    expect_error(workdir, [("F", "F()\n    bits(4) x = 16;")], "16", "16 does not fit in bits(4)")


def test_empty_bit_string(workdir: Path) -> None:
    """[EMPTY-BITS] a bit string has at least one bit (Z3 has no 0-bit sort)."""
    expect_error(workdir, [("F", "F()\n    x = '';")], "''", "needs at least one bit")


@pytest.mark.parametrize(
    ("code", "needle", "words"),
    [
        ("F()\n    bits(65537) x = Zeros(65537);", "65537)", "at most 65536"),
        ("var array [100000] of bits(8) F;", "100000", "an array's length must be at most"),
        ("bits(4) F(bits(4) a)\n    return Zeros(0x10000000000)<3:0>;", "Zeros",
         "wider than the limit"),
    ],
)
def test_width_limit(workdir: Path, code: str, needle: str, words: str) -> None:
    """[WIDTH-LIMIT] widths and array lengths are at most 65536."""
    expect_error(workdir, [("F", code)], needle, words)


def test_width_must_be_constant(workdir: Path) -> None:
    """[WIDTH-CONST] a width is a constant expression (user functions are not generic)."""
    expect_error(workdir, [("F", "F(integer n)\n    bits(n) x = Zeros(4);")], "n) x",
                 "a bit string's width must be a constant integer expression")


def test_width_from_constant(workdir: Path) -> None:
    """[WIDTH-CONST] named integer constants and arithmetic on them are constant."""
    path = spec_file(
        workdir,
        ("N", "constant integer N = 4;"),
        ("F", "bits(N * 2) F(bits(N) a)\n    return a : Zeros(N - 1 + 1);"),
    )
    assert str(loads(path).program.functions["F"].result_ty) == "bits(8)"
