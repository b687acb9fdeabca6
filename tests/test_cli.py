"""The command line: `hypspec run` and `hypspec check` from a user's point of view."""

from __future__ import annotations

import json

from hypspec.cli import main


def test_run_evaluates_a_spec_function_with_registers_and_memory(capsys) -> None:
    # A level-1 table at 0x48000000 whose entry 2 is a table at 0x48001000, whose entry 3
    # is a read-only 2MB block at 0x50600000: a write faults with a permission fault at level 2.
    status = main(["run", "AArch32.SecondStageTranslate", "0x80612344", "AccType_NORMAL", "TRUE",
                   "--set", "VTCR.SL0=1", "--set", "VTTBR=0x48000000",
                   "--mem", "0x48000010=0x48001003", "--mem", "0x48001018=0x50600441", "--json"])
    assert status == 0
    output = json.loads(capsys.readouterr().out)
    assert output["result"]["fault"]["statuscode"] == "Fault_Permission"
    assert output["result"]["fault"]["level"] == 2
    assert output["result"]["paddress"] == 0x50612344


def test_run_rejects_an_unknown_register(capsys) -> None:
    assert main(["run", "CurrentPL", "--set", "NOPE=1"]) == 2
    assert "unknown register or global 'NOPE'" in capsys.readouterr().err


def test_run_rejects_an_unknown_field(capsys) -> None:
    assert main(["run", "CurrentPL", "--set", "CPSR.X=1"]) == 2
    assert "CPSR has no field 'X'" in capsys.readouterr().err


def test_run_rejects_a_value_too_wide_for_its_field(capsys) -> None:
    assert main(["run", "CurrentPL", "--set", "CPSR.M=0x20"]) == 2
    assert "does not fit in 5 bits" in capsys.readouterr().err


def test_run_rejects_a_bad_enumeration_member(capsys) -> None:
    status = main(["run", "AArch32.SecondStageTranslate", "0", "AccType_BOGUS", "FALSE"])
    assert status == 2
    assert "expected one of AccType_NORMAL, AccType_IFETCH" in capsys.readouterr().err


def test_run_rejects_what_is_not_a_number(capsys) -> None:
    cases = ((["--set", "VTCR.SL0=abc"], "--set VTCR.SL0: 'abc'"), (["--set", "VTTBR=1x"], "--set VTTBR"),
             (["--mem", "zz=1"], "--mem address: 'zz'"), (["--mem", "0x10=ten"], "--mem 0x10: 'ten'"))
    for argument, named in cases:
        assert main(["run", "CurrentPL", *argument]) == 2
        assert named in capsys.readouterr().err


def test_run_rejects_memory_without_a_word_or_off_its_alignment(capsys) -> None:
    assert main(["run", "CurrentPL", "--mem", "0x10"]) == 2
    assert "--mem takes ADDRESS=WORD, not '0x10'" in capsys.readouterr().err
    assert main(["run", "CurrentPL", "--mem", "0x14=1"]) == 2
    assert "a multiple of 8" in capsys.readouterr().err


def test_run_rejects_a_number_for_memory(capsys) -> None:
    assert main(["run", "CurrentPL", "--set", "PhysMem=1"]) == 2
    assert "PhysMem is a map" in capsys.readouterr().err


def test_run_reports_a_broken_spec_assert_with_its_location(capsys) -> None:
    """Rmode asserts its register number is at most 14."""
    assert main(["run", "Rmode", "15", "0x10"]) == 2
    err = capsys.readouterr().err
    assert "the spec's assert does not hold" in err and "spec/02-processor-state.md:" in err


def test_check_reports_the_spec(capsys) -> None:
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
