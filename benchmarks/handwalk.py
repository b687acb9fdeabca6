"""A plain, hand-written Python stage 2 walker: the yardstick for the compiled spec.

It implements the same rules as spec/05-stage2-translation.md with no
generality (fixed shifts, dict memory), the way one would write it for speed.
It returns (fault kind, level, PA) with kinds 0 none, 1 translation,
2 access flag, 3 permission, matching the spec's `Fault` enumeration.
"""

from __future__ import annotations


def walk(vtcr: int, vttbr: int, memory: dict[int, int], ipa: int, fetch: bool, write: bool):
    t0sz = (vtcr & 0xF) - 16 if vtcr & 0x8 else vtcr & 0xF
    sl0 = (vtcr >> 6) & 3
    inputsize = 32 - t0sz
    if sl0 == 0:
        start = 2
        if t0sz < -2:
            return 1, 1, 0
    elif sl0 == 1:
        start = 1
        if t0sz > 1:
            return 1, 1, 0
    else:
        return 1, 1, 0
    if ipa >> inputsize:
        return 1, 1, 0
    shift = 39 - 9 * start
    low = inputsize - shift + 3
    table = ((vttbr & 0xFF_FFFF_FFFF) >> low) << low
    level = start
    while True:
        shift = 39 - 9 * level
        index = (ipa >> shift) & (0x1FFF if level == start else 0x1FF)
        desc = memory.get((table | (index << 3)) >> 3, 0)
        if not desc & 1 or (level == 3 and not desc & 2):
            return 1, level, 0
        if level < 3 and desc & 2:
            table = desc & 0xFF_FFFF_F000
            level += 1
            continue
        break
    pa = (desc & 0xFF_FFFF_FFFF & ~((1 << shift) - 1)) | (ipa & ((1 << shift) - 1))
    if not desc & 0x400:
        return 2, level, pa
    hap = (desc >> 6) & 3
    if fetch:
        allowed = hap & 1 and not desc >> 54 & 1
    elif write:
        allowed = hap & 2
    else:
        allowed = hap & 1
    return (0, 0, pa) if allowed else (3, level, pa)
