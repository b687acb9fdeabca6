"""Worked examples of stage 2 translation (ARM DDI 0406C.d §B3.6, §B3.7).

Every expected value here is worked out by hand from the descriptor formats,
not read back from the implementation: a block maps `OA<39:n> : IPA<n-1:0>`,
a fault names its kind and the level it was found at.
"""

from __future__ import annotations

import pytest

from hypspec.api import Spec

TABLE = 0x48000000  # start table
NEXT = 0x48010000  # second-level table
LAST = 0x48020000  # third-level table

VALID, TABLE_OR_PAGE = 0b01, 0b11
RW, RO, WO, NONE = 0b11, 0b01, 0b10, 0b00


def leaf(oa: int, kind: int = VALID, hap: int = RW, af: int = 1, memattr: int = 0xF,
         sh: int = 0b11, xn: int = 0) -> int:
    return oa | kind | (memattr << 2) | (hap << 6) | (sh << 8) | (af << 10) | (xn << 54)


def entry(table: int, index: int) -> int:
    """The byte address of a table's entry, as physical memory is given to the API."""
    return table + 8 * index


def translate(spec: Spec, ipa: int, memory: dict[int, int], *, write: bool = False,
              fetch: bool = False, t0sz: int = 0, sl0: int = 1, vttbr: int = TABLE) -> dict:
    state = spec.state(VTCR={"T0SZ": t0sz & 0xF, "S": (t0sz >> 3) & 1, "SL0": sl0},
                       VTTBR=vttbr, PhysMem=memory)
    acctype = "AccType_IFETCH" if fetch else "AccType_NORMAL"
    return spec.call("AArch32.SecondStageTranslate", ipa, acctype, write, state=state)


def three_levels(page: int) -> dict[int, int]:
    """IPA 0x80602000 -> level 1 index 2 -> level 2 index 3 -> level 3 index 2."""
    return {
        entry(TABLE, 2): NEXT | TABLE_OR_PAGE,
        entry(NEXT, 3): LAST | TABLE_OR_PAGE,
        entry(LAST, 2): page,
    }


def fault(result: dict) -> tuple[str, int]:
    return result["fault"]["statuscode"], result["fault"]["level"]


# ---- successful translations ---------------------------------------------------------

def test_level1_block_keeps_30_bit_offset(spec: Spec) -> None:
    result = translate(spec, 0x7ABCDEF8, {entry(TABLE, 1): leaf(0x80_4000_0000)})
    assert fault(result) == ("Fault_None", 0)
    assert result["paddress"] == 0x80_7ABC_DEF8


def test_level2_block_keeps_21_bit_offset(spec: Spec) -> None:
    memory = {entry(TABLE, 2): NEXT | TABLE_OR_PAGE, entry(NEXT, 3): leaf(0x12_3460_0000)}
    result = translate(spec, 0x8071_2345, memory)
    assert fault(result) == ("Fault_None", 0)
    assert result["paddress"] == 0x12_3471_2345


def test_level3_page_keeps_12_bit_offset(spec: Spec) -> None:
    result = translate(spec, 0x8060_2ABC, three_levels(leaf(0x55_5555_5000, TABLE_OR_PAGE)))
    assert fault(result) == ("Fault_None", 0)
    assert result["paddress"] == 0x55_5555_5ABC


def test_start_level_2_with_concatenated_tables(spec: Spec) -> None:
    # T0SZ = -2: a 34-bit IPA, start level 2, 16 concatenated tables indexed by IPA<33:21>.
    ipa = 0x3_0020_1234  # index 0x1801: in the 13th table
    result = translate(spec, ipa, {entry(TABLE, 0x1801): leaf(0x00_4000_0000)}, t0sz=-2, sl0=0)
    assert fault(result) == ("Fault_None", 0)
    assert result["paddress"] == 0x00_4000_1234


def test_start_level_1_with_two_concatenated_tables(spec: Spec) -> None:
    # T0SZ = -8: a 40-bit IPA, start level 1, 2 concatenated tables indexed by IPA<39:30>.
    ipa = 0x80_C000_0010  # index 0x203: in the second table
    result = translate(spec, ipa, {entry(TABLE, 0x203): leaf(0x01_0000_0000)}, t0sz=-8)
    assert fault(result) == ("Fault_None", 0)
    assert result["paddress"] == 0x01_0000_0010


def test_baddr_bits_below_table_alignment_are_ignored(spec: Spec) -> None:
    # A 4-entry level-1 table is 32-byte aligned; bits 4:3 of BADDR are not part of it.
    result = translate(spec, 0x4000_0000, {entry(TABLE, 1): leaf(0x1_0000_0000)},
                       vttbr=TABLE | 0x18)
    assert result["paddress"] == 0x1_0000_0000


