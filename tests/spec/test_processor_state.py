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

from functools import cache
from typing import Any

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec, State, SymbolicCall
from hypspec.lang.types import Array, Map, Record, Type
from hypspec.proof.mutants import Mutant, check_mutant, read_mutants
from hypspec.proof.prover import PROVED, prove
from hypspec.symbolic.evaluator import to_z3
from hypspec.symbolic.instantiate import concrete_value, map_equals, substitution

USR, FIQ, IRQ, SVC, MON, ABT, HYP, UND, SYS = 0x10, 0x11, 0x12, 0x13, 0x16, 0x17, 0x1A, 0x1B, 0x1F
MODES = (USR, FIQ, IRQ, SVC, ABT, HYP, UND, SYS)
PL1_MODES = (FIQ, IRQ, SVC, ABT, UND, SYS)
T_BIT, F_BIT, I_BIT, A_BIT, E_BIT = 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9
TGE = 1 << 27  # HCR.TGE

# Register numbers as the ARMv8 mapping of the AArch32 registers lays them out.
SP_USR, LR_USR, SP_HYP, LR_IRQ, SP_IRQ, LR_SVC, SP_SVC = 13, 14, 15, 16, 17, 18, 19
LR_ABT, SP_ABT, LR_UND, SP_UND, SP_FIQ, LR_FIQ = 20, 21, 22, 23, 29, 30
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


SPSR_OF = {FIQ: "SPSR_fiq", IRQ: "SPSR_irq", SVC: "SPSR_svc", ABT: "SPSR_abt", UND: "SPSR_und",
           HYP: "SPSR_hyp"}


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
WORD = st.integers(0, 2**32 - 1)
FLAGS = st.integers(0, 2**27 - 1).map(lambda bits: bits << 5)  # every CPSR bit above M


@st.composite
def cpsrs(draw: st.DrawFn, modes: tuple[int, ...] = MODES) -> int:
    """A CPSR in a real mode, every other bit random."""
    return draw(FLAGS) | draw(st.sampled_from(modes))


@st.composite
def processor_states(draw: st.DrawFn, modes: tuple[int, ...] = MODES) -> dict[str, Any]:
    """Every register the mode and exception chapters read, random."""
    spsr_mode = st.one_of(st.sampled_from(MODES), st.integers(0, 31))  # sometimes illegal
    spsrs = {name: draw(FLAGS) | draw(spsr_mode) for name in SPSR_OF.values()}
    return {
        "CPSR": draw(cpsrs(modes)), "HCR": draw(st.integers(0, 2**28 - 1)),
        "SCTLR": draw(WORD), "HSCTLR": draw(WORD), "VBAR": draw(WORD), "HVBAR": draw(WORD),
        "ELR_hyp": draw(WORD), "_PC": draw(WORD), "HSR": draw(WORD),
        "_R": draw(st.lists(WORD, min_size=31, max_size=31)), **spsrs,
    }


@cache
def _symbolic(spec: Spec, name: str) -> SymbolicCall:
    return spec.symbolic(name)


def agree(spec: Spec, name: str, args: list[Any], registers: dict[str, Any], seed: int = 0) -> None:
    """The Z3 terms of `name`, instantiated, equal the compiled run: result and all globals.

    Every scalar the run produces is compared in one substitution (a conjunction of
    equalities that must simplify to TRUE); only on a mismatch are the outputs compared
    one by one, to name the one that differs.
    """
    call = _symbolic(spec, name)
    func = spec.program.functions[name]
    before: State = spec.state(oracle_seed=seed, **registers)
    encoded = [spec.encode(a, p.ty, name) for a, p in zip(args, func.params, strict=True)]  # type: ignore[arg-type]
    pairs = substitution(spec, call, encoded, before)
    after = spec.state(oracle_seed=seed, **registers)
    result = spec.compiled.function(name)(after, *encoded)
    outputs: list[tuple[str, Any, Any, Type]] = []
    if func.result_ty is not None:
        outputs.append(("result", call.evaluation.result, result, func.result_ty))
    for global_name, info in spec.program.globals.items():
        term = call.evaluation.globals[global_name]
        if _same_term(term, call.inputs[global_name]):  # untouched symbolically: must be concretely
            assert getattr(after, global_name) == getattr(before, global_name), global_name
        elif isinstance(info.ty, Map):
            assert map_equals(term, getattr(after, global_name), info.ty, pairs), global_name
        else:
            outputs.append((global_name, term, getattr(after, global_name), info.ty))
    equalities = [e for _, term, value, ty in outputs for e in _equalities(term, value, ty)]
    if equalities and z3.is_true(z3.simplify(z3.substitute(z3.And(equalities), *pairs))):
        return
    for label, term, value, ty in outputs:
        assert concrete_value(term, ty, pairs) == value, label


