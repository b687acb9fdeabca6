"""Exceptions (spec/03-exceptions.md): entry to PL1 modes and Hyp mode, routing, return.

Worked examples, one or more per exception kind and target. Every expected
value is derived by hand from the ARM ARM (DDI 0406C.d): the CPSR layout of
§B1.3.3 (M 4:0, T 5, F 6, I 7, A 8, E 9, IT 15:10 and 26:25, J 24), the mode
encodings of Table B1-1 (User 0x10, FIQ 0x11, IRQ 0x12, Supervisor 0x13,
Abort 0x17, Hyp 0x1A, Undefined 0x1B, System 0x1F), the vector offsets of
§B1.8.1 (PL1: 0x04 Undefined, 0x08 SVC, 0x0C Prefetch Abort, 0x10 Data
Abort, 0x18 IRQ, 0x1C FIQ; Hyp: the same for exceptions taken in Hyp mode,
0x14 Hyp Trap for exceptions from a PL0 or PL1 mode, 0x18 and 0x1C for IRQ
and FIQ from anywhere), the LR offsets and masks of §B1.8.3 (Undefined +4/+2
and I; SVC +0 and I; Prefetch Abort +4 and A, I; Data Abort +8 and A, I; IRQ
+4 and A, I; FIQ +4 and A, I, F; Hyp: ELR_hyp = the preferred return address,
A, I and F set), and the HCR bit positions of §B4.1.65 (FMO 3, IMO 4, AMO 5,
VF 6, VI 7, VA 8, TGE 27). Syndromes are opaque values here (the HSR
encodings are the syndromes chapter's); the ones used are QEMU's observed
values from conformance-anchors §4 where one exists.

Common state unless a test says otherwise: SCTLR at its Cortex-A15 reset
0x00C50078 (V, TE, EE, NMFI clear), VBAR = 0x80000000, HVBAR = 0x40000000,
the faulting or next instruction at _PC = 0x80001000.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec, State
from tests.helpers.agreement import agree_api
from tests.helpers.processor_state import (
    ABT,
    FIQ,
    HYP,
    IRQ,
    LR_ABT,
    LR_FIQ,
    LR_IRQ,
    LR_SVC,
    LR_UND,
    LR_USR,
    MODES,
    SVC,
    UND,
)
from tests.strategies import WORD, processor_states

VBAR, HVBAR, PC = 0x80000000, 0x40000000, 0x80001000
T_BIT, F_BIT, I_BIT, A_BIT, E_BIT = 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9
AIF = A_BIT | I_BIT | F_BIT
FMO, IMO, AMO, VF, VI, VA, TGE = 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 27

HSR_BEFORE = 0xDEADBEEF  # a value no entry here produces, to see whether HSR was written
UNKNOWN_REASON = 0x02000000  # EC 0x00, IL 1: what an undefined instruction reports
SVC_5 = 0x46000005  # EC 0x11 (SVC), IL 1, imm16 5
HVC_1234 = 0x4A001234  # EC 0x12, IL 1, imm16 0x1234 (QEMU, conformance-anchors §4)
STAGE2_STORE = 0x9381004E  # EC 0x24, stage 2 permission fault on a word store (QEMU)
HSTR_SCTLR_READ = 0x0FE00401  # EC 0x03, an MRC of SCTLR trapped by HSTR.T1 (QEMU)
ASYNC_ABORT = 0x92000011  # EC 0x24, IL 1, DFSC 0x11 (asynchronous external abort)
PREFETCH_S2 = 0x82000006  # EC 0x20, IL 1, IFSC 0x06 (translation fault, level 2)

KINDS = [
    "ExceptionKind_Undefined", "ExceptionKind_SupervisorCall", "ExceptionKind_HypervisorCall",
    "ExceptionKind_PrefetchAbort", "ExceptionKind_DataAbort", "ExceptionKind_HypTrap",
    "ExceptionKind_IRQ", "ExceptionKind_FIQ", "ExceptionKind_SError",
    "ExceptionKind_VirtualIRQ", "ExceptionKind_VirtualFIQ", "ExceptionKind_VirtualSError",
]


def fault(secondstage: bool = False, debug: bool = False) -> dict[str, Any]:
    status = "Fault_Debug" if debug else "Fault_Translation" if secondstage else "Fault_None"
    return {"statuscode": status, "level": 2, "write": False, "ipaddress": 0x48000000,
            "secondstage": secondstage}


def machine(spec: Spec, **registers: Any) -> State:
    base: dict[str, Any] = {"VBAR": VBAR, "HVBAR": HVBAR, "_PC": PC, "HSR": HSR_BEFORE,
                            "_R": list(range(0x100, 0x100 + 31))}
    return spec.state(**{**base, **registers})


def take(spec: Spec, state: State, kind: str, syndrome: int = 0, secondstage: bool = False,
         debug: bool = False) -> bool:
    return spec.call("Model.TakeException", f"ExceptionKind_{kind}", syndrome,
                     fault(secondstage, debug), state=state)


def assert_pl1_entry(state: State, cpsr: int, spsr_name: str, spsr: int, lr_index: int, lr: int,
                     pc: int) -> None:
    assert cpsr == state.CPSR, hex(state.CPSR)
    assert getattr(state, spsr_name) == spsr
    assert state._R[lr_index] == lr, hex(state._R[lr_index])
    assert pc == state._PC, hex(state._PC)
    assert state.HSR == HSR_BEFORE  # a PL1 entry reports nothing to Hyp mode


def assert_hyp_entry(state: State, cpsr: int, spsr: int, elr: int, pc: int, hsr: int) -> None:
    assert cpsr == state.CPSR, hex(state.CPSR)
    assert state.SPSR_hyp == spsr, hex(state.SPSR_hyp)
    assert state.ELR_hyp == elr, hex(state.ELR_hyp)
    assert pc == state._PC, hex(state._PC)
    assert hsr == state.HSR, hex(state.HSR)
    assert state._R[LR_USR] == 0x100 + LR_USR  # Hyp mode shares LR_usr and does not write it


# ---- entry to a PL1 mode -------------------------------------------------------------


def test_undefined_from_svc_to_undefined_mode(spec: Spec) -> None:
    # 0x60000013 -> mode 0x1B, I set: 0x6000009B. LR_und = 0x80001000 + 4 (ARM state).
    state = machine(spec, CPSR=0x60000013)
    assert take(spec, state, "Undefined", UNKNOWN_REASON)
    assert_pl1_entry(state, 0x6000009B, "SPSR_und", 0x60000013, LR_UND, 0x80001004, VBAR + 0x04)


def test_undefined_in_thumb_state_lr_offset_is_two(spec: Spec) -> None:
    # User, Thumb (0x30): LR_und = +2; T becomes SCTLR.TE = 0: CPSR 0x9B.
    state = machine(spec, CPSR=0x30)
    take(spec, state, "Undefined", UNKNOWN_REASON)
    assert_pl1_entry(state, 0x9B, "SPSR_und", 0x30, LR_UND, 0x80001002, VBAR + 0x04)


def test_svc_from_user_to_supervisor_mode(spec: Spec) -> None:
    # LR_svc = the next instruction, 0x80001004; CPSR 0x10 -> 0x93.
    state = machine(spec, CPSR=0x10)
    take(spec, state, "SupervisorCall", SVC_5)
    assert_pl1_entry(state, 0x93, "SPSR_svc", 0x10, LR_SVC, 0x80001004, VBAR + 0x08)


def test_thumb_svc_in_an_it_block_saves_the_advanced_it_state(spec: Spec) -> None:
    # IT<7:0> = 0x06 (CPSR<15:10> = 000001, CPSR<26:25> = 10), Thumb, User: 0x04000430.
    # After the SVC, IT<2:0> = 110 is not zero, so IT<4:0> shifts left: 0x0C, which is
    # CPSR<15:10> = 000011 and CPSR<26:25> = 00: SPSR_svc = 0x00000C30. The SVC is 2
    # bytes: LR_svc = 0x80001002. The new CPSR has IT and T clear: 0x93.
    state = machine(spec, CPSR=0x04000430)
    take(spec, state, "SupervisorCall", SVC_5)
    assert_pl1_entry(state, 0x93, "SPSR_svc", 0x00000C30, LR_SVC, 0x80001002, VBAR + 0x08)


def test_last_instruction_of_an_it_block_clears_the_it_state(spec: Spec) -> None:
    # IT<7:0> = 0x08 (IT<2:0> = 000: the last one): after it the IT state is zero.
    state = machine(spec, CPSR=0x00000830)
    take(spec, state, "SupervisorCall", SVC_5)
    assert state.SPSR_svc == 0x30


def test_prefetch_abort_to_abort_mode(spec: Spec) -> None:
    # 0x13 -> mode 0x17 with A and I: 0x197; LR_abt = +4.
    state = machine(spec, CPSR=0x13)
    take(spec, state, "PrefetchAbort", PREFETCH_S2)
    assert_pl1_entry(state, 0x197, "SPSR_abt", 0x13, LR_ABT, 0x80001004, VBAR + 0x0C)


def test_data_abort_to_abort_mode(spec: Spec) -> None:
    state = machine(spec, CPSR=0x10)
    take(spec, state, "DataAbort", STAGE2_STORE)
    assert_pl1_entry(state, 0x197, "SPSR_abt", 0x10, LR_ABT, 0x80001008, VBAR + 0x10)


def test_irq_to_irq_mode(spec: Spec) -> None:
    # Not routed, I clear: 0x13 -> 0x192 (IRQ mode, A, I); LR_irq = +4.
    state = machine(spec, CPSR=0x13)
    assert take(spec, state, "IRQ")
    assert_pl1_entry(state, 0x192, "SPSR_irq", 0x13, LR_IRQ, 0x80001004, VBAR + 0x18)


def test_fiq_to_fiq_mode(spec: Spec) -> None:
    # 0x10 -> 0x1D1 (FIQ mode, A, I, F); LR_fiq = +4.
    state = machine(spec, CPSR=0x10)
    assert take(spec, state, "FIQ")
    assert_pl1_entry(state, 0x1D1, "SPSR_fiq", 0x10, LR_FIQ, 0x80001004, VBAR + 0x1C)


def test_asynchronous_abort_to_abort_mode(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13)
    assert take(spec, state, "SError", ASYNC_ABORT)
    assert_pl1_entry(state, 0x197, "SPSR_abt", 0x13, LR_ABT, 0x80001008, VBAR + 0x10)


def test_high_vectors(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13, SCTLR=0x00C52078)  # V (bit 13) set
    take(spec, state, "Undefined", UNKNOWN_REASON)
    assert state._PC == 0xFFFF0004


def test_vbar_low_bits_are_ignored(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13, VBAR=0x8000001F)
    take(spec, state, "SupervisorCall", SVC_5)
    assert state._PC == 0x80000008


def test_sctlr_te_and_ee_set_thumb_and_big_endian(spec: Spec) -> None:
    # SCTLR.TE (bit 30) and EE (bit 25) set: 0x6000009B plus T (0x20) and E (0x200).
    state = machine(spec, CPSR=0x60000013, SCTLR=0x00C50078 | (1 << 30) | (1 << 25))
    take(spec, state, "Undefined", UNKNOWN_REASON)
    assert state.CPSR == 0x600002BB


def test_entry_clears_it_and_j(spec: Spec) -> None:
    # J (bit 24) and IT bits set in SVC: the Undefined entry clears them: 0x9B.
    state = machine(spec, CPSR=0x0700FC13)
    take(spec, state, "Undefined", UNKNOWN_REASON)
    assert state.CPSR == 0x9B and state.SPSR_und == 0x0700FC13


# ---- entry to Hyp mode ---------------------------------------------------------------


def test_undefined_from_user_with_tge_goes_to_hyp_trap(spec: Spec) -> None:
    # 0x60000010 -> Hyp (0x1A) with A, I, F: 0x600001DA. ELR_hyp = the instruction.
    state = machine(spec, CPSR=0x60000010, HCR=TGE)
    assert take(spec, state, "Undefined", UNKNOWN_REASON)
    assert_hyp_entry(state, 0x600001DA, 0x60000010, PC, HVBAR + 0x14, UNKNOWN_REASON)


def test_undefined_from_pl1_ignores_tge(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13, HCR=TGE)
    take(spec, state, "Undefined", UNKNOWN_REASON)
    assert state.CPSR == 0x9B and state._PC == VBAR + 0x04


def test_undefined_in_hyp_uses_the_hyp_undefined_vector(spec: Spec) -> None:
    state = machine(spec, CPSR=0x1DA)
    take(spec, state, "Undefined", UNKNOWN_REASON)
    assert_hyp_entry(state, 0x1DA, 0x1DA, PC, HVBAR + 0x04, UNKNOWN_REASON)


def test_svc_from_user_with_tge_goes_to_hyp_trap(spec: Spec) -> None:
    state = machine(spec, CPSR=0x10, HCR=TGE)
    take(spec, state, "SupervisorCall", SVC_5)
    assert_hyp_entry(state, 0x1DA, 0x10, 0x80001004, HVBAR + 0x14, SVC_5)


def test_svc_in_hyp_uses_the_hypervisor_call_vector(spec: Spec) -> None:
    state = machine(spec, CPSR=0x1DA)
    take(spec, state, "SupervisorCall", SVC_5)
    assert_hyp_entry(state, 0x1DA, 0x1DA, 0x80001004, HVBAR + 0x08, SVC_5)


def test_hvc_from_svc_goes_to_hyp_trap(spec: Spec) -> None:
    state = machine(spec, CPSR=0x60000013)
    assert take(spec, state, "HypervisorCall", HVC_1234)
    assert_hyp_entry(state, 0x600001DA, 0x60000013, 0x80001004, HVBAR + 0x14, HVC_1234)


def test_thumb_hvc_is_four_bytes(spec: Spec) -> None:
    # HVC has only a 32-bit Thumb encoding; T becomes HSCTLR.TE = 0: CPSR 0x1DA.
    state = machine(spec, CPSR=0x33)
    take(spec, state, "HypervisorCall", HVC_1234)
    assert_hyp_entry(state, 0x1DA, 0x33, 0x80001004, HVBAR + 0x14, HVC_1234)


def test_hvc_in_hyp_uses_the_hypervisor_call_vector(spec: Spec) -> None:
    state = machine(spec, CPSR=0x1DA)
    take(spec, state, "HypervisorCall", HVC_1234)
    assert_hyp_entry(state, 0x1DA, 0x1DA, 0x80001004, HVBAR + 0x08, HVC_1234)


def test_hvc_in_user_mode_is_not_taken(spec: Spec) -> None:
    state = machine(spec, CPSR=0x10)
    assert not take(spec, state, "HypervisorCall", HVC_1234)
    assert state.CPSR == 0x10 and state._PC == PC and state.HSR == HSR_BEFORE


def test_stage2_data_abort_goes_to_hyp_trap(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13)
    take(spec, state, "DataAbort", STAGE2_STORE, secondstage=True)
    assert_hyp_entry(state, 0x1DA, 0x13, PC, HVBAR + 0x14, STAGE2_STORE)


def test_stage2_prefetch_abort_goes_to_hyp_trap(spec: Spec) -> None:
    state = machine(spec, CPSR=0x10)
    take(spec, state, "PrefetchAbort", PREFETCH_S2, secondstage=True)
    assert_hyp_entry(state, 0x1DA, 0x10, PC, HVBAR + 0x14, PREFETCH_S2)


BKPT_DEBUG = 0x80000022  # EC 0x20, IL 0, IFSC 0b100010 (debug event, Table B3-24)
HDCR_TDE = 1 << 8


@pytest.mark.parametrize("mode", [0x10, 0x13])
def test_debug_exception_with_tde_goes_to_hyp_trap(spec: Spec, mode: int) -> None:
    """§B1.8.8: HDCR.TDE routes a debug exception from PL0 or PL1 to the Hyp Trap entry."""
    state = machine(spec, CPSR=mode, HDCR=HDCR_TDE)
    take(spec, state, "PrefetchAbort", BKPT_DEBUG, debug=True)
    assert_hyp_entry(state, 0x1DA, mode, PC, HVBAR + 0x14, BKPT_DEBUG)


def test_debug_exception_without_tde_goes_to_abort_mode(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13)
    take(spec, state, "PrefetchAbort", BKPT_DEBUG, debug=True)
    assert_pl1_entry(state, 0x197, "SPSR_abt", 0x13, LR_ABT, 0x80001004, VBAR + 0x0C)


def test_tde_does_not_route_other_aborts(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13, HDCR=HDCR_TDE)
    take(spec, state, "PrefetchAbort", PREFETCH_S2)
    assert_pl1_entry(state, 0x197, "SPSR_abt", 0x13, LR_ABT, 0x80001004, VBAR + 0x0C)


def test_stage1_data_abort_from_user_with_tge_goes_to_hyp_trap(spec: Spec) -> None:
    state = machine(spec, CPSR=0x10, HCR=TGE)
    take(spec, state, "DataAbort", STAGE2_STORE)
    assert_hyp_entry(state, 0x1DA, 0x10, PC, HVBAR + 0x14, STAGE2_STORE)


@pytest.mark.parametrize(("kind", "offset"), [("PrefetchAbort", 0x0C), ("DataAbort", 0x10)])
def test_abort_in_hyp_uses_its_own_vector(spec: Spec, kind: str, offset: int) -> None:
    state = machine(spec, CPSR=0x1DA)
    take(spec, state, kind, STAGE2_STORE)
    assert_hyp_entry(state, 0x1DA, 0x1DA, PC, HVBAR + offset, STAGE2_STORE)


def test_hyp_trap_from_svc(spec: Spec) -> None:
    state = machine(spec, CPSR=0x600000D3)
    take(spec, state, "HypTrap", HSTR_SCTLR_READ)
    assert_hyp_entry(state, 0x600001DA, 0x600000D3, PC, HVBAR + 0x14, HSTR_SCTLR_READ)


def test_hsctlr_te_and_ee_on_hyp_entry(spec: Spec) -> None:
    # HSCTLR.TE (bit 30) and EE (bit 25): the Hyp entry runs Thumb, big-endian: 0x1DA | 0x220.
    state = machine(spec, CPSR=0x13, HSCTLR=0x30C50818 | (1 << 30) | (1 << 25))
    take(spec, state, "HypTrap", HSTR_SCTLR_READ)
    assert state.CPSR == 0x3FA


def test_hvbar_low_bits_are_ignored(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13, HVBAR=0x4000001F)
    take(spec, state, "HypTrap", HSTR_SCTLR_READ)
    assert state._PC == 0x40000014


# ---- routing of asynchronous exceptions ----------------------------------------------


def test_irq_routed_by_imo_ignores_the_guest_mask(spec: Spec) -> None:
    # SVC with I set (0x93): the IRQ still reaches Hyp mode, at the Hyp IRQ entry 0x18,
    # and HSR is left alone (IRQ and FIQ report no syndrome).
    state = machine(spec, CPSR=0x93, HCR=IMO)
    assert take(spec, state, "IRQ")
    assert_hyp_entry(state, 0x1DA, 0x93, PC, HVBAR + 0x18, HSR_BEFORE)


def test_irq_not_routed_is_masked_by_i(spec: Spec) -> None:
    state = machine(spec, CPSR=0x93)
    assert not take(spec, state, "IRQ")
    assert state.CPSR == 0x93 and state._PC == PC


@pytest.mark.parametrize(("cpsr", "taken"), [(0x1A, True), (0x9A, False)])
def test_irq_in_hyp_is_masked_by_i_even_when_routed(spec: Spec, cpsr: int, taken: bool) -> None:
    state = machine(spec, CPSR=cpsr, HCR=IMO)
    assert take(spec, state, "IRQ") is taken
    assert (HVBAR + 0x18 if taken else PC) == state._PC


def test_irq_in_hyp_is_taken_to_hyp_when_not_routed(spec: Spec) -> None:
    state = machine(spec, CPSR=0x1A)
    assert take(spec, state, "IRQ")
    assert_hyp_entry(state, 0x1DA, 0x1A, PC, HVBAR + 0x18, HSR_BEFORE)


def test_fiq_routed_by_fmo(spec: Spec) -> None:
    state = machine(spec, CPSR=0x50, HCR=FMO)  # User with F set
    assert take(spec, state, "FIQ")
    assert_hyp_entry(state, 0x1DA, 0x50, PC, HVBAR + 0x1C, HSR_BEFORE)


def test_fiq_not_routed_by_imo(spec: Spec) -> None:
    state = machine(spec, CPSR=0x10, HCR=IMO)
    take(spec, state, "FIQ")
    assert state.CPSR == 0x1D1 and state._PC == VBAR + 0x1C


def test_asynchronous_abort_routed_by_amo_uses_hyp_trap(spec: Spec) -> None:
    state = machine(spec, CPSR=0x113, HCR=AMO)  # SVC with A set
    assert take(spec, state, "SError", ASYNC_ABORT)
    assert_hyp_entry(state, 0x1DA, 0x113, PC, HVBAR + 0x14, ASYNC_ABORT)


def test_asynchronous_abort_not_routed_is_masked_by_a(spec: Spec) -> None:
    state = machine(spec, CPSR=0x113)
    assert not take(spec, state, "SError", ASYNC_ABORT)


@pytest.mark.parametrize(("kind", "offset", "syndrome"), [("IRQ", 0x18, HSR_BEFORE),
                                                          ("FIQ", 0x1C, HSR_BEFORE),
                                                          ("SError", 0x14, ASYNC_ABORT)])
def test_tge_routes_every_asynchronous_exception(spec: Spec, kind: str, offset: int,
                                                  syndrome: int) -> None:
    state = machine(spec, CPSR=0x1D0, HCR=TGE)  # User with every mask set
    assert take(spec, state, kind, ASYNC_ABORT)
    assert_hyp_entry(state, 0x1DA, 0x1D0, PC, HVBAR + offset, syndrome)


# ---- virtual interrupts --------------------------------------------------------------


def test_virtual_irq_is_taken_by_the_guest(spec: Spec) -> None:
    state = machine(spec, CPSR=0x13, HCR=IMO | VI)
    assert take(spec, state, "VirtualIRQ")
    assert_pl1_entry(state, 0x192, "SPSR_irq", 0x13, LR_IRQ, 0x80001004, VBAR + 0x18)


@pytest.mark.parametrize(("cpsr", "hcr"), [
    (0x13, VI),               # IMO clear: not enabled
    (0x93, IMO | VI),         # masked by the guest's I
    (0x10, IMO | VI | TGE),   # TGE disables virtual interrupts
    (0x1A, IMO | VI),         # never taken in Hyp mode
    (0x13, IMO),              # not signalled
])
def test_virtual_irq_not_taken(spec: Spec, cpsr: int, hcr: int) -> None:
    state = machine(spec, CPSR=cpsr, HCR=hcr)
    assert not take(spec, state, "VirtualIRQ")
    assert cpsr == state.CPSR and state._PC == PC


def test_virtual_fiq_is_taken_by_the_guest(spec: Spec) -> None:
    state = machine(spec, CPSR=0x10, HCR=FMO | VF)
    assert take(spec, state, "VirtualFIQ")
    assert_pl1_entry(state, 0x1D1, "SPSR_fiq", 0x10, LR_FIQ, 0x80001004, VBAR + 0x1C)


def test_virtual_abort_is_taken_and_clears_va(spec: Spec) -> None:
    state = machine(spec, CPSR=0x10, HCR=AMO | VA)
    assert take(spec, state, "VirtualSError")
    assert_pl1_entry(state, 0x197, "SPSR_abt", 0x10, LR_ABT, 0x80001008, VBAR + 0x10)
    assert state.HCR == AMO


def test_virtual_abort_masked_by_a_stays_pending(spec: Spec) -> None:
    state = machine(spec, CPSR=0x110, HCR=AMO | VA)
    assert not take(spec, state, "VirtualSError")
    assert state.HCR == AMO | VA


def test_physical_irq_still_reaches_hyp_with_a_virtual_irq_pending(spec: Spec) -> None:
    state = machine(spec, CPSR=0x93, HCR=IMO | VI)
    assert take(spec, state, "IRQ")
    assert state._PC == HVBAR + 0x18


# ---- round trip: a guest exits to Hyp mode and ERET resumes it -----------------------


@pytest.mark.parametrize("cpsr", [0x60000013, 0x80000010, 0x0400043F, 0x00000192])
def test_hyp_trap_then_eret_resumes_the_guest(spec: Spec, cpsr: int) -> None:
    state = machine(spec, CPSR=cpsr)
    take(spec, state, "HypTrap", HSTR_SCTLR_READ)
    assert state.CPSR & 0x1F == HYP
    state.ELR_hyp += 4 if cpsr & T_BIT == 0 else 2  # the hypervisor emulated the instruction
    assert spec.call("Model.ExecuteERET", state=state) == "ModeChangeOutcome_Allowed"
    assert cpsr == state.CPSR and PC + (2 if cpsr & T_BIT else 4) == state._PC


# ---- preferred return addresses ------------------------------------------------------


@pytest.mark.parametrize(("kind", "cpsr", "expected"), [
    ("ExceptionKind_SupervisorCall", 0x13, PC + 4), ("ExceptionKind_SupervisorCall", 0x33, PC + 2),
    ("ExceptionKind_HypervisorCall", 0x33, PC + 4), ("ExceptionKind_Undefined", 0x33, PC),
    ("ExceptionKind_DataAbort", 0x13, PC), ("ExceptionKind_IRQ", 0x13, PC),
])
def test_preferred_return_address(spec: Spec, kind: str, cpsr: int, expected: int) -> None:
    assert spec.call("Model.PreferredReturnAddress", kind, state=machine(spec, CPSR=cpsr)) == expected


# ---- concrete and symbolic semantics agree -------------------------------------------

EXAMPLES = 120
FAULTS = st.builds(fault, st.booleans())


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=EXAMPLES)
@given(state=processor_states(), syndrome=WORD, abort=FAULTS)
def test_exception_entry_agrees(spec: Spec, kind: str, state: dict[str, Any], syndrome: int,
                                abort: dict[str, Any]) -> None:
    agree_api(spec, "Model.TakeException", [kind, syndrome, abort], state)


ROUTING = ["Model.PhysicalIRQMasked", "Model.PhysicalFIQMasked", "Model.PhysicalSErrorMasked",
           "Model.PhysicalIRQRoutedToHyp", "Model.PhysicalFIQRoutedToHyp",
           "Model.PhysicalSErrorRoutedToHyp", "Model.VirtualIRQPending", "Model.VirtualFIQPending",
           "Model.VirtualSErrorPending"]


@pytest.mark.parametrize("name", ROUTING)
@settings(max_examples=EXAMPLES)
@given(cpsr=st.integers(0, 2**27 - 1), mode=st.sampled_from(MODES), hcr=st.integers(0, 2**28 - 1))
def test_routing_agrees(spec: Spec, name: str, cpsr: int, mode: int, hcr: int) -> None:
    agree_api(spec, name, [], {"CPSR": (cpsr << 5) | mode, "HCR": hcr})


@settings(max_examples=EXAMPLES)
@given(psr=WORD)
def test_it_advance_agrees(spec: Spec, psr: int) -> None:
    agree_api(spec, "Model.ITAdvanced", [psr], {})


@settings(max_examples=EXAMPLES)
@given(kind=st.sampled_from(KINDS), state=processor_states())
def test_preferred_return_address_agrees(spec: Spec, kind: str, state: dict[str, Any]) -> None:
    agree_api(spec, "Model.PreferredReturnAddress", [kind], state)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(modes=(HYP,)))
def test_eret_from_hyp_agrees(spec: Spec, state: dict[str, Any]) -> None:
    agree_api(spec, "Model.ExecuteERET", [], state)


# ---- every kind, every mode: the invariants the proofs state, run concretely ------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_every_entry_lands_in_an_exception_mode(spec: Spec, kind: str, mode: int) -> None:
    state = machine(spec, CPSR=mode, HCR=IMO | FMO | AMO | VI | VF | VA)
    if spec.call("Model.TakeException", kind, UNKNOWN_REASON, fault(), state=state):
        assert state.CPSR & 0x1F in (FIQ, IRQ, SVC, ABT, UND, HYP)
        if mode == HYP:
            assert state.CPSR & 0x1F == HYP
