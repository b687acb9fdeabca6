"""The command line: `hypspec run` and `hypspec check` from a user's point of view."""

from __future__ import annotations

import json

import pytest

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


# `hypspec run` arguments that must be refused, and what the message must say.
RUN_REJECTIONS = [
    (["CurrentPL", "--set", "NOPE=1"], ["unknown register or global 'NOPE'"]),
    (["CurrentPL", "--set", "CPSR.X=1"], ["CPSR has no field 'X'"]),
    (["CurrentPL", "--set", "CPSR.M=0x20"], ["does not fit in 5 bits"]),
    (["AArch32.SecondStageTranslate", "0", "AccType_BOGUS", "FALSE"],
     ["expected one of AccType_NORMAL, AccType_IFETCH"]),
    (["CurrentPL", "--set", "VTCR.SL0=abc"], ["--set VTCR.SL0: 'abc'"]),
    (["CurrentPL", "--set", "VTTBR=1x"], ["--set VTTBR"]),
    (["CurrentPL", "--mem", "zz=1"], ["--mem address: 'zz'"]),
    (["CurrentPL", "--mem", "0x10=ten"], ["--mem 0x10: 'ten'"]),
    (["CurrentPL", "--mem", "0x10"], ["--mem takes ADDRESS=WORD, not '0x10'"]),
    (["CurrentPL", "--mem", "0x14=1"], ["a multiple of 8"]),
    (["CurrentPL", "--set", "PhysMem=1"], ["PhysMem is a map"]),
    # Rmode asserts its register number is at most 14
    (["Rmode", "15", "0x10"], ["the spec's assert does not hold", "spec/02-processor-state.md:"]),
]


@pytest.mark.parametrize("arguments, messages", RUN_REJECTIONS, ids=[" ".join(a) for a, _ in RUN_REJECTIONS])
def test_run_rejects_bad_input_with_a_message(capsys, arguments: list[str], messages: list[str]) -> None:
    """Exit 2 and a message naming what is wrong, never a traceback."""
    assert main(["run", *arguments]) == 2
    err = capsys.readouterr().err
    for message in messages:
        assert message in err


def test_check_reports_the_spec(capsys) -> None:
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
