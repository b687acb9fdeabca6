"""Synthetic Stage-2 harness cases, for exercising the harness without the spec.

The cases are random but realistic: a three-level walk (level-1 table, level-2 blocks and a
level-3 table) with mixed permissions, access flags and execute-never, and reads, writes and
fetches of every size that hit, miss or fault.  Nothing is checked here; correctness is the job of
``tests/conformance``.
"""

from __future__ import annotations

import random

from hypspec.categories.stage2.case import Stage2Case
from hypspec.conformance.layout import DATA_BASE, TABLE_BASE

_VTCR_L1_32BIT = 0x8000_0040  # T0SZ = 0 (32-bit IPA), SL0 = 0b01: start at level 1
_NORMAL_WB = 0b1111 << 2
_AF = 1 << 10
_XN = 1 << 54
_HVC_2 = 0xE140_0072  # hvc #2


def _attrs(rng: random.Random) -> int:
    s2ap = rng.choice((0b11, 0b11, 0b01, 0b10, 0b00)) << 6
    af = _AF if rng.random() < 0.9 else 0
    xn = _XN if rng.random() < 0.2 else 0
    return _NORMAL_WB | s2ap | af | xn


def synthetic_case(rng: random.Random, index: int) -> Stage2Case:
    """One random case: level-1 table at TABLE_BASE, IPA 2 GiB.. goes through levels 2 and 3."""
    l2 = TABLE_BASE + 0x1000
    l3 = TABLE_BASE + 0x2000
    memory = {
        TABLE_BASE + 8 * 2: l2 | 0b11,  # IPA [2 GiB, 3 GiB): level-2 table
        l2 + 8 * 0: (DATA_BASE + 0x0000_0000) | _attrs(rng) | 0b01,  # 2 MiB block
        l2 + 8 * 1: (DATA_BASE + 0x0020_0000) | _attrs(rng) | 0b01,
        l2 + 8 * 2: l3 | 0b11,  # IPA 0x80400000: level-3 table
        l3 + 8 * 0: (DATA_BASE + 0x0040_0000) | _attrs(rng) | 0b11,  # 4 KiB pages
        l3 + 8 * 1: (DATA_BASE + 0x0040_1000) | _attrs(rng) | 0b11,
    }
    region = rng.choice((0x8000_0000, 0x8020_0000, 0x8040_0000, 0x8040_1000, 0x8060_0000))
    access = rng.choice(("read", "read", "write", "fetch"))
    size = 4 if access == "fetch" else rng.choice((1, 2, 4))
    offset = rng.randrange(0, 0x1000, 8)
    ipa = region + offset + (rng.randrange(0, 8, size) if access != "fetch" else 0)
    pa_word = DATA_BASE + (region - 0x8000_0000) + offset
    memory[pa_word] = _HVC_2 if access == "fetch" else rng.getrandbits(64)
    return Stage2Case(
        id=f"synthetic-{index}",
        vtcr=_VTCR_L1_32BIT,
        vttbr=TABLE_BASE,
        memory=memory,
        access=access,
        ipa=ipa,
        size=size,
        signed=access == "read" and size < 4 and rng.random() < 0.5,
        rt=rng.randrange(13),
        value=rng.getrandbits(8 * size) if access == "write" else 0,
    )


def synthetic_cases(count: int, seed: int = 0) -> list[Stage2Case]:
    rng = random.Random(seed)
    return [synthetic_case(rng, index) for index in range(count)]
