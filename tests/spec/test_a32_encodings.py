"""Decoding and encoding of the A32 instructions the trap chapter reasons about (spec/07).

Instruction words are assembled by hand (tests/helpers/a32.py) from the encoding
diagrams of ARM DDI 0406C.d (§A8.8, §B9.3), independently of the spec's own encoder,
and cross-checked against words an assembler produces for the same instructions
(noted per example).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec
from tests.helpers.a32 import (
    AL,
    CPSID_I,
    MRS_CPSR,
    MRS_SPSR,
    MSR_CPSR_F,
    MSR_IMM,
    SYSM_ELR_HYP,
    SYSM_LR_SVC,
    SYSM_SP_USR,
    VADD_F64,
    VADD_I32_Q,
    VLD1,
    bkpt,
    bxj,
    eret,
    hvc,
    ldc,
    mcr,
    mcrr,
    mrc,
    mrrc,
    mrs_banked,
    msr_banked,
    smc,
    svc,
    vmrs,
    vmsr,
    wfe,
    wfi,
)
from tests.helpers.agreement import agree
from tests.strategies import interesting_words


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
    assert decode(spec, ldc(14, 5, 1, 0, p=0, u=0, w=0))["iclass"] == "A32Class_Undefined"
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
    (0xE1200070, "A32Class_BKPT"),  # bkpt #0
    (0xE0800001, "A32Class_Other"),  # add r0, r0, r1
])
def test_class_of_fixed_instructions(spec: Spec, word: int, iclass: str) -> None:
    assert decode(spec, word)["iclass"] == iclass


def test_hvc_immediate_is_reassembled(spec: Spec) -> None:
    assert hvc(0x1234) == 0xE1412374  # "hvc #0x1234"
    d = decode(spec, hvc(0x1234))
    assert d["iclass"] == "A32Class_HVC" and d["imm"] == 0x1234


def test_bkpt_immediate_is_reassembled(spec: Spec) -> None:
    assert bkpt(0x1234) == 0xE1212374  # "bkpt #0x1234": imm12 = 0x123, imm4 = 4
    d = decode(spec, bkpt(0x1234))
    assert d["iclass"] == "A32Class_BKPT" and d["imm"] == 0x1234 and d["cond"] == AL
    d = decode(spec, bkpt(0xFFFF, cond=0x0))  # "bkpteq": UNPREDICTABLE, decoded with its condition
    assert d["iclass"] == "A32Class_BKPT" and d["imm"] == 0xFFFF and d["cond"] == 0x0


def test_banked_forms(spec: Spec) -> None:
    assert mrs_banked(0, SYSM_ELR_HYP) == 0xE10E0300  # "mrs r0, ELR_hyp"
    d = decode(spec, mrs_banked(0, SYSM_ELR_HYP))
    assert d["iclass"] == "A32Class_MRS_banked" and d["SYSm"] == SYSM_ELR_HYP and not d["spsr"]
    d = decode(spec, msr_banked(SYSM_ELR_HYP, 4, spsr=True))
    assert d["iclass"] == "A32Class_MSR_banked" and d["spsr"] and d["Rn"] == 4


def test_undefined_encodings(spec: Spec) -> None:
    assert decode(spec, 0xEEF10A90)["iclass"] == "A32Class_Undefined"  # vmrs with opc2 = 4 (SBZ)
    assert decode(spec, vmrs(0, 1) | 1)["iclass"] == "A32Class_Undefined"  # vmrs, bits 3:0 SBZ
    assert decode(spec, vmsr(1, 0) | 1 << 5)["iclass"] == "A32Class_Undefined"  # vmsr, bits 7:5 SBZ
    assert decode(spec, 0xEC000000)["iclass"] == "A32Class_Undefined"  # §A5.6 op1 = 00000x
    assert decode(spec, 0xEC100000)["iclass"] == "A32Class_Undefined"
    assert decode(spec, 0xE7F000F0)["iclass"] == "A32Class_Undefined"  # udf #0 (§A8.8.247)
    assert decode(spec, 0xE7FABCFD)["iclass"] == "A32Class_Undefined"  # udf #0xabcd
    assert decode(spec, 0x07F000F0)["iclass"] == "A32Class_Other"  # the same word with cond EQ
    assert decode(spec, 0xE7F000E0)["iclass"] == "A32Class_Other"  # bits 7:4 not 1111: a media instruction
    assert decode(spec, 0xEC400000)["iclass"] == "A32Class_MCRR_MRRC"  # bit 22 set: MCRR, not unallocated


def test_should_be_bits_that_do_not_hold_decode_as_other(spec: Spec) -> None:
    assert decode(spec, smc() | 1 << 8)["iclass"] == "A32Class_Other"       # SMC bits 19:8 SBZ
    assert decode(spec, eret() | 1 << 12)["iclass"] == "A32Class_Other"     # ERET bits 19:8 SBZ
    assert decode(spec, MRS_CPSR & ~(1 << 16))["iclass"] == "A32Class_Other"  # MRS bits 19:16 SBO


def test_encode_reproduces_assembled_words(spec: Spec) -> None:
    for word in [mrc(15, 0, 0, 1, 0), mrrc(15, 0, 2, 3, 14), hvc(0xBEEF), wfe(0x3), eret(),
                 vmrs(5, 7), ldc(14, 5, 2, 0xFF, p=0, w=1, load=False), VADD_I32_Q, VLD1,
                 CPSID_I, msr_banked(SYSM_LR_SVC, 9), mrs_banked(3, SYSM_SP_USR), svc(0xABCDEF),
                 bxj(14, cond=0x5), bkpt(0xA5C3)]:
        assert spec.call("A32.Encode", decode(spec, word)) == word


# ---- both semantics agree on decoding ------------------------------------------------------


@settings(max_examples=200)
@given(word=st.one_of(interesting_words(), st.integers(0, 2**32 - 1)))
def test_decode_agrees(spec: Spec, word: int) -> None:
    agree(spec, "A32.Decode", [word], {})


@settings(max_examples=300)
@given(word=interesting_words())
def test_encode_inverts_decode_concretely(spec: Spec, word: int) -> None:
    decoded = decode(spec, word)
    if decoded["iclass"] not in ("A32Class_Other", "A32Class_Undefined"):
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
