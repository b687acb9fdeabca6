"""Worked examples of stage 2 aborts reported to Hyp mode (ARM DDI 0406C.d §B3.13).

Expected HSR values are assembled by hand from the field layout: EC<31:26>,
IL<25>, ISV<24>, SAS<23:22>, SSE<21>, SRT<19:16>, WnR<6>, DFSC<5:0>.
"""

from __future__ import annotations

import pytest

from hypspec.api import Spec

TABLE, NEXT = 0x48000000, 0x48001000


def hsr(ec: int, il: int, iss: int) -> int:
    return (ec << 26) | (il << 25) | iss


def data_iss(*, sas: int, sse: int = 0, srt: int, wnr: int, dfsc: int) -> int:
    return (1 << 24) | (sas << 22) | (sse << 21) | (srt << 16) | (wnr << 6) | dfsc


def world(spec: Spec, memory: dict[int, int]):
    """IPA 0x4000_0000..: a 1GB RW block at PA 0x5000_0000's 1GB base;
    IPA 0x8000_0000..: a level-2 table whose index 3 is a read-only 2MB block."""
    words = {
        TABLE + 8: 0x4000_0000 | (0xF << 2) | (0b11 << 6) | (1 << 10) | 1,
        TABLE + 16: NEXT | 3,
        NEXT + 24: 0x5060_0000 | (0xF << 2) | (0b01 << 6) | (1 << 10) | 1,
    }
    words.update(memory)
    return spec.state(VTCR={"SL0": 1}, VTTBR=TABLE, HCR={"VM": 1}, PhysMem=words)


def access(spec: Spec, state, va: int, kind: str = "read", size: int = 4, signed: bool = False,
           rt: int = 1, value: int = 0) -> dict:
    acctype = "AccType_IFETCH" if kind == "fetch" else "AccType_NORMAL"
    return spec.call("Model.Stage2GuestAccess", va, acctype, kind == "write", size, signed, rt,
                     value, state=state)


def test_word_store_to_read_only_block(spec: Spec) -> None:
    # The QEMU probe saw 0x9381004e for this access: a permission fault at level 2.
    state = world(spec, {})
    access(spec, state, 0x8060_0010, "write", rt=1)
    assert state.HSR == hsr(0x24, 1, data_iss(sas=2, srt=1, wnr=1, dfsc=0b001110)) == 0x9381004E
    assert state.HDFAR == 0x8060_0010


def test_hpfar_is_unknown_after_a_permission_fault(spec: Spec) -> None:
    """B4.1.70: HPFAR is valid for Translation and Access flag faults only."""
    seen = set()
    for seed in range(4):
        state = world(spec, {})
        state.oracle.seed = seed
        access(spec, state, 0x8060_0010, "write")
        seen.add(state.HPFAR)
    assert len(seen) > 1


def test_word_load_from_unmapped_level1_entry(spec: Spec) -> None:
    state = world(spec, {})
    access(spec, state, 0xC000_0010, "read", rt=3)
    assert state.HSR == hsr(0x24, 1, data_iss(sas=2, srt=3, wnr=0, dfsc=0b000101)) == 0x93830005
    assert state.HPFAR == 0x00C0_0000


def test_halfword_load_reports_size_and_register(spec: Spec) -> None:
    state = world(spec, {})
    access(spec, state, 0xC000_0000, "read", size=2, rt=3)
    assert state.HSR == 0x93430005


@pytest.mark.parametrize(("size", "sas"), [(1, 0), (2, 1), (4, 2)])
def test_signed_loads_set_sse(spec: Spec, size: int, sas: int) -> None:
    state = world(spec, {})
    access(spec, state, 0xC000_0000, "read", size=size, signed=size < 4, rt=12)
    sse = 1 if size < 4 else 0
    assert hsr(0x24, 1, data_iss(sas=sas, sse=sse, srt=12, wnr=0, dfsc=0b000101)) == state.HSR


def test_instruction_fetch_abort_is_a_prefetch_abort(spec: Spec) -> None:
    state = world(spec, {})
    access(spec, state, 0xC000_0100, "fetch")
    il_unknown = 1 << 25
    assert state.HSR & ~il_unknown == (0x20 << 26) | 0b000101
    assert state.HIFAR == 0xC000_0100
    assert state.HPFAR == 0x00C0_0000


def test_il_is_unknown_where_the_architecture_says_so(spec: Spec) -> None:
    """IL of a prefetch abort comes from the oracle: two seeds may differ, one seed never."""
    seen = set()
    for seed in range(16):
        state = world(spec, {})
        state.oracle.seed = seed
        access(spec, state, 0xC000_0100, "fetch")
        seen.add(state.HSR >> 25 & 1)
    assert seen == {0, 1}


def test_load_returns_little_endian_bytes(spec: Spec) -> None:
    # IPA 0x4000_xxxx goes through the 1GB block whose output address is 0x4000_0000.
    state = world(spec, {0x4000_0008: 0x8899AABB_CCDDEEFF})
    assert access(spec, state, 0x4000_000C, "read")["data"] == 0x8899AABB
    assert access(spec, state, 0x4000_000A, "read", size=2)["data"] == 0xCCDD
    assert access(spec, state, 0x4000_000B, "read", size=1, signed=True)["data"] == 0xFFFFFFCC
    assert access(spec, state, 0x4000_0009, "read", size=1, signed=True)["data"] == 0xFFFFFFEE
    assert access(spec, state, 0x4000_000E, "read", size=2, signed=True)["data"] == 0xFFFF8899


def test_store_changes_only_its_bytes(spec: Spec) -> None:
    state = world(spec, {0x4000_0008: 0x8899AABB_CCDDEEFF})
    access(spec, state, 0x4000_000A, "write", size=2, value=0x12345678)
    assert spec.memory(state)[0x4000_0008] == 0x8899AABB_5678EEFF


def test_stage2_off_uses_the_ipa_as_the_pa(spec: Spec) -> None:
    state = world(spec, {0xC000_0000: 0x1234})
    state.HCR = 0
    assert access(spec, state, 0xC000_0000, "read")["data"] == 0x1234
