"""Arithmetic stays linear and inside 64-bit integers: [LINEAR-MUL] [CONST-DIV]
[UINT-WIDTH] [INT-COMPARE] [BUILTIN-CONST]."""

from __future__ import annotations

from pathlib import Path

from tests.lang.conftest import expect_error, loads, spec_file


def test_multiplication_without_constant_operand(workdir: Path) -> None:
    """[LINEAR-MUL] `*` needs a constant operand; reported at the product."""
    expect_error(workdir, [("F", "integer F(integer a, integer b)\n    return a * b;")],
                 "a * b", "'*' needs a constant operand")


def test_multiplication_by_constant(workdir: Path) -> None:
    """[LINEAR-MUL] either side may be the constant."""
    path = spec_file(workdir, ("F", "integer F(integer a)\n    return 8 * a + a * 2;"))
    assert "F" in loads(path).program.functions


def test_div_by_non_constant(workdir: Path) -> None:
    """[CONST-DIV] DIV needs a positive constant divisor."""
    expect_error(workdir, [("F", "integer F(integer a, integer b)\n    return a DIV b;")],
                 "a DIV b", "'DIV' needs a positive constant divisor")


def test_mod_by_zero(workdir: Path) -> None:
    """[CONST-DIV] so does MOD, and zero is not positive."""
    expect_error(workdir, [("F", "integer F(integer a)\n    return a MOD 0;")], "a MOD 0",
                 "'MOD' needs a positive constant divisor")


def test_uint_of_64_bit_value(workdir: Path) -> None:
    """[UINT-WIDTH] UInt of 64 bits does not fit a 64-bit two's-complement integer."""
    expect_error(workdir, [("F", "integer F(bits(64) a)\n    return UInt(a);")], "UInt",
                 "UInt of a 64-bit value does not fit a 64-bit integer", "slice it first")


def test_uint_of_sliced_and_sint_of_64_bit_value(workdir: Path) -> None:
    """[UINT-WIDTH] UInt of up to 63 bits and SInt of up to 64 bits are fine."""
    path = spec_file(workdir, ("F", "integer F(bits(64) a)\n    return UInt(a<62:0>) + SInt(a);"))
    assert "F" in loads(path).program.functions


def test_sint_of_65_bit_value(workdir: Path) -> None:
    """[UINT-WIDTH] SInt of more than 64 bits does not fit."""
    expect_error(workdir, [("F", "integer F(bits(65) a)\n    return SInt(a);")], "SInt",
                 "SInt of a 65-bit value does not fit")


def test_ordering_comparison_of_bits(workdir: Path) -> None:
    """[INT-COMPARE] `<`, `<=`, `>`, `>=` compare integers only."""
    expect_error(workdir, [("F", "boolean F(bits(4) a, bits(4) b)\n    return a < b;")],
                 "a < b", "'<' compares integers", "UInt()")


def test_builtin_width_must_be_constant(workdir: Path) -> None:
    """[BUILTIN-CONST] a built-in's width argument is a constant."""
    expect_error(workdir, [("F", "bits(8) F(bits(4) a, integer n)\n    return ZeroExtend(a, n);")],
                 "ZeroExtend", "ZeroExtend: argument 2 (the result width) must be a constant")


def test_builtin_argument_kind(workdir: Path) -> None:
    """[BUILTIN-ARG] built-ins check the kinds of their arguments."""
    expect_error(workdir, [("F", "boolean F(integer a)\n    return IsZero(a);")], "IsZero",
                 "IsZero: argument 1 must be a bit string, not integer")


def test_align_needs_power_of_two(workdir: Path) -> None:
    """[BUILTIN-ARG] Align rounds to a power of two."""
    expect_error(workdir, [("F", "integer F(integer a)\n    return Align(a, 6);")], "Align",
                 "the alignment 6 is not a power of two")
