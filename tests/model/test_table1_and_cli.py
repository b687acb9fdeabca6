"""`hypspec table1` counts the switched context from the model's own world switch, of the model or
of a variant; `hypspec explore`, `hypspec prove --variant` and `hypspec table1 --variant` take bad
arguments as errors, not tracebacks."""

from __future__ import annotations

import pytest

from hypspec.api import Spec, proof_tree
from hypspec.cli import main
from hypspec.model.program import Model, load_model
from hypspec.model.table1 import switched_words, table1_rows, unswitched_writable
from hypspec.proof.mutants import patched_tree, variant


def test_table1_counts_come_from_running_the_world_switch() -> None:
    """Expected counts from Linux's structures (shared/reference/kvm-arm-facts.md §1), written out:
    struct kvm_regs holds 37 words; 24 CP15 registers in 27 words with AMAIR0/1; GICH: 8 saved
    control registers, 3 restored; 4 list registers; CNTV_CTL and CNTV_CVAL; D0-D31; FPEXC, FPSCR."""
    rows = {r.state: r for r in table1_rows(load_model())}
    assert rows["General purpose (GP) registers"].counted == "37 words saved, 37 restored"
    # the entry also reads cp15[c0_MPIDR], the guest's MPIDR, into VMPIDR
    assert rows["Control registers"].counted == "27 words saved, 28 restored"
    assert rows["VGIC control registers"].counted == "8 words saved, 3 restored"
    assert rows["VGIC list registers"].counted == "4 words saved, 4 restored"
    assert rows["Arch. timer control registers"].counted == "2 words saved, 2 restored"
    assert rows["VFP registers (64-bit)"].counted == "32 words saved, 32 restored"
    assert rows["VFP control registers"].counted == "2 words saved, 2 restored"


def test_linux_3_10_saves_no_fiq_bank_and_leaves_four_register_groups_unswitched() -> None:
    with patched_tree(*variant("linux-3.10")) as root:
        model = Model(Spec.load(*proof_tree(root)))
        restored, saved = switched_words(model)
        missing = unswitched_writable(model)
    gp_saved = sum(1 for i in range(37) if i in saved)
    assert gp_saved == 29 and sum(1 for i in range(37) if i in restored) == 37
    assert {"AMAIR0", "AMAIR1", "TEECR", "TEEHBR", "DBGOther"} <= set(missing)


def test_the_model_leaves_no_guest_writable_register_unswitched() -> None:
    assert unswitched_writable(load_model()) == []


@pytest.mark.parametrize("argv", [
    ["explore", "--steps", "0"], ["explore", "--seed", "-1"], ["explore", "--examples", "x"],
    ["explore", "--model", "/no/such/dir"], ["explore", "--pes", "9", "--steps", "1", "--examples", "1"],
    ["prove", "--variant", "linux-2.6"], ["prove", "--timeout", "nan"], ["prove", "--jobs", "0"],
    ["table1", "--variant", "linux-2.6"], ["table1", "--variant", "linux-3.10", "--model", "models/kvm_arm"],
])
def test_bad_arguments_are_errors(argv: list[str], capsys) -> None:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_table1_of_a_variant_names_what_it_leaves_unswitched(capsys) -> None:
    """`--variant` counts the variant's own world switch: Linux 3.10 saves 29 core words and
    leaves the AMAIR, debug and ThumbEE registers in the hardware; the model leaves none."""
    assert main(["table1", "--variant", "linux-3.10"]) == 0
    out = capsys.readouterr().out
    assert "General purpose (GP) registers" in out and "29 words saved, 37 restored" in out
    assert "does not move: AMAIR0, AMAIR1" in out and "TEEHBR" in out
    assert main(["table1"]) == 0
    assert "every system register a guest can write without a trap is moved" in capsys.readouterr().out


def test_explore_reports_a_clean_run(capsys) -> None:
    assert main(["explore", "--steps", "10", "--examples", "5", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "OK: every invariant held after every step" in out
