"""Registers and bitfield types: field layout [FIELD-ORDER] [FIELD-OVERLAP] [FIELD-RANGE]
[FIELD-DUP], field selection [FIELD-UNKNOWN], reset values [RESET-FIT]."""

from __future__ import annotations

from pathlib import Path

from tests.lang.conftest import expect_error, loads, spec_file


def test_reversed_register_field(workdir: Path) -> None:
    """[FIELD-ORDER] a field is written <hi:lo> with hi >= lo; reported at the field."""
    expect_error(workdir, [("R", "register bits(32) R { 0 A, 3:4 B };")], "3:4",
                 "field B: <3:4> is reversed")


def test_overlapping_register_fields(workdir: Path) -> None:
    """[FIELD-OVERLAP] fields on one line may not share a bit; the later one is reported."""
    expect_error(workdir, [("R", "register bits(32) R { 7:4 A, 5:0 B };")], "5:0",
                 "field B overlaps field A")


def test_overlapping_register_fields_across_lines(workdir: Path) -> None:
    """[FIELD-OVERLAP] nor may fields on different lines."""
    code = """
        register bits(32) R {
            31:16 HI,
            15:0 LO, 16 X
        };
    """
    expect_error(workdir, [("R", code)], "16 X", "field X overlaps field HI")


def test_field_outside_register_width(workdir: Path) -> None:
    """[FIELD-RANGE] a field lies inside the register."""
    expect_error(workdir, [("R", "register bits(32) R { 32 A };")], "32 A",
                 "field A: bit 32 is outside 32 bits")


def test_field_outside_bitfield_type(workdir: Path) -> None:
    """[FIELD-RANGE] the same holds for a bitfield type."""
    expect_error(workdir, [("T", "type T is bits(8) { 3:0 A, 9:4 B };")], "9:4",
                 "field B: bit 9 is outside 8 bits")


def test_field_declared_twice(workdir: Path) -> None:
    """[FIELD-DUP] field names are unique within a layout."""
    expect_error(workdir, [("T", "type T is bits(8) { 3:0 A, 4 A };")], "4 A",
                 "field A is declared twice in T")


def test_unknown_field_on_register(workdir: Path) -> None:
    """[FIELD-UNKNOWN] the message lists the fields the register has."""
    expect_error(
        workdir,
        [("R", "register bits(32) R { 3:0 A, 4 B };"), ("F", "bits(1) F()\n    return R.C;")],
        "R.C", "R has no field 'C'", "(fields: A, B)",
    )


def test_unknown_field_in_assignment(workdir: Path) -> None:
    """[FIELD-UNKNOWN] also on the left of an assignment."""
    expect_error(
        workdir,
        [("R", "register bits(32) R { 3:0 A };"), ("F", "F()\n    R.B = '1';")],
        "R.B", "R has no field 'B'",
    )


def test_unknown_field_on_record(workdir: Path) -> None:
    """[FIELD-UNKNOWN] records list their fields by declaration."""
    expect_error(
        workdir,
        [("T", "type T is (bits(4) f);"), ("F", "bits(4) F(T t)\n    return t.g;")],
        "t.g", "record T has no field 'g'",
    )


def test_field_of_plain_bits(workdir: Path) -> None:
    """[FIELD-UNKNOWN] a bit string without a layout has no fields."""
    expect_error(workdir, [("F", "bits(1) F(bits(4) a)\n    return a.X;")], "a.X",
                 "a value of type bits(4) has no field 'X'")


def test_reset_value_does_not_fit(workdir: Path) -> None:
    """[RESET-FIT] a register's reset value fits its width."""
    expect_error(workdir, [("R", "register bits(8) R { 7:0 A } = 0x100;")], "0x100",
                 "reset value of R must fit in 8 bits")


def test_register_layout_and_reset(workdir: Path) -> None:
    """A well-formed register: its fields are static slices, its reset value is kept."""
    path = spec_file(
        workdir,
        ("R", "register bits(32) R {\n    3:0 A, 4 B,\n    31 C\n} = 0x80000000;"),
        ("T", "type T is bits(8) { 7:4 HI, 3:0 LO };"),
        ("F", "bits(4) F(T t)\n    return if R.B == '1' then R.A else t.LO;"),
    )
    program = loads(path).program
    assert program.globals["R"].reset == 0x80000000
    assert program.layouts["R"].fields == (("A", 3, 0), ("B", 4, 4), ("C", 31, 31))
    assert program.layouts["T"].get("HI") == (7, 4)
