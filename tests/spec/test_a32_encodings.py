"""Decoding and encoding of the A32 instructions the trap chapter reasons about (spec/07).

Instruction words are assembled here by hand from the encoding diagrams of ARM DDI
0406C.d (§A8.8, §B9.3), independently of the spec's own encoder, and cross-checked
against words an assembler produces for the same instructions (noted per example).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec, SymbolicCall
from hypspec.symbolic.instantiate import concrete_value, substitution

AL = 0xE

# ---- a small hand assembler (ARM DDI 0406C.d encodings A1) ---------------------------


def mcr(cp: int, opc1: int, rt: int, crn: int, crm: int, opc2: int = 0, *, read: bool = False,
        cond: int = AL) -> int:
    """MCR/MRC: cond 1110 opc1:3 L CRn Rt coproc opc2:3 1 CRm."""
    return (cond << 28 | 0b1110 << 24 | opc1 << 21 | int(read) << 20 | crn << 16 | rt << 12
            | cp << 8 | opc2 << 5 | 1 << 4 | crm)


def mrc(cp: int, opc1: int, rt: int, crn: int, crm: int, opc2: int = 0, cond: int = AL) -> int:
    return mcr(cp, opc1, rt, crn, crm, opc2, read=True, cond=cond)


def mcrr(cp: int, opc1: int, rt: int, rt2: int, crm: int, *, read: bool = False,
         cond: int = AL) -> int:
    """MCRR/MRRC: cond 1100 010 L Rt2 Rt coproc opc1:4 CRm."""
    return cond << 28 | 0b1100010 << 21 | int(read) << 20 | rt2 << 16 | rt << 12 | cp << 8 | opc1 << 4 | crm


def mrrc(cp: int, opc1: int, rt: int, rt2: int, crm: int, cond: int = AL) -> int:
    return mcrr(cp, opc1, rt, rt2, crm, read=True, cond=cond)


def ldc(cp: int, crd: int, rn: int, imm8: int, *, p: int = 1, u: int = 1, d: int = 0, w: int = 0,
        load: bool = True, cond: int = AL) -> int:
    """LDC/STC: cond 110 P U D W L Rn CRd coproc imm8."""
    return (cond << 28 | 0b110 << 25 | p << 24 | u << 23 | d << 22 | w << 21 | int(load) << 20
            | rn << 16 | crd << 12 | cp << 8 | imm8)


def wfi(cond: int = AL) -> int:
    return cond << 28 | 0x0320F003  # hint space, op2 = 3


def wfe(cond: int = AL) -> int:
    return cond << 28 | 0x0320F002  # op2 = 2


def svc(imm24: int, cond: int = AL) -> int:
    return cond << 28 | 0xF << 24 | imm24


def hvc(imm16: int) -> int:
    """HVC: 1110 0001 0100 imm12 0111 imm4."""
    return 0xE1400070 | (imm16 >> 4) << 8 | (imm16 & 0xF)


def smc(imm4: int = 0, cond: int = AL) -> int:
    return cond << 28 | 0x01600070 | imm4


def eret(cond: int = AL) -> int:
    return cond << 28 | 0x0160006E


def bxj(rm: int, cond: int = AL) -> int:
    """BXJ: cond 0001 0010 (1111)(1111)(1111) 0010 Rm."""
    return cond << 28 | 0x012FFF20 | rm


def mrs_banked(rd: int, sysm: int, *, spsr: bool = False, cond: int = AL) -> int:
    """MRS (Banked): cond 00010 R 00 M1 Rd (0)(0) 1 M 0000 (0000)."""
    return cond << 28 | 0x01000200 | int(spsr) << 22 | (sysm & 0xF) << 16 | rd << 12 | (sysm >> 4) << 8


def msr_banked(sysm: int, rn: int, *, spsr: bool = False, cond: int = AL) -> int:
    """MSR (Banked): cond 00010 R 10 M1 (1111) (0)(0) 1 M 0000 Rn."""
    return cond << 28 | 0x0120F200 | int(spsr) << 22 | (sysm & 0xF) << 16 | (sysm >> 4) << 8 | rn


def vmrs(rt: int, reg: int, cond: int = AL) -> int:
    """VMRS: cond 1110 1111 reg Rt 1010 0001 0000."""
    return cond << 28 | 0x0EF00A10 | reg << 16 | rt << 12


def vmsr(reg: int, rt: int, cond: int = AL) -> int:
    """VMSR: cond 1110 1110 reg Rt 1010 0001 0000."""
    return cond << 28 | 0x0EE00A10 | reg << 16 | rt << 12


VADD_F64 = 0xEE310B02      # vadd.f64 d0, d1, d2 (CDP space, coprocessor 11)
VADD_I32_Q = 0xF2220844    # vadd.i32 q0, q1, q2 (Advanced SIMD data processing)
VLD1 = 0xF420070F          # vld1.8 {d0}, [r0] (Advanced SIMD element load)
CPSID_I = 0xF10C0080       # cpsid i
MRS_CPSR = 0xE10F0000      # mrs r0, apsr
MRS_SPSR = 0xE14F0000      # mrs r0, spsr
MSR_CPSR_F = 0xE128F000    # msr apsr_nzcvq, r0
MSR_IMM = 0xE328F20F       # msr apsr_nzcvq, #0xf0000000

SYSM_ELR_HYP, SYSM_SP_HYP, SYSM_SP_USR, SYSM_LR_SVC = 0b11110, 0b11111, 0b00101, 0b10010


def decode(spec: Spec, word: int) -> dict[str, Any]:
    return spec.call("A32.Decode", word)


# ---- worked decode examples -------------------------------------------------------------


def test_sctlr_read_is_an_mrc_to_cp15(spec: Spec) -> None:
    word = mrc(15, 0, 0, 1, 0, 0)
    assert word == 0xEE110F10  # as assembled for "mrc p15, 0, r0, c1, c0, 0"
    d = decode(spec, word)
    assert d["iclass"] == "A32Class_MCR_MRC" and d["read"] and d["coproc"] == 15
    assert (d["CRn"], d["opc1"], d["CRm"], d["opc2"], d["Rt"], d["cond"]) == (1, 0, 0, 0, 0, AL)


def test_mcr_write_direction_and_fields(spec: Spec) -> None:
    d = decode(spec, mcr(15, 4, 7, 12, 0, 0, cond=0x1))  # mcrne p15, 4, r7, c12, c0, 0 (HVBAR)
    assert d["iclass"] == "A32Class_MCR_MRC" and not d["read"]
    assert (d["opc1"], d["Rt"], d["CRn"], d["cond"]) == (4, 7, 12, 1)


def test_cntpct_read_is_an_mrrc(spec: Spec) -> None:
    word = mrrc(15, 0, 2, 3, 14)
    assert word == 0xEC532F0E  # "mrrc p15, 0, r2, r3, c14"
    d = decode(spec, word)
    assert d["iclass"] == "A32Class_MCRR_MRRC" and d["read"]
    assert (d["Rt"], d["Rt2"], d["opc1"], d["CRm"], d["coproc"]) == (2, 3, 0, 14, 15)


def test_vttbr_write_is_an_mcrr_with_opc1_6(spec: Spec) -> None:
    d = decode(spec, mcrr(15, 6, 0, 1, 2))
    assert d["iclass"] == "A32Class_MCRR_MRRC" and not d["read"] and d["opc1"] == 6


def test_vmrs_and_vmsr(spec: Spec) -> None:
    word = vmrs(0, 1)
    assert word == 0xEEF10A10  # "vmrs r0, fpscr"
    d = decode(spec, word)
    assert d["iclass"] == "A32Class_VMRS_VMSR" and d["read"] and d["CRn"] == 1 and d["opc1"] == 7
    d = decode(spec, vmsr(8, 3))
    assert d["iclass"] == "A32Class_VMRS_VMSR" and not d["read"] and d["CRn"] == 8 and d["Rt"] == 3


def test_cp11_transfer_with_opc1_7_is_not_vmrs(spec: Spec) -> None:
    assert decode(spec, mrc(11, 7, 0, 0, 0))["iclass"] == "A32Class_MCR_MRC"


def test_ldc_to_cp14(spec: Spec) -> None:
    d = decode(spec, ldc(14, 5, 1, 0x10))
    assert d["iclass"] == "A32Class_LDC_STC" and d["read"]
    assert (d["coproc"], d["CRd"], d["Rn"], d["imm"], d["PUDW"]) == (14, 5, 1, 0x10, 0b1100)


def test_ldc_with_p_u_w_clear_is_not_ldc(spec: Spec) -> None:
    """op1 = 00000x is UNDEFINED and 000100/000101 is MCRR/MRRC (Table A5-22)."""
    assert decode(spec, ldc(14, 5, 1, 0, p=0, u=0, w=0))["iclass"] == "A32Class_Other"
    assert decode(spec, ldc(14, 5, 1, 0, p=0, u=0, d=1, w=0))["iclass"] == "A32Class_MCRR_MRRC"


def test_floating_point_data_processing_is_cdp_on_cp11(spec: Spec) -> None:
    d = decode(spec, VADD_F64)
    assert d["iclass"] == "A32Class_CDP" and d["coproc"] == 11


def test_advanced_simd_spaces(spec: Spec) -> None:
    assert decode(spec, VADD_I32_Q)["iclass"] == "A32Class_AdvSIMD"
    assert decode(spec, VLD1)["iclass"] == "A32Class_AdvSIMDLoadStore"
    assert decode(spec, VADD_I32_Q)["cond"] == 0xF


@pytest.mark.parametrize(("word", "iclass"), [
    (wfi(), "A32Class_WFI"), (wfe(), "A32Class_WFE"), (eret(), "A32Class_ERET"),
    (smc(), "A32Class_SMC"), (svc(0x42), "A32Class_SVC"), (CPSID_I, "A32Class_CPS"),
    (MRS_CPSR, "A32Class_MRS"), (MRS_SPSR, "A32Class_MRS"), (MSR_CPSR_F, "A32Class_MSR"),
    (MSR_IMM, "A32Class_MSR_imm"), (bxj(2), "A32Class_BXJ"),
    (0xE12FFF12, "A32Class_Other"),  # bx r2
    (0xE320F000, "A32Class_Other"),  # nop
    (0xE320F004, "A32Class_Other"),  # sev
    (0xE1200070, "A32Class_Other"),  # bkpt #0
    (0xE0800001, "A32Class_Other"),  # add r0, r0, r1
])
def test_class_of_fixed_instructions(spec: Spec, word: int, iclass: str) -> None:
    assert decode(spec, word)["iclass"] == iclass


def test_hvc_immediate_is_reassembled(spec: Spec) -> None:
    assert hvc(0x1234) == 0xE1412374  # "hvc #0x1234"
    d = decode(spec, hvc(0x1234))
    assert d["iclass"] == "A32Class_HVC" and d["imm"] == 0x1234


def test_banked_forms(spec: Spec) -> None:
    assert mrs_banked(0, SYSM_ELR_HYP) == 0xE10E0300  # "mrs r0, ELR_hyp"
    d = decode(spec, mrs_banked(0, SYSM_ELR_HYP))
    assert d["iclass"] == "A32Class_MRS_banked" and d["SYSm"] == SYSM_ELR_HYP and not d["spsr"]
    d = decode(spec, msr_banked(SYSM_ELR_HYP, 4, spsr=True))
    assert d["iclass"] == "A32Class_MSR_banked" and d["spsr"] and d["Rn"] == 4


def test_should_be_bits_that_do_not_hold_decode_as_other(spec: Spec) -> None:
    assert decode(spec, smc() | 1 << 8)["iclass"] == "A32Class_Other"       # SMC bits 19:8 SBZ
    assert decode(spec, eret() | 1 << 12)["iclass"] == "A32Class_Other"     # ERET bits 19:8 SBZ
    assert decode(spec, MRS_CPSR & ~(1 << 16))["iclass"] == "A32Class_Other"  # MRS bits 19:16 SBO


def test_encode_reproduces_assembled_words(spec: Spec) -> None:
    for word in [mrc(15, 0, 0, 1, 0), mrrc(15, 0, 2, 3, 14), hvc(0xBEEF), wfe(0x3), eret(),
                 vmrs(5, 7), ldc(14, 5, 2, 0xFF, p=0, w=1, load=False), VADD_I32_Q, VLD1,
                 CPSID_I, msr_banked(SYSM_LR_SVC, 9), mrs_banked(3, SYSM_SP_USR), svc(0xABCDEF),
                 bxj(14, cond=0x5)]:
        assert spec.call("A32.Encode", decode(spec, word)) == word


# ---- both semantics agree on decoding ------------------------------------------------------


def _field(word: int, value: int, shift: int) -> int:
    return word | value << shift


@st.composite
def interesting_words(draw: st.DrawFn) -> int:
    """Words aimed at the decoded classes: a template with random operand fields."""
    cond = draw(st.sampled_from([AL, AL, 0x0, 0x1, 0xB, 0xF]))
    kind = draw(st.integers(0, 7))
    rnd = draw(st.integers(0, 2**32 - 1))
    if kind == 0:   # coprocessor space, bits 27:26 = 11
        return cond << 28 | 0b11 << 26 | rnd & 0x03FFFFFF
    if kind == 1:   # MCR/MRC to CP14/15/10/11
        cp = draw(st.sampled_from([10, 11, 14, 15]))
        return cond << 28 | 0b1110 << 24 | rnd & 0x00FFF0FF | cp << 8 | 1 << 4
    if kind == 2:   # miscellaneous space
        return cond << 28 | 0b00010 << 23 | rnd & 0x006FFF7F
    if kind == 3:   # MSR immediate and hints
        return cond << 28 | 0b00110 << 23 | 0b10 << 20 | rnd & 0x004FFFFF
    if kind == 4:   # unconditional space
        return 0xF << 28 | rnd & 0x0FFFFFFF
    if kind == 5:   # banked forms with a valid layout
        banked = mrs_banked if rnd >> 21 & 1 else msr_banked
        conditional = cond if cond != 0xF else AL
        return banked(rnd & 0xF, rnd >> 8 & 0x1F, spsr=bool(rnd >> 20 & 1), cond=conditional)
    if kind == 6:
        return [wfi(), wfe(), eret(), smc(), hvc(rnd & 0xFFFF), bxj(rnd >> 4 & 0xF)][rnd % 6]
    return rnd


@cache
def _symbolic(spec: Spec, name: str) -> SymbolicCall:
    return spec.symbolic(name)


def agree(spec: Spec, name: str, args: list, state_values: dict[str, Any], seed: int = 0) -> Any:
    """Run `name` concretely and symbolically on the same inputs; return the result."""
    call = _symbolic(spec, name)
    func = spec.program.functions[name]
    before = spec.state(oracle_seed=seed, **state_values)
    pairs = substitution(spec, call, args, before)
    after = spec.state(oracle_seed=seed, **state_values)
    result = spec.compiled.function(name)(after, *args)
    assert concrete_value(call.evaluation.result, func.result_ty, pairs) == result
    for global_name, info in spec.program.globals.items():
        if global_name == "PhysMem":
            continue  # no function of these chapters touches memory
        term = call.evaluation.globals[global_name]
        assert concrete_value(term, info.ty, pairs) == getattr(after, global_name), global_name
    return result


@settings(max_examples=200)
@given(word=st.one_of(interesting_words(), st.integers(0, 2**32 - 1)))
def test_decode_agrees(spec: Spec, word: int) -> None:
    agree(spec, "A32.Decode", [word], {})


@settings(max_examples=300)
@given(word=interesting_words())
def test_encode_inverts_decode_concretely(spec: Spec, word: int) -> None:
    decoded = decode(spec, word)
    if decoded["iclass"] != "A32Class_Other":
        assert spec.call("A32.IsEncodable", decoded)
        assert spec.call("A32.Encode", decoded) == word


@settings(max_examples=100)
@given(word=interesting_words())
def test_encode_agrees(spec: Spec, word: int) -> None:
    internal = spec.compiled.function("A32.Decode")(spec.state(), word)
    agree(spec, "A32.Encode", [internal], {})
    agree(spec, "A32.IsEncodable", [internal], {})


@settings(max_examples=100)
@given(cond=st.integers(0, 15), flags=st.integers(0, 15))
def test_condition_holds_agrees(spec: Spec, cond: int, flags: int) -> None:
    agree(spec, "ConditionHolds", [cond], {"CPSR": flags << 28 | 0x1D3})


@pytest.mark.parametrize(("cond", "nzcv", "holds"), [
    (0x0, 0b0100, True), (0x1, 0b0100, False),     # EQ / NE on Z
    (0x2, 0b0010, True), (0x3, 0b0010, False),     # CS / CC on C
    (0x8, 0b0010, True), (0x8, 0b0110, False),     # HI: C and not Z
    (0xA, 0b1001, True), (0xB, 0b1001, False),     # GE / LT: N == V
    (0xC, 0b0000, True), (0xD, 0b0100, True),      # GT / LE
    (0xE, 0b0000, True), (0xF, 0b0000, True),      # AL and the unconditional space
])
def test_condition_table(spec: Spec, cond: int, nzcv: int, holds: bool) -> None:
    assert spec.call("ConditionHolds", cond, state=spec.state(CPSR=nzcv << 28 | 0x1D3)) is holds
