"""The Stage-2 conformance harness, run on QEMU against results derived from the ARM ARM.

Every expected value below is computed from the architecture (ARM DDI 0406C.d): the
long-descriptor Stage 2 formats, the HSR ISS encoding for Data Aborts, and the fault-status
codes.  None of it was obtained by running the harness.  Where the architecture leaves a value
UNKNOWN (HPFAR on a Permission fault) or IMPLEMENTATION DEFINED (the fault level reported for an
out-of-range IPA) the test checks only what the architecture fixes.

No test here is skipped when QEMU or binutils are missing: the run fails with the install hint.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from hypspec.categories.stage2.case import Stage2Case, Stage2Observation
from hypspec.categories.stage2.image import emit_stage2_elf
from hypspec.categories.stage2.qemu import parse_output, run_stage2
from hypspec.categories.stage2.synthetic import synthetic_cases
from hypspec.conformance import layout
from hypspec.conformance.errors import (
    ConformanceInputError,
    HarnessRunError,
    ToolchainMissingError,
)
from hypspec.conformance.layout import validate
from hypspec.conformance.toolchain import INSTALL_HINT, find_toolchain
from tests.helpers.hung import assert_hung_image_kept

# --- Architecture: descriptor and syndrome encodings ---------------------------------------------

BLOCK, TABLE, PAGE = 0b01, 0b11, 0b11
MEMATTR_WB = 0b1111 << 2
AF = 1 << 10
XN = 1 << 54


def s2ap(bits: int) -> int:
    """S2AP[7:6]: bit 6 grants read, bit 7 grants write."""
    return bits << 6


RW, RO, WO, NONE = s2ap(0b11), s2ap(0b01), s2ap(0b10), s2ap(0b00)


def leaf(pa: int, perms: int = RW, *, af: bool = True, xn: bool = False, kind: int = BLOCK) -> int:
    return pa | MEMATTR_WB | perms | (AF if af else 0) | (XN if xn else 0) | kind


# Long-descriptor fault status codes, 0bTTTTLL with LL = lookup level.
def translation(level: int) -> int:
    return 0b000100 | level


def access_flag(level: int) -> int:
    return 0b001000 | level


def permission(level: int) -> int:
    return 0b001100 | level


EC_HVC, EC_PABT, EC_DABT = 0x12, 0x20, 0x24
IL = 1 << 25  # 32-bit instruction
SAS = {1: 0b00, 2: 0b01, 4: 0b10}


def dabt_hsr(fsc: int, *, rt: int, size: int = 4, signed: bool = False, write: bool = False) -> int:
    """HSR for a Stage 2 Data Abort with a valid syndrome (ISV = 1): EC, IL, ISV, SAS, SSE,
    SRT, WnR and DFSC at bits [31:26], 25, 24, [23:22], 21, [19:16], 6 and [5:0]."""
    return (
        EC_DABT << 26
        | IL
        | 1 << 24
        | SAS[size] << 22
        | int(signed) << 21
        | rt << 16
        | int(write) << 6
        | fsc
    )


def pabt_hsr(fsc: int) -> int:
    """HSR for a Stage 2 Prefetch Abort, IL excluded (compare under PABT_MASK)."""
    return EC_PABT << 26 | fsc


PABT_MASK = 0xFFFF_FFFF & ~IL  # QEMU 7.2 reports IL = 0 for Prefetch Aborts routed to Hyp


def hvc_hsr(imm: int) -> int:
    return EC_HVC << 26 | IL | imm


def hpfar(ipa: int) -> int:
    """HPFAR.FIPA: IPA[39:12] in bits [31:4]."""
    return (ipa >> 12) << 4


HVC_2 = 0xE140_0072  # hvc #2 (A1 encoding: cond 1110, 0001 0100, imm12, 0111, imm4)
UDF_0 = 0xE7F0_00F0  # udf #0: permanently UNDEFINED
B_SELF = 0xEAFF_FFFE  # b . : never traps

# --- A level-1-start world: VTCR.T0SZ = 0 (32-bit IPA), SL0 = 0b01 ------------------------------

VTCR_L1 = 0x8000_0040
L1 = 0x4800_0000  # 4 entries: 32 bytes, VTTBR.BADDR aligned to 2**5
L2 = L1 + 0x1000
L3 = L1 + 0x2000

BASE_MEMORY = {
    # L1[0] is the harness's stub slot.  L1[1]: IPA 1 GiB.. -> PA 1 GiB.. (identity).
    L1 + 8 * 1: leaf(0x4000_0000),
    L1 + 8 * 2: L2 | TABLE,  # IPA 0x80000000..: level 2
    # L1[3] (IPA 0xC0000000..) is left out: it reads as 0, an invalid descriptor.
    L2 + 8 * 0: leaf(0x5020_0000, RO),  # IPA 0x80000000
    L2 + 8 * 1: leaf(0x5040_0000, af=False),  # IPA 0x80200000
    L2 + 8 * 2: L3 | TABLE,  # IPA 0x80400000
    L2 + 8 * 3: leaf(0x5060_0000, xn=True),  # IPA 0x80600000
    L2 + 8 * 4: leaf(0x8000_0000),  # IPA 0x80800000 -> beyond the 1 GiB of RAM
    L2 + 8 * 5: leaf(0x50A0_0000, NONE),  # IPA 0x80A00000
    L2 + 8 * 6: leaf(layout.GICD_BASE),  # IPA 0x80C00000 -> the GIC distributor
    L3 + 8 * 0: leaf(0x5080_0000, kind=PAGE),  # IPA 0x80400000
    # L3[1] (IPA 0x80401000) left out: translation fault at level 3
    L3 + 8 * 2: leaf(0x5080_2000, xn=True, kind=PAGE),  # IPA 0x80402000
    L3 + 8 * 3: leaf(0x5080_3000, NONE, kind=PAGE),  # IPA 0x80403000
    L3 + 8 * 4: leaf(0x5080_4000, WO, kind=PAGE),  # IPA 0x80404000
    L3 + 8 * 5: leaf(0x5080_5000, af=False, kind=PAGE),  # IPA 0x80405000
    L3 + 8 * 6: leaf(0x5080_6000, kind=BLOCK),  # 0b01 at level 3 is reserved: invalid
    # data
    0x5000_0000: 0x1122_3344_5566_7788,
    0x5000_0008: 0x8899_AABB_CCDD_EEFF,
    0x5020_0000: 0x0123_4567_89AB_CDEF,
    0x5080_0000: 0x1111_1111_2222_2222,
    0x5080_0010: HVC_2,
    0x5080_0020: UDF_0,
    0x5080_0030: B_SELF,
    0x5080_2000: HVC_2,
    0x5080_3000: HVC_2,
    0x5080_4000: HVC_2,
}


@dataclass(frozen=True)
class Expect:
    """The architecturally fixed part of an observation; None fields are not checked."""

    outcome: str
    hsr: int | None = None
    hsr_mask: int = 0xFFFF_FFFF
    hdfar: int | None = None
    hifar: int | None = None
    hpfar: int | None = None
    value: int | None = None
    word_after: int | None = None
    detail_prefix: str | None = None


CASES: list[tuple[Stage2Case, Expect]] = []


def case(
    case_id: str,
    expect: Expect,
    *,
    memory_extra: dict[int, int] | None = None,
    vtcr: int = VTCR_L1,
    vttbr: int = L1,
    base: dict[int, int] | None = None,
    **fields: object,
) -> None:
    memory = dict(BASE_MEMORY if base is None else base)
    memory.update(memory_extra or {})
    stimulus = Stage2Case(
        id=case_id,
        vtcr=vtcr,
        vttbr=vttbr,
        memory=memory,
        **fields,  # type: ignore[arg-type]
    )
    CASES.append((stimulus, expect))


def read_ok(
    case_id: str,
    ipa: int,
    value: int,
    *,
    size: int = 4,
    signed: bool = False,
    rt: int = 1,
    **kw: object,
) -> None:
    case(
        case_id,
        Expect("ok", hsr=hvc_hsr(0), value=value),
        access="read",
        ipa=ipa,
        size=size,
        signed=signed,
        rt=rt,
        **kw,
    )


def data_abort(
    case_id: str,
    ipa: int,
    fsc: int,
    *,
    access: str = "read",
    size: int = 4,
    signed: bool = False,
    rt: int = 1,
    value: int = 0,
    with_hpfar: bool = True,
    **kw: object,
) -> None:
    write = access == "write"
    expect = Expect(
        "hyp_abort",
        hsr=dabt_hsr(fsc, rt=rt, size=size, signed=signed, write=write),
        hdfar=ipa,
        hpfar=hpfar(ipa) if with_hpfar else None,
    )
    case(
        case_id, expect, access=access, ipa=ipa, size=size, signed=signed, rt=rt, value=value, **kw
    )


def prefetch_abort(
    case_id: str, ipa: int, fsc: int, *, with_hpfar: bool = True, **kw: object
) -> None:
    expect = Expect(
        "hyp_abort",
        hsr=pabt_hsr(fsc),
        hsr_mask=PABT_MASK,
        hifar=ipa,
        hpfar=hpfar(ipa) if with_hpfar else None,
    )
    case(case_id, expect, access="fetch", ipa=ipa, **kw)


# Successful loads: value from the little-endian bytes at the PA, extended as the instruction does.
read_ok("ldr word identity block", 0x5000_0000, 0x5566_7788, rt=5)
read_ok("ldr upper word, r12", 0x5000_0004, 0x1122_3344, rt=12)
read_ok("ldr r0 (base register is r1)", 0x5000_0004, 0x1122_3344, rt=0)
read_ok("ldrsb negative", 0x5000_0008, 0xFFFF_FFFF, size=1, signed=True, rt=3)
read_ok("ldrb", 0x5000_0008, 0x0000_00FF, size=1, rt=3)
read_ok("ldrsb positive", 0x5000_0007, 0x0000_0011, size=1, signed=True, rt=2)
read_ok("ldrsb byte 7 negative", 0x5000_000F, 0xFFFF_FF88, size=1, signed=True, rt=4)
read_ok("ldrsh negative", 0x5000_000A, 0xFFFF_CCDD, size=2, signed=True, rt=7)
read_ok("ldrh", 0x5000_000A, 0x0000_CCDD, size=2, rt=7)
read_ok("ldrsh positive", 0x5000_0002, 0x0000_5566, size=2, signed=True, rt=8)
read_ok("ldrsh upper half", 0x5000_000C, 0xFFFF_AABB, size=2, signed=True, rt=9)
read_ok("ldr unspecified memory reads zero", 0x5000_1000, 0)
read_ok("ldr via level-2 read-only block", 0x8000_0004, 0x0123_4567, rt=6)
read_ok("ldr via level-3 page", 0x8040_0000, 0x2222_2222, rt=10)
read_ok("ldr XN page is readable", 0x8040_2000, HVC_2, rt=11)
read_ok("ldr with VMID in VTTBR", 0x5000_0000, 0x5566_7788, vttbr=(0x5A << 48) | L1)

# Stage 2 translation faults: HDFAR = VA (= IPA), HPFAR = IPA[39:12] << 4.
data_abort("ldr level-1 invalid", 0xC000_0000, translation(1), rt=1)
data_abort(
    "ldrsb level-1 invalid: SAS=byte SSE=1", 0xC000_0001, translation(1), size=1, signed=True, rt=4
)
data_abort(
    "ldrsh level-1 invalid: SAS=half SSE=1", 0xC000_0002, translation(1), size=2, signed=True, rt=9
)
data_abort("ldrh level-1 invalid: SSE=0", 0xC000_0002, translation(1), size=2, rt=9)
data_abort("ldr level-3 invalid", 0x8040_1000, translation(3), rt=2)
data_abort("ldr level-3 reserved 0b01", 0x8040_6000, translation(3), rt=2)
data_abort(
    "str level-1 invalid", 0xC000_0100, translation(1), access="write", rt=3, value=0x1234_5678
)
# Access flag faults.
data_abort("ldr level-2 block AF=0", 0x8020_0000, access_flag(2), rt=1)
data_abort("str level-2 block AF=0", 0x8020_0008, access_flag(2), access="write", rt=1)
data_abort("ldr level-3 page AF=0", 0x8040_5004, access_flag(3), rt=0)
# Permission faults (HPFAR is UNKNOWN for these: not checked).
data_abort(
    "str word read-only block",
    0x8000_0000,
    permission(2),
    access="write",
    rt=1,
    value=0xDEAD_BEEF,
    with_hpfar=False,
)
data_abort(
    "strb read-only block",
    0x8000_0001,
    permission(2),
    access="write",
    size=1,
    rt=2,
    value=0x5A,
    with_hpfar=False,
)
data_abort(
    "strh read-only block, r12",
    0x8000_0002,
    permission(2),
    access="write",
    size=2,
    rt=12,
    value=0x5A5A,
    with_hpfar=False,
)
data_abort("ldr no-access block", 0x80A0_0000, permission(2), rt=1, with_hpfar=False)
data_abort("ldr no-access page", 0x8040_3000, permission(3), rt=5, with_hpfar=False)
data_abort("ldr write-only page", 0x8040_4000, permission(3), rt=5, with_hpfar=False)


# Successful stores: Hyp reads back the doubleword holding the written bytes.
def write_ok(
    case_id: str, ipa: int, value: int, word_after: int, *, size: int = 4, rt: int = 1
) -> None:
    case(
        case_id,
        Expect("ok", hsr=hvc_hsr(0), word_after=word_after),
        access="write",
        ipa=ipa,
        size=size,
        rt=rt,
        value=value,
    )


write_ok("str word into page", 0x8040_0000, 0x0BAD_F00D, 0x1111_1111_0BAD_F00D, rt=11)
# Must see the case's memory again, not the previous case's store.
read_ok("ldr after a store sees the case memory", 0x8040_0000, 0x2222_2222, rt=10)
write_ok("strh r0 upper half", 0x8040_0006, 0xBEEF, 0xBEEF_1111_2222_2222, size=2, rt=0)
write_ok("strb", 0x8040_0003, 0xAB, 0x1111_1111_AB22_2222, size=1, rt=12)
write_ok(
    "strb uses only the low byte", 0x8040_0004, 0xFFFF_FF5A, 0x1111_115A_2222_2222, size=1, rt=3
)
write_ok("str write-only page", 0x8040_4004, 0xCAFE_F00D, 0xCAFE_F00D_0000_0000 | HVC_2, rt=6)
write_ok("str unspecified memory", 0x5000_2004, 0x7777_0001, 0x7777_0001_0000_0000)
read_ok("ldr after a store to unspecified memory reads zero", 0x5000_2004, 0)

# Instruction fetches: the guest ERETs straight to the IPA.
case("fetch hvc #2 via page", Expect("ok", hsr=hvc_hsr(2)), access="fetch", ipa=0x8040_0010)
case(
    "fetch hvc #2 via identity block",
    Expect("ok", hsr=hvc_hsr(2)),
    access="fetch",
    ipa=0x5000_0010,
    memory_extra={0x5000_0010: HVC_2},
)
prefetch_abort("fetch XN page", 0x8040_2000, permission(3), with_hpfar=False)
prefetch_abort("fetch XN block", 0x8060_0000, permission(2), with_hpfar=False)
prefetch_abort("fetch level-1 invalid", 0xC000_0000, translation(1))
prefetch_abort("fetch level-3 invalid", 0x8040_1000, translation(3))
prefetch_abort("fetch AF=0 block", 0x8020_0000, access_flag(2))
# Execution needs Stage 2 read permission (B3.7, execute-never restrictions on fetching).
prefetch_abort("fetch no-access page", 0x8040_3000, permission(3), with_hpfar=False)
prefetch_abort("fetch write-only page", 0x8040_4000, permission(3), with_hpfar=False)
# SL0 = 0b01 with T0SZ = 7 is inconsistent: a Translation fault (the level is not checked).
case(
    "fetch with SL0/T0SZ inconsistent",
    Expect("hyp_abort", hsr=EC_PABT << 26 | 0b000100, hsr_mask=0xFC00_003C, hifar=0x8040_0010),
    access="fetch",
    ipa=0x8040_0010,
    vtcr=0x8000_0047,
)

# Exceptions the access raises at PL1, reported by the guest's own vectors.  For a fetch case
# the case must map the stub itself (here L1[0] as the harness would) for the vectors to run.
case(
    "fetch udf -> guest undefined",
    Expect("guest_exception", detail_prefix="undefined_instruction lr=0x80400024"),
    access="fetch",
    ipa=0x8040_0020,
    memory_extra={L1: leaf(layout.RAM_BASE)},
)
case(
    "ldr beyond RAM -> guest external abort",
    Expect("guest_exception", detail_prefix="data_abort"),
    access="read",
    ipa=0x8080_0000,
    rt=1,
)

# What the harness refuses or cannot finish, and that the next case still runs.
case(
    "str onto the harness is refused",
    Expect("no_report", detail_prefix="refused"),
    access="write",
    ipa=layout.HARNESS_BASE,
    value=1,
)
case(
    "ldr of a device is refused",
    Expect("no_report", detail_prefix="refused"),
    access="read",
    ipa=0x80C0_0000,
)
case(
    "fetch b . times out",
    Expect("no_report", detail_prefix="watchdog"),
    access="fetch",
    ipa=0x8040_0030,
)
read_ok("ldr after a timeout", 0x5000_0000, 0x5566_7788, rt=5)
# A level-2 table in unbacked PA space: the harness's own ATS takes a Data Abort in Hyp (an
# external abort on its walk), which must not stop the run.  Whether unbacked memory aborts is a
# property of the board, so only the Stage 2 Data Abort itself is checked.
case(
    "ldr through a table in unbacked memory",
    Expect("hyp_abort", hsr=EC_DABT << 26, hsr_mask=0xFC00_0000, hdfar=0xC000_0000),
    access="read",
    ipa=0xC000_0000,
    memory_extra={L1 + 8 * 3: 0xF000_0000 | TABLE},
)
read_ok("ldr after an ATS abort", 0x5000_0000, 0x5566_7788, rt=5)

# --- Start level 2, 16 concatenated tables: T0SZ = -2 (34-bit IPA), S = 1, SL0 = 0b00 ----------

VTCR_L2_CONCAT = 0x8000_001E
L2C = 0x4801_0000  # 8192 entries = 64 KiB, BADDR aligned to 2**16
L2C_MEMORY = {
    L2C + 8 * (0xC020_0000 >> 21): leaf(0x50A0_0000),  # index 0x601, in the 4th table
    L2C + 8 * (0x4000_0000 >> 21): leaf(0x50C0_0000),  # index 0x200, first of the 2nd table
    L2C + 8 * 3: 0x4804_0000 | TABLE,  # IPA 0x600000 -> a level-3 table left all zero
    0x50A0_0010: 0x0000_0000_1234_5678,
    0x50C0_0000: 0x0000_0000_9ABC_DEF0,
}
case(
    "L2 concat: ldr in 4th table",
    Expect("ok", value=0x1234_5678),
    access="read",
    ipa=0xC020_0010,
    vtcr=VTCR_L2_CONCAT,
    vttbr=L2C,
    base=L2C_MEMORY,
)
case(
    "L2 concat: ldr in 2nd table",
    Expect("ok", value=0x9ABC_DEF0),
    access="read",
    ipa=0x4000_0000,
    vtcr=VTCR_L2_CONCAT,
    vttbr=L2C,
    base=L2C_MEMORY,
)
data_abort(
    "L2 concat: unmapped entry",
    0xC040_0000,
    translation(2),
    rt=7,
    vtcr=VTCR_L2_CONCAT,
    vttbr=L2C,
    base=L2C_MEMORY,
)
data_abort(
    "L2 concat: level-3 table of zeros",
    0x0060_0000,
    translation(3),
    rt=7,
    vtcr=VTCR_L2_CONCAT,
    vttbr=L2C,
    base=L2C_MEMORY,
)

# --- Start level 2, one table: T0SZ = 2 (30-bit IPA) -------------------------------------------

VTCR_L2_30BIT = 0x8000_0002
L2S = 0x4802_0000
L2S_MEMORY = {L2S + 8 * 2: leaf(0x5100_0000), 0x5100_0000: 0x0000_0000_0000_ABCD}
case(
    "L2 30-bit: ldr",
    Expect("ok", value=0xABCD),
    access="read",
    ipa=0x0040_0000,
    vtcr=VTCR_L2_30BIT,
    vttbr=L2S,
    base=L2S_MEMORY,
)
# IPA beyond the 30-bit input range: a Translation fault; which level is reported is left to
# the implementation, so only the fault type is checked.
case(
    "L2 30-bit: IPA out of range",
    Expect("hyp_abort", hsr=EC_DABT << 26 | 0b000100, hsr_mask=0xFC00_003C, hdfar=0x4000_0000),
    access="read",
    ipa=0x4000_0000,
    vtcr=VTCR_L2_30BIT,
    vttbr=L2S,
    base=L2S_MEMORY,
)

# --- Start level 1, two concatenated tables: T0SZ = -8 (40-bit IPA), S = 1, SL0 = 0b01 ---------

VTCR_L1_40BIT = 0x8000_0058
L1W = 0x4803_0000  # 1024 entries = 8 KiB
case(
    "L1 40-bit: ldr through index 3",
    Expect("ok", value=0x5566_7788),
    access="read",
    ipa=0xD000_0000,
    vtcr=VTCR_L1_40BIT,
    vttbr=L1W,
    base={L1W + 8 * 3: leaf(0x4000_0000), 0x5000_0000: 0x1122_3344_5566_7788},
)


def _ids_unique() -> None:
    ids = [c.id for c, _ in CASES]
    assert len(ids) == len(set(ids)), "duplicate case id in the test table"


_ids_unique()


@pytest.fixture(scope="module")
def observations() -> dict[str, Stage2Observation]:
    # A small batch: the hand cases span several images run in parallel, which also checks that
    # results come back to the right case ids.
    results = run_stage2([c for c, _ in CASES], batch=16, jobs=2)
    assert [r.id for r in results] == [c.id for c, _ in CASES]
    return {r.id: r for r in results}


@pytest.mark.parametrize(("stage2_case", "expect"), CASES, ids=[c.id for c, _ in CASES])
def test_hand_case(
    stage2_case: Stage2Case, expect: Expect, observations: dict[str, Stage2Observation]
) -> None:
    got = observations[stage2_case.id]
    assert got.outcome == expect.outcome, got
    if expect.hsr is not None:
        assert got.hsr is not None, got
        assert got.hsr & expect.hsr_mask == expect.hsr & expect.hsr_mask, (
            f"HSR {got.hsr:#010x}, expected {expect.hsr:#010x} under mask {expect.hsr_mask:#x}"
        )
    for name in ("hdfar", "hifar", "hpfar", "value", "word_after"):
        wanted = getattr(expect, name)
        if wanted is not None:
            actual = getattr(got, name)
            assert actual == wanted, f"{name} {actual!r:} != expected {wanted:#x}: {got}"
    if expect.detail_prefix is not None:
        assert got.detail.startswith(expect.detail_prefix), got.detail


# --- Random cases against a reference walk written from the architecture -------------------------


def _reference(c: Stage2Case) -> Expect:
    """Stage 2 walk for the synthetic world (level-1 start, 32-bit IPA, 4 KiB granule)."""
    mem = c.memory
    table, level = c.vttbr, 1
    while True:
        shift = {1: 30, 2: 21, 3: 12}[level]
        desc = mem.get(table + 8 * ((c.ipa >> shift) & 0x1FF), 0)
        kind = desc & 0b11
        if level < 3 and kind == TABLE:
            table, level = desc & 0xFF_FFFF_F000, level + 1
            continue
        if kind != (PAGE if level == 3 else BLOCK):
            fault = translation(level)
            break
        if not desc & AF:
            fault = access_flag(level)
            break
        readable, writable = desc >> 6 & 1, desc >> 7 & 1
        allowed = {
            "read": readable,
            "write": writable,
            "fetch": readable and not desc & XN,
        }[c.access]
        if not allowed:
            fault = permission(level)
            break
        pa = (desc & 0xFF_FFFF_F000 & ~((1 << shift) - 1)) | (c.ipa & ((1 << shift) - 1))
        word = mem.get(pa & ~7, 0)
        lane = (pa & 7) * 8
        if c.access == "fetch":
            assert (word >> lane) & 0xFFFF_FFFF == HVC_2
            return Expect("ok", hsr=hvc_hsr(2))
        if c.access == "write":
            mask = ((1 << (8 * c.size)) - 1) << lane
            after = (word & ~mask) | ((c.value << lane) & mask)
            return Expect("ok", hsr=hvc_hsr(0), word_after=after)
        raw = (word >> lane) & ((1 << (8 * c.size)) - 1)
        if c.signed and raw >> (8 * c.size - 1):
            raw |= 0xFFFF_FFFF & ~((1 << (8 * c.size)) - 1)
        return Expect("ok", hsr=hvc_hsr(0), value=raw)
    with_hpfar = fault & 0b111100 != 0b001100  # UNKNOWN for Permission faults
    if c.access == "fetch":
        return Expect(
            "hyp_abort",
            hsr=pabt_hsr(fault),
            hsr_mask=PABT_MASK,
            hifar=c.ipa,
            hpfar=hpfar(c.ipa) if with_hpfar else None,
        )
    return Expect(
        "hyp_abort",
        hsr=dabt_hsr(fault, rt=c.rt, size=c.size, signed=c.signed, write=c.access == "write"),
        hdfar=c.ipa,
        hpfar=hpfar(c.ipa) if with_hpfar else None,
    )


def test_random_cases_match_reference_walk() -> None:
    cases = synthetic_cases(600, seed=20240611)
    results = run_stage2(cases, batch=200)
    mismatches = []
    for c, got in zip(cases, results, strict=True):
        want = _reference(c)
        checks = [got.outcome == want.outcome]
        if want.hsr is not None:
            checks.append(got.hsr is not None and got.hsr & want.hsr_mask == want.hsr)
        for name in ("hdfar", "hifar", "hpfar", "value", "word_after"):
            if getattr(want, name) is not None:
                checks.append(getattr(got, name) == getattr(want, name))
        if not all(checks):
            mismatches.append((c, want, got))
    assert not mismatches, "\n".join(f"{c}\n  want {w}\n  got  {g}" for c, w, g in mismatches[:5])


# --- Without QEMU: input validation, output parsing, tool discovery ------------------------------


def _valid(**changes: object) -> Stage2Case:
    fields: dict[str, object] = {
        "id": "v",
        "vtcr": VTCR_L1,
        "vttbr": L1,
        "memory": {L1 + 8: leaf(0x4000_0000)},
        "access": "read",
        "ipa": 0x5000_0000,
    }
    fields.update(changes)
    return Stage2Case(**fields)  # type: ignore[arg-type]


def test_valid_case_passes() -> None:
    validate(_valid())
    validate(_valid(access="fetch", vtcr=0x8000_00C0, vttbr=0x123))  # fetch: anything goes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ipa": 1 << 32}, "below 2**32"),
        ({"ipa": 0x5000_0002}, "not 4-byte aligned"),
        ({"ipa": 0x5000_0001, "size": 2}, "not 2-byte aligned"),
        ({"size": 8}, "size 8 is not valid"),
        ({"access": "fetch", "size": 2}, "size 2 is not valid for a fetch"),
        ({"signed": True}, "signed applies only"),
        ({"rt": 13}, "r0..r12"),
        ({"value": 1 << 32}, "32-bit register value"),
        ({"memory": {0x4010_0000: 0}}, "outside the TABLE region"),
        ({"memory": {0x5000_0004: 0}}, "8-byte-aligned"),
        ({"memory": {0x5000_0000: 1 << 64}}, "64-bit unsigned"),
        ({"memory": {L1: 0}}, "start-table slot"),
        ({"ipa": 0x0010_0000}, "IPA range of the harness stub"),
        ({"vtcr": 0x8000_0080}, "inconsistent or reserved"),
        ({"vtcr": 0x8000_0047}, "inconsistent or reserved"),
        ({"vtcr": 0x8000_004F}, "inconsistent or reserved"),  # S != T0SZ[3]
        ({"vttbr": L1 + 8}, "not aligned"),
        ({"vttbr": 0x4010_0000}, "must lie in the TABLE region"),
        ({"vtcr": 0x8000_0002, "memory": {}, "ipa": 0x0030_0000}, "IPA range of the harness"),
        ({"vtcr": 0x8000_0002, "memory": {L1 + 8: 0}}, "start-table slot"),
        ({"access": "load"}, "access must be"),
    ],
)
def test_validate_rejects(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConformanceInputError, match=re.escape(message)):
        validate(_valid(**changes))


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ConformanceInputError, match="more than once"):
        run_stage2([_valid(), _valid()])


LINE = (
    "R 00000000 0 4a000000 00000000 00000000 00000000 55667788 00000000 00000000 50000b00 00000000"
)


def test_parse_output_accepts_the_format() -> None:
    parsed = parse_output(f"HYPSPEC-S2 00000001\n{LINE}\nDONE 00000001\n", 1)
    assert parsed.done and parsed.reports[0].value == 0x5566_7788


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage\n",
        f"HYPSPEC-S2 00000002\n{LINE}\nDONE 00000001\n",  # banner count mismatch
        f"HYPSPEC-S2 00000001\n{LINE}\n{LINE}\nDONE 00000001\n",  # repeated index
        f"HYPSPEC-S2 00000001\n{LINE.upper()}\nDONE 00000001\n",  # uppercase hex
        f"HYPSPEC-S2 00000001\n{LINE}\nhello\nDONE 00000001\n",
        f"HYPSPEC-S2 00000001\n{LINE} 0\nDONE 00000001\n",
    ],
)
def test_parse_output_is_strict(text: str) -> None:
    with pytest.raises(HarnessRunError):
        parse_output(text, 1)


def test_parse_output_drops_the_line_a_kill_cut() -> None:
    parsed = parse_output(f"HYPSPEC-S2 00000002\n{LINE}\nR 0000", 2, truncated=True)
    assert len(parsed.reports) == 1 and not parsed.done


def test_an_image_past_its_watchdog_is_a_harness_failure_with_its_image_kept() -> None:
    # A limit far below QEMU's start-up time: the image reports nothing before it is stopped.
    cases = synthetic_cases(3)
    with pytest.raises(HarnessRunError) as failed:
        run_stage2(cases, timeout=0.001)
    assert_hung_image_kept(str(failed.value), cases[0].id)


def test_udf_in_a_fetch_case_without_the_stub_is_explained() -> None:
    [got] = run_stage2([Stage2Case("udf, no stub", VTCR_L1, L1, BASE_MEMORY, "fetch", 0x8040_0020)])
    assert got.outcome == "hyp_abort" and got.hifar == layout.GUEST_STUB_IPA + 4
    assert "undefined_instruction vector" in got.detail


def test_missing_tools_name_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ToolchainMissingError) as info:
        find_toolchain()
    assert INSTALL_HINT in str(info.value)
    assert "qemu-system-arm" in str(info.value)


def test_emit_elf_writes_image_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "images"
    cases = synthetic_cases(5)
    elves = emit_stage2_elf(cases, out, batch=3)
    assert [e.name for e in elves] == ["stage2_000.elf", "stage2_001.elf"]
    manifest = json.loads((out / "stage2_001.json").read_text())
    assert manifest["cases"] == [c.id for c in cases[3:]]
    assert manifest["qemu"][-1] == "stage2_001.elf"