def test_memory_attributes_are_decoded(spec: Spec) -> None:
    normal = translate(spec, 0x4000_0000, {entry(TABLE, 1): leaf(0, memattr=0b1110, sh=0b10)})
    assert normal["memattrs"] == {"memtype": "MemType_Normal", "outerattrs": 0b11,
                                  "innerattrs": 0b10, "shareability": 0b10}
    device = translate(spec, 0x4000_0000, {entry(TABLE, 1): leaf(0, memattr=0b0001)})
    assert device["memattrs"]["memtype"] == "MemType_Device"
    strongly = translate(spec, 0x4000_0000, {entry(TABLE, 1): leaf(0, memattr=0b0000)})
    assert strongly["memattrs"]["memtype"] == "MemType_StronglyOrdered"


# ---- translation faults --------------------------------------------------------------

@pytest.mark.parametrize("level", [1, 2, 3])
def test_invalid_descriptor_is_a_translation_fault_at_its_level(spec: Spec, level: int) -> None:
    memory = three_levels(leaf(0x1000, TABLE_OR_PAGE))
    memory[[entry(TABLE, 2), entry(NEXT, 3), entry(LAST, 2)][level - 1]] = 0xFFFF_FFFF_FFFF_FFFE
    assert fault(translate(spec, 0x8060_2000, memory)) == ("Fault_Translation", level)


def test_block_encoding_at_level_3_is_reserved(spec: Spec) -> None:
    memory = three_levels(leaf(0x1000, VALID))
    assert fault(translate(spec, 0x8060_2000, memory)) == ("Fault_Translation", 3)


def test_ipa_above_input_size_faults_at_level_1(spec: Spec) -> None:
    # T0SZ = 2: a 30-bit IPA, which must start at level 2; IPA bit 30 is out of range.
    memory = {entry(TABLE, 0): leaf(0)}
    assert fault(translate(spec, 0x4000_0000, memory, t0sz=2, sl0=0)) == ("Fault_Translation", 1)
    assert fault(translate(spec, 0x0000_0000, memory, t0sz=2, sl0=0)) == ("Fault_None", 0)


@pytest.mark.parametrize(("t0sz", "sl0"), [(2, 1), (-3, 0), (0, 2), (0, 3)])
def test_inconsistent_or_reserved_start_level_faults_at_level_1(spec: Spec, t0sz: int, sl0: int) -> None:
    memory = {entry(TABLE, i): leaf(0) for i in range(4)}
    assert fault(translate(spec, 0, memory, t0sz=t0sz, sl0=sl0)) == ("Fault_Translation", 1)


# ---- access flag and permission faults -----------------------------------------------

def _leaf_at(level: int, descriptor_for: dict[str, int]) -> dict[int, int]:
    if level == 1:
        return {entry(TABLE, 2): leaf(0x1_0000_0000, **descriptor_for)}
    if level == 2:
        return {entry(TABLE, 2): NEXT | TABLE_OR_PAGE, entry(NEXT, 3): leaf(0x1_0000_0000, **descriptor_for)}
    return three_levels(leaf(0x1_0000_0000, TABLE_OR_PAGE, **descriptor_for))


@pytest.mark.parametrize("level", [1, 2, 3])
def test_clear_access_flag_faults_before_permissions(spec: Spec, level: int) -> None:
    memory = _leaf_at(level, {"af": 0, "hap": NONE})
    assert fault(translate(spec, 0x8060_2000, memory)) == ("Fault_AccessFlag", level)


@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize(("hap", "write", "fetch", "xn", "allowed"), [
    (RO, False, False, 0, True),
    (RO, True, False, 0, False),
    (WO, True, False, 0, True),
    (WO, False, False, 0, False),
    (NONE, False, False, 0, False),
    (RW, False, True, 0, True),
    (RW, False, True, 1, False),   # execute-never
    (WO, False, True, 0, False),   # a fetch is a read in ARMv7 stage 2
])
def test_permissions(spec: Spec, level: int, hap: int, write: bool, fetch: bool, xn: int,
                     allowed: bool) -> None:
    memory = _leaf_at(level, {"hap": hap, "xn": xn})
    result = translate(spec, 0x8060_2000, memory, write=write, fetch=fetch)
    assert fault(result) == (("Fault_None", 0) if allowed else ("Fault_Permission", level))
    if not allowed:
        assert result["fault"]["write"] is write
        assert result["fault"]["ipaddress"] == 0x8060_2000
