"""Processor state (spec/02-processor-state.md): banked registers, SPSRs, mode changes.

Worked examples: every expected value is derived by hand from the ARM ARM
(DDI 0406C.d): the CPSR layout of §B1.3.3 (M = bits 4:0, T = 5, F = 6, I = 7,
A = 8, E = 9, IT<7:2> = 15:10, GE = 19:16, J = 24, IT<1:0> = 26:25, Q = 27,
V C Z N = 28..31), the mode encodings of Table B1-1, the banked registers
of §B1.3.2 numbered as ARMv8 maps them (0-7 R0-R7, 8-12 R8_usr-R12_usr,
13 SP_usr, 14 LR_usr, 15 SP_hyp, 16/17 LR/SP_irq, 18/19 LR/SP_svc,
20/21 LR/SP_abt, 22/23 LR/SP_und, 24-28 R8_fiq-R12_fiq, 29/30 SP/LR_fiq), and
the mode-change rules the chapter states (illegal changes leave CPSR.M alone).
Then Hypothesis checks that the concrete and symbolic semantics agree on the
mode-change functions, and the mode properties are proved and seen to fail
on their mutants.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec
from tests.helpers.agreement import agree_api
from tests.helpers.processor_state import (
    A_BIT,
    ABT,
    F_BIT,
    FIQ,
    HYP,
    I_BIT,
    IRQ,
    LR_ABT,
    LR_FIQ,
    LR_IRQ,
    LR_SVC,
    LR_UND,
    LR_USR,
    MODES,
    MON,
    SP_ABT,
    SP_FIQ,
    SP_HYP,
    SP_IRQ,
    SP_SVC,
    SP_UND,
    SP_USR,
    SPSR_OF,
    SVC,
    SYS,
    T_BIT,
    TGE,
    UND,
    USR,
)
from tests.strategies import WORD, processor_states

BANK = {  # (n, mode) -> index, from §B1.3.2, Figure B1-2 (one column per mode)
    **{(n, m): n for n in range(8) for m in MODES},
    **{(n, m): n for n in range(8, 13) for m in MODES if m != FIQ},
    **{(n, FIQ): 16 + n for n in range(8, 13)},
    (13, USR): SP_USR, (13, SYS): SP_USR, (14, USR): LR_USR, (14, SYS): LR_USR,
    (13, HYP): SP_HYP, (14, HYP): LR_USR,  # Hyp mode has SP_hyp but shares LR_usr
    (13, IRQ): SP_IRQ, (14, IRQ): LR_IRQ, (13, SVC): SP_SVC, (14, SVC): LR_SVC,
    (13, ABT): SP_ABT, (14, ABT): LR_ABT, (13, UND): SP_UND, (14, UND): LR_UND,
    (13, FIQ): SP_FIQ, (14, FIQ): LR_FIQ,
}
REGISTERS = [0x1000 + 0x11 * i for i in range(31)]  # distinct, recognisable contents


# ---- banked registers ------------------------------------------------------------------


@pytest.mark.parametrize(("n", "mode"), sorted(BANK))
def test_banked_register_index(spec: Spec, n: int, mode: int) -> None:
    assert spec.call("LookUpRIndex", n, mode) == BANK[(n, mode)]
    state = spec.state(_R=REGISTERS)
    assert spec.call("Rmode", n, mode, state=state) == REGISTERS[BANK[(n, mode)]]


def test_write_through_current_mode_reaches_its_bank(spec: Spec) -> None:
    state = spec.state(CPSR=SVC, _R=REGISTERS)
    spec.call("SetR", 13, 0xCAFE0000, state=state)  # SP in Supervisor mode is SP_svc
    spec.call("SetR", 14, 0xCAFE0004, state=state)
    assert state._R[SP_SVC] == 0xCAFE0000 and state._R[LR_SVC] == 0xCAFE0004
    assert state._R[SP_USR] == REGISTERS[SP_USR] and state._R[LR_USR] == REGISTERS[LR_USR]


def test_hyp_mode_lr_is_the_user_lr(spec: Spec) -> None:
    state = spec.state(CPSR=HYP | A_BIT | I_BIT | F_BIT, _R=REGISTERS)
    assert spec.call("R", 14, state=state) == REGISTERS[LR_USR]
    assert spec.call("R", 13, state=state) == REGISTERS[SP_HYP]


@pytest.mark.parametrize(("cpsr", "expected"), [(SVC, 0x8008), (SVC | T_BIT, 0x8004)])
def test_pc_reads_ahead_of_the_current_instruction(spec: Spec, cpsr: int, expected: int) -> None:
    # §A2.3: reading R15 gives the instruction's address + 8 in ARM state, + 4 in Thumb.
    assert spec.call("R", 15, state=spec.state(CPSR=cpsr, _PC=0x8000)) == expected


@pytest.mark.parametrize("mode", sorted(SPSR_OF))
def test_spsr_of_the_current_mode(spec: Spec, mode: int) -> None:
    values = {name: 0x100 + i for i, name in enumerate(SPSR_OF.values())}
    state = spec.state(CPSR=mode, **values)
    assert spec.call("SPSR", state=state) == values[SPSR_OF[mode]]
    spec.call("SetSPSR", 0xF00000D3, state=state)
    assert getattr(state, SPSR_OF[mode]) == 0xF00000D3
    others = [name for name in SPSR_OF.values() if name != SPSR_OF[mode]]
    assert all(getattr(state, name) == values[name] for name in others)


@pytest.mark.parametrize("mode", [USR, SYS])
def test_user_and_system_have_no_spsr(spec: Spec, mode: int) -> None:
    values = {name: 0x100 + i for i, name in enumerate(SPSR_OF.values())}
    state = spec.state(CPSR=mode, **values)
    spec.call("SetSPSR", 0xF00000D3, state=state)  # UNPREDICTABLE: the model ignores it
    assert all(getattr(state, name) == values[name] for name in SPSR_OF.values())


# ---- the mode-change decision --------------------------------------------------------

OUTCOMES = [
    # (means, from, to, outcome), each from the rules of §B1.3.3 and §B9.3 as the chapter
    # adopts them (ARMv8's illegal mode change for the UNPREDICTABLE cases).
    ("ModeChangeMeans_CPS", SVC, HYP, "ModeChangeOutcome_Ignored"),      # PL1 -> PL2 by CPS
    ("ModeChangeMeans_CPS", SVC, USR, "ModeChangeOutcome_Allowed"),      # down to PL0
    ("ModeChangeMeans_CPS", SVC, IRQ, "ModeChangeOutcome_Allowed"),      # across PL1
    ("ModeChangeMeans_CPS", SVC, MON, "ModeChangeOutcome_Ignored"),      # Secure-only mode
    ("ModeChangeMeans_CPS", SVC, 0x00, "ModeChangeOutcome_Ignored"),     # reserved encoding
    ("ModeChangeMeans_CPS", USR, SVC, "ModeChangeOutcome_NOP"),          # CPS does nothing at PL0
    ("ModeChangeMeans_CPS", HYP, SVC, "ModeChangeOutcome_Ignored"),      # leaving Hyp by CPS
    ("ModeChangeMeans_MSR", SVC, HYP, "ModeChangeOutcome_Ignored"),
    ("ModeChangeMeans_MSR", USR, SVC, "ModeChangeOutcome_Ignored"),      # M not writable at PL0
    ("ModeChangeMeans_MSR", HYP, HYP, "ModeChangeOutcome_Allowed"),      # no change is fine
    ("ModeChangeMeans_MSR", HYP, SVC, "ModeChangeOutcome_Ignored"),
    ("ModeChangeMeans_MSR", SYS, FIQ, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_ERET", HYP, SVC, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_ERET", HYP, USR, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_ERET", HYP, HYP, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_ERET", HYP, MON, "ModeChangeOutcome_Ignored"),
    ("ModeChangeMeans_ERET", SVC, HYP, "ModeChangeOutcome_Ignored"),     # exception return up
    ("ModeChangeMeans_ERET", SVC, USR, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_ERET", USR, SVC, "ModeChangeOutcome_NOP"),
    ("ModeChangeMeans_ERET", SYS, USR, "ModeChangeOutcome_NOP"),
    ("ModeChangeMeans_SUBSPCLR", HYP, SVC, "ModeChangeOutcome_Undefined"),
    ("ModeChangeMeans_SUBSPCLR", IRQ, USR, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_SUBSPCLR", IRQ, HYP, "ModeChangeOutcome_Ignored"),
    ("ModeChangeMeans_SUBSPCLR", SYS, USR, "ModeChangeOutcome_NOP"),
    ("ModeChangeMeans_RFE", HYP, SVC, "ModeChangeOutcome_Undefined"),
    ("ModeChangeMeans_RFE", USR, SVC, "ModeChangeOutcome_NOP"),
    ("ModeChangeMeans_RFE", SYS, USR, "ModeChangeOutcome_Allowed"),     # RFE works in System mode
    ("ModeChangeMeans_RFE", SYS, HYP, "ModeChangeOutcome_Ignored"),
    ("ModeChangeMeans_Exception", USR, HYP, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_Exception", SVC, HYP, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_Exception", HYP, HYP, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_Exception", USR, UND, "ModeChangeOutcome_Allowed"),
    ("ModeChangeMeans_Exception", HYP, UND, "ModeChangeOutcome_Impossible"),  # Hyp never goes down
    ("ModeChangeMeans_Exception", SVC, SYS, "ModeChangeOutcome_Impossible"),  # not an exception mode
    ("ModeChangeMeans_Exception", SVC, USR, "ModeChangeOutcome_Impossible"),
]


@pytest.mark.parametrize(("means", "frommode", "tomode", "outcome"), OUTCOMES)
def test_mode_change_outcome(spec: Spec, means: str, frommode: int, tomode: int, outcome: str) -> None:
    assert spec.call("Model.ModeChange", means, frommode, tomode) == outcome


def test_exception_return_to_pl1_is_illegal_while_tge_is_set(spec: Spec) -> None:
    state = spec.state(HCR=TGE)
    assert spec.call("Model.ModeChange", "ModeChangeMeans_ERET", HYP, SVC, state=state) == (
        "ModeChangeOutcome_Ignored")
    assert spec.call("Model.ModeChange", "ModeChangeMeans_ERET", HYP, USR, state=state) == (
        "ModeChangeOutcome_Allowed")


# ---- instructions that change mode ---------------------------------------------------


def test_cps_cannot_enter_hyp(spec: Spec) -> None:
    state = spec.state(CPSR=0x60000013)
    outcome = spec.call("Model.ExecuteCPS", 0b00, False, False, False, True, HYP, state=state)
    assert outcome == "ModeChangeOutcome_Ignored" and state.CPSR == 0x60000013


def test_cpsid_i_and_mode_change_from_svc(spec: Spec) -> None:
    # CPSID i, #0x12 from SVC (0x13, masks clear): I set (0x80), mode IRQ (0x12).
    state = spec.state(CPSR=0x60000013)
    outcome = spec.call("Model.ExecuteCPS", 0b11, False, True, False, True, IRQ, state=state)
    assert outcome == "ModeChangeOutcome_Allowed" and state.CPSR == 0x60000092


def test_cpsie_aif_clears_the_masks(spec: Spec) -> None:
    state = spec.state(CPSR=SVC | A_BIT | I_BIT | F_BIT)  # 0x1D3
    spec.call("Model.ExecuteCPS", 0b10, True, True, True, False, 0, state=state)
    assert state.CPSR == SVC


def test_cps_in_user_mode_does_nothing(spec: Spec) -> None:
    state = spec.state(CPSR=USR)
    outcome = spec.call("Model.ExecuteCPS", 0b11, True, True, True, True, SVC, state=state)
    assert outcome == "ModeChangeOutcome_NOP" and state.CPSR == USR


def test_msr_at_pl1_to_hyp_writes_all_but_the_mode(spec: Spec) -> None:
    # MSR CPSR_c, #0x1A from 0x1D3: the control byte holds I=0, F=0, T=0, M=0x1A.
    # I and F are written (privileged), T is not (only exception returns write it),
    # M keeps SVC: 0x1D3 -> 0x113 (A is in byte 1, not written).
    state = spec.state(CPSR=0x1D3)
    outcome = spec.call("Model.ExecuteMSRCPSR", 0x1A, 0b0001, state=state)
    assert outcome == "ModeChangeOutcome_Ignored" and state.CPSR == 0x113


def test_msr_at_pl0_writes_only_the_apsr(spec: Spec) -> None:
    # MSR CPSR_fsxc, 0xF00F02D3 in User mode: N Z C V set (Q, bit 27, clear), GE = 0xF,
    # E = 1 (bit 9, writable at PL0); A, I, F and M stay as they are (0x10).
    state = spec.state(CPSR=USR)
    outcome = spec.call("Model.ExecuteMSRCPSR", 0xF00F02D3, 0b1111, state=state)
    assert outcome == "ModeChangeOutcome_Ignored" and state.CPSR == 0xF00F0210


def test_msr_never_writes_execution_state_bits(spec: Spec) -> None:
    # IT (26:25, 15:10), J (24) and T (5) are written only by exception returns.
    state = spec.state(CPSR=SVC)
    spec.call("Model.ExecuteMSRCPSR", 0x0700FC33, 0b1111, state=state)
    assert state.CPSR == SVC


@pytest.mark.parametrize(("nmfi", "expected"), [(0, SVC | F_BIT), (1, SVC)])
def test_nmfi_stops_software_setting_f(spec: Spec, nmfi: int, expected: int) -> None:
    state = spec.state(CPSR=SVC, SCTLR={"NMFI": nmfi})
    spec.call("Model.ExecuteMSRCPSR", SVC | F_BIT, 0b0001, state=state)
    assert expected == state.CPSR


def test_msr_cannot_leave_hyp(spec: Spec) -> None:
    state = spec.state(CPSR=0x1DA)
    assert spec.call("Model.ExecuteMSRCPSR", 0x1D3, 0b0001, state=state) == "ModeChangeOutcome_Ignored"
    assert state.CPSR == 0x1DA


def test_eret_from_hyp_enters_the_guest(spec: Spec) -> None:
    state = spec.state(CPSR=0x1DA, SPSR_hyp=0x600000D3, ELR_hyp=0x80002000)
    assert spec.call("Model.ExecuteERET", state=state) == "ModeChangeOutcome_Allowed"
    assert state.CPSR == 0x600000D3 and state._PC == 0x80002000


def test_eret_sets_the_event_register(spec: Spec) -> None:
    """An exception return is a wake-up event (ARMv8 AArch32.ExceptionReturn: SendEventLocal)."""
    state = spec.state(CPSR=0x1DA, SPSR_hyp=0x600000D3, ELR_hyp=0x80002000, EventRegister=0)
    spec.call("Model.ExecuteERET", state=state)
    assert state.EventRegister == 1
    state = spec.state(CPSR=0x1DA, EventRegister=0)
    spec.call("Model.ExecuteMSRCPSR", 0x1D3, 0b0001, state=state)  # not an exception return
    assert state.EventRegister == 0


def test_eret_to_thumb_aligns_to_a_halfword(spec: Spec) -> None:
    # SPSR_hyp = User, T set (0x30); ELR_hyp odd: Thumb branches clear bit 0 only.
    state = spec.state(CPSR=0x1DA, SPSR_hyp=0x30, ELR_hyp=0x80002003)
    spec.call("Model.ExecuteERET", state=state)
    assert state.CPSR == 0x30 and state._PC == 0x80002002


def test_eret_to_arm_aligns_to_a_word(spec: Spec) -> None:
    state = spec.state(CPSR=0x1DA, SPSR_hyp=0x13, ELR_hyp=0x80002003)
    spec.call("Model.ExecuteERET", state=state)
    assert state.CPSR == 0x13 and state._PC == 0x80002000


def test_eret_restores_the_it_state(spec: Spec) -> None:
    # SPSR_hyp with IT<7:0> = 0x06 (bits 15:10 = 000001, bits 26:25 = 10), Thumb, User.
    state = spec.state(CPSR=0x1DA, SPSR_hyp=0x04000430, ELR_hyp=0x80002000)
    spec.call("Model.ExecuteERET", state=state)
    assert state.CPSR == 0x04000430


@pytest.mark.parametrize("bad", [MON, 0x00, 0x15])
def test_eret_from_hyp_to_an_illegal_mode_stays_in_hyp(spec: Spec, bad: int) -> None:
    # SPSR_hyp = 0xF0000100 | bad: N Z C V set, A set, I F T clear. The mode stays
    # Hyp (0x1A); every other field comes from the SPSR; the branch is made.
    state = spec.state(CPSR=0x1DA, SPSR_hyp=0xF0000100 | bad, ELR_hyp=0x80002000)
    assert spec.call("Model.ExecuteERET", state=state) == "ModeChangeOutcome_Ignored"
    assert state.CPSR == 0xF000011A and state._PC == 0x80002000


def test_eret_to_pl1_with_tge_set_stays_in_hyp(spec: Spec) -> None:
    state = spec.state(CPSR=0x1DA, HCR=TGE, SPSR_hyp=0x13, ELR_hyp=0x80002000)
    assert spec.call("Model.ExecuteERET", state=state) == "ModeChangeOutcome_Ignored"
    assert state.CPSR == 0x1A and state._PC == 0x80002000


def test_eret_from_pl1_cannot_enter_hyp(spec: Spec) -> None:
    # ERET in SVC acts as SUBS PC, LR, #0: PC from LR_svc, CPSR from SPSR_svc = 0x1A.
    registers = list(REGISTERS)
    registers[LR_SVC] = 0x80003000
    state = spec.state(CPSR=0x1D3, SPSR_svc=0x1A, _R=registers)
    assert spec.call("Model.ExecuteERET", state=state) == "ModeChangeOutcome_Ignored"
    assert state.CPSR == 0x13 and state._PC == 0x80003000  # masks from SPSR (0), mode kept


def test_eret_from_svc_to_user(spec: Spec) -> None:
    registers = list(REGISTERS)
    registers[LR_SVC] = 0x80003000
    state = spec.state(CPSR=0x1D3, SPSR_svc=0x10, _R=registers)
    assert spec.call("Model.ExecuteERET", state=state) == "ModeChangeOutcome_Allowed"
    assert state.CPSR == 0x10 and state._PC == 0x80003000


@pytest.mark.parametrize("mode", [USR, SYS])
def test_eret_in_user_or_system_mode_is_a_nop(spec: Spec, mode: int) -> None:
    state = spec.state(CPSR=mode, _PC=0x8000)
    assert spec.call("Model.ExecuteERET", state=state) == "ModeChangeOutcome_NOP"
    assert mode == state.CPSR and state._PC == 0x8000


def test_subs_pc_lr_returns_from_an_irq(spec: Spec) -> None:
    # The IRQ handler's LR is the preferred return address + 4; SUBS PC, LR, #4 undoes it.
    registers = list(REGISTERS)
    registers[LR_IRQ] = 0x80001004
    state = spec.state(CPSR=0x192, SPSR_irq=0x60000010, _R=registers)
    assert spec.call("Model.ExecuteSUBSPCLR", 4, state=state) == "ModeChangeOutcome_Allowed"
    assert state.CPSR == 0x60000010 and state._PC == 0x80001000


def test_subs_pc_lr_is_undefined_in_hyp(spec: Spec) -> None:
    state = spec.state(CPSR=0x1DA, SPSR_hyp=0x13, _PC=0x8000)
    assert spec.call("Model.ExecuteSUBSPCLR", 4, state=state) == "ModeChangeOutcome_Undefined"
    assert state.CPSR == 0x1DA and state._PC == 0x8000


def test_rfe_in_system_mode(spec: Spec) -> None:
    state = spec.state(CPSR=SYS)
    assert spec.call("Model.ExecuteRFE", 0x80004000, 0x60000010, state=state) == "ModeChangeOutcome_Allowed"
    assert state.CPSR == 0x60000010 and state._PC == 0x80004000


@pytest.mark.parametrize(("mode", "outcome"), [(HYP, "ModeChangeOutcome_Undefined"),
                                               (USR, "ModeChangeOutcome_NOP")])
def test_rfe_in_hyp_and_user(spec: Spec, mode: int, outcome: str) -> None:
    state = spec.state(CPSR=mode, _PC=0x8000)
    assert spec.call("Model.ExecuteRFE", 0x80004000, 0x13, state=state) == outcome
    assert mode == state.CPSR and state._PC == 0x8000


# ---- concrete and symbolic semantics agree -------------------------------------------

EXAMPLES = 150

MEANS = st.sampled_from(["ModeChangeMeans_CPS", "ModeChangeMeans_MSR", "ModeChangeMeans_ERET",
                         "ModeChangeMeans_SUBSPCLR", "ModeChangeMeans_RFE",
                         "ModeChangeMeans_Exception"])


@settings(max_examples=EXAMPLES)
@given(means=MEANS, frommode=st.sampled_from(MODES), tomode=st.integers(0, 31),
       hcr=st.integers(0, 2**28 - 1))
def test_mode_change_agrees(spec: Spec, means: str, frommode: int, tomode: int, hcr: int) -> None:
    agree_api(spec, "Model.ModeChange", [means, frommode, tomode], {"HCR": hcr})


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), seed=st.integers(0, 3))
def test_eret_agrees(spec: Spec, state: dict[str, Any], seed: int) -> None:
    agree_api(spec, "Model.ExecuteERET", [], state, seed)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), imm=WORD, seed=st.integers(0, 3))
def test_subs_pc_lr_agrees(spec: Spec, state: dict[str, Any], imm: int, seed: int) -> None:
    agree_api(spec, "Model.ExecuteSUBSPCLR", [imm], state, seed)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), new_pc=WORD, new_cpsr=WORD)
def test_rfe_agrees(spec: Spec, state: dict[str, Any], new_pc: int, new_cpsr: int) -> None:
    agree_api(spec, "Model.ExecuteRFE", [new_pc, new_cpsr], state)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), imod=st.integers(0, 3), flags=st.lists(st.booleans(), min_size=4,
       max_size=4), mode=st.integers(0, 31))
def test_cps_agrees(spec: Spec, state: dict[str, Any], imod: int, flags: list[bool], mode: int) -> None:
    agree_api(spec, "Model.ExecuteCPS", [imod, *flags, mode], state)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), value=WORD, bytemask=st.integers(0, 15))
def test_msr_agrees(spec: Spec, state: dict[str, Any], value: int, bytemask: int) -> None:
    agree_api(spec, "Model.ExecuteMSRCPSR", [value, bytemask], state)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), n=st.integers(0, 14), mode=st.sampled_from(MODES), value=WORD)
def test_banked_register_write_agrees(spec: Spec, state: dict[str, Any], n: int, mode: int,
                                      value: int) -> None:
    agree_api(spec, "SetRmode", [n, mode, value], state)