def _equalities(term: Any, value: Any, ty: Type) -> list[z3.BoolRef]:
    """`term == value`, component by component, as Z3 formulas."""
    if isinstance(ty, Record):
        return [e for t, v, (_, f) in zip(term, value, ty.fields, strict=True)
                for e in _equalities(t, v, f)]
    if isinstance(ty, Array):
        return [e for t, v in zip(term, value, strict=True) for e in _equalities(t, v, ty.elem)]
    return [to_z3(term, ty) == to_z3(value, ty)]


def _same_term(term: Any, start: Any) -> bool:
    """Whether a global's final term is its initial one (so only the concrete side can differ)."""
    if isinstance(term, tuple):
        return all(_same_term(t, s) for t, s in zip(term, start, strict=True))
    return isinstance(term, z3.ExprRef) and isinstance(start, z3.ExprRef) and term.eq(start)


MEANS = st.sampled_from(["ModeChangeMeans_CPS", "ModeChangeMeans_MSR", "ModeChangeMeans_ERET",
                         "ModeChangeMeans_SUBSPCLR", "ModeChangeMeans_RFE",
                         "ModeChangeMeans_Exception"])


@settings(max_examples=EXAMPLES)
@given(means=MEANS, frommode=st.sampled_from(MODES), tomode=st.integers(0, 31),
       hcr=st.integers(0, 2**28 - 1))
def test_mode_change_agrees(spec: Spec, means: str, frommode: int, tomode: int, hcr: int) -> None:
    agree(spec, "Model.ModeChange", [means, frommode, tomode], {"HCR": hcr})


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), seed=st.integers(0, 3))
def test_eret_agrees(spec: Spec, state: dict[str, Any], seed: int) -> None:
    agree(spec, "Model.ExecuteERET", [], state, seed)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), imm=WORD, seed=st.integers(0, 3))
def test_subs_pc_lr_agrees(spec: Spec, state: dict[str, Any], imm: int, seed: int) -> None:
    agree(spec, "Model.ExecuteSUBSPCLR", [imm], state, seed)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), new_pc=WORD, new_cpsr=WORD)
def test_rfe_agrees(spec: Spec, state: dict[str, Any], new_pc: int, new_cpsr: int) -> None:
    agree(spec, "Model.ExecuteRFE", [new_pc, new_cpsr], state)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), imod=st.integers(0, 3), flags=st.lists(st.booleans(), min_size=4,
       max_size=4), mode=st.integers(0, 31))
def test_cps_agrees(spec: Spec, state: dict[str, Any], imod: int, flags: list[bool], mode: int) -> None:
    agree(spec, "Model.ExecuteCPS", [imod, *flags, mode], state)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), value=WORD, bytemask=st.integers(0, 15))
def test_msr_agrees(spec: Spec, state: dict[str, Any], value: int, bytemask: int) -> None:
    agree(spec, "Model.ExecuteMSRCPSR", [value, bytemask], state)


@settings(max_examples=EXAMPLES)
@given(state=processor_states(), n=st.integers(0, 14), mode=st.sampled_from(MODES), value=WORD)
def test_banked_register_write_agrees(spec: Spec, state: dict[str, Any], n: int, mode: int,
                                      value: int) -> None:
    agree(spec, "SetRmode", [n, mode, value], state)


# ---- proofs and their mutants --------------------------------------------------------

MODE_PROPERTIES = ["Modes.OnlyExceptionsEnterHyp", "Modes.NoInstructionEntersHyp"]


def modes_mutants(properties: list[str]) -> list[Mutant]:
    """The mutants of proofs/mutants/modes.toml that one of `properties` must catch."""
    return [m for m in read_mutants() if m.source.endswith("modes.toml")
            and set(m.caught_by) & set(properties)]


@pytest.mark.parametrize("name", MODE_PROPERTIES)
def test_mode_property_is_proved(spec_with_proofs: Spec, name: str) -> None:
    result = prove(spec_with_proofs, name)
    assert result.status == PROVED, result.detail


def test_every_mode_property_has_a_mutant() -> None:
    covered = {name for m in modes_mutants(MODE_PROPERTIES) for name in m.caught_by}
    assert covered >= set(MODE_PROPERTIES)


@pytest.mark.parametrize("mutant", modes_mutants(MODE_PROPERTIES), ids=lambda m: m.name)
def test_mode_mutant_is_caught(mutant: Mutant) -> None:
    outcome = check_mutant(mutant)
    assert outcome.caught, [(r.name, r.status, r.detail) for r in outcome.results]
    assert all(r.counterexample is not None and r.counterexample.replayed for r in outcome.results)
