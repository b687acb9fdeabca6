"""A plain, hand-written Python stage 2 walker: the yardstick for the compiled spec.

It implements the same rules as spec/05-stage2-translation.md with no
generality (fixed shifts, dict memory), the way one would write it for speed.
It returns (fault kind, level, PA, memory attributes) with kinds 0 none,
1 translation, 2 access flag, 3 permission, as the spec's `Fault`
enumeration numbers them, and the attributes as the spec's
`MemoryAttributes` record (memtype, inner, outer, shareability).
"""

from __future__ import annotations

_CACHE = {1: 0b00, 2: 0b10, 3: 0b11}  # stage 2 cacheability -> Non-cacheable/WT/WB
_NO_ATTRS = (0, 0, 0, 0)


def _attributes(desc: int, unknown: int) -> tuple[int, int, int, int]:
    memattr = (desc >> 2) & 0xF
    if memattr >> 2 == 0:
        kind = {0: 2, 1: 1}.get(memattr & 3, 1 if unknown & 1 else 2)
        return kind, 0, 0, 0b10
    outer = _CACHE.get(memattr >> 2, unknown & 3)
    inner = _CACHE.get(memattr & 3, unknown & 3)
    return 0, inner, outer, (desc >> 8) & 3


def walk(vtcr: int, vttbr: int, memory: dict[int, int], ipa: int, fetch: bool, write: bool,
         unknown: int = 0):
    t0sz = (vtcr & 0xF) - 16 if vtcr & 0x8 else vtcr & 0xF
    sl0 = (vtcr >> 6) & 3
    inputsize = 32 - t0sz
    if sl0 == 0:
        start = 2
        if t0sz < -2:
            return 1, 1, 0, _NO_ATTRS
    elif sl0 == 1:
        start = 1
        if t0sz > 1:
            return 1, 1, 0, _NO_ATTRS
    else:
        return 1, 1, 0, _NO_ATTRS
    if ipa >> inputsize:
        return 1, 1, 0, _NO_ATTRS
    shift = 39 - 9 * start
    low = inputsize - shift + 3
    table = ((vttbr & 0xFF_FFFF_FFFF) >> low) << low
    level = start
    while True:
        shift = 39 - 9 * level
        index = (ipa >> shift) & (0x1FFF if level == start else 0x1FF)
        desc = memory.get((table | (index << 3)) >> 3, 0)
        if not desc & 1 or (level == 3 and not desc & 2):
            return 1, level, 0, _NO_ATTRS
        if level < 3 and desc & 2:
            table = desc & 0xFF_FFFF_F000
            level += 1
            continue
        break
    pa = (desc & 0xFF_FFFF_FFFF & ~((1 << shift) - 1)) | (ipa & ((1 << shift) - 1))
    attrs = _attributes(desc, unknown)
    if not desc & 0x400:
        return 2, level, pa, attrs
    hap = (desc >> 6) & 3
    if fetch:
        allowed = hap & 1 and not desc >> 54 & 1
    elif write:
        allowed = hap & 2
    else:
        allowed = hap & 1
    return (0, 0, pa, attrs) if allowed else (3, level, pa, attrs)
