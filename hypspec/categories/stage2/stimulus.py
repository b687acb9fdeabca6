"""Random stage 2 worlds: a VTCR, a VTTBR, table memory and one guest access.

The builder walks the way the hardware will: it picks the IPA first, then at
each level places, at the index that IPA selects, a descriptor of a chosen
kind (invalid, reserved, table, block, page), so that random worlds reach
every level and every fault instead of stopping at an empty first table. It
also scatters unrelated entries, so a walk that indexes wrongly reads
something other than zero.

The same builder serves the property tests (any layout, including
configurations the architecture calls UNPREDICTABLE) and the conformance
vectors (a `Layout` that keeps tables and data where the bare-metal harness
expects them, and only configurations whose outcome the architecture fixes).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

HVC_2 = 0xE1400072  # `hvc #2`: what a successful instruction fetch finds and executes
_LEVEL_SHIFT = {1: 30, 2: 21, 3: 12}


@dataclass(frozen=True)
class Layout:
    """Where a world may put its tables and the data its access touches."""

    table_base: int = 0x48000000
    table_size: int = 0x04000000
    data_base: int = 0x50000000
    data_size: int = 0x10000000
    ipa_bits: int = 40  # an IPA must be below 2**ipa_bits (32: a guest with its MMU off)
    # The start-level index (by start level) the harness keeps for itself.
    reserved_start_index: dict[int, int] = field(default_factory=dict)
    architectural_only: bool = False  # no UNPREDICTABLE configurations
    ops: tuple[str, ...] = ("read", "write", "fetch")


ANYWHERE = Layout()


@dataclass
class World:
    vtcr: int
    vttbr: int
    memory: dict[int, int]  # 8-aligned PA -> 64-bit word
    access: str  # "read", "write" or "fetch"
    ipa: int
    size: int
    signed: bool
    rt: int
    value: int


def _vtcr(rng: random.Random, layout: Layout) -> tuple[int, int, int]:
    """(VTCR, start level, T0SZ); mostly valid, sometimes reserved or inconsistent."""
    if not layout.architectural_only and rng.random() < 0.08:
        t0sz = rng.randint(-8, 7)
        sl0 = rng.randint(0, 3)
    else:
        start = rng.choice([1, 2])
        low, high = (-8, 1) if start == 1 else (-2, 7)
        high = min(high, 32 - 25)
        # A guest with its MMU off has a 32-bit IPA; bigger sizes still work,
        # but smaller ones must still cover the harness's stub slot.
        low = max(low, 32 - layout.ipa_bits) if layout.ipa_bits < 40 and start == 1 else low
        t0sz = rng.randint(low, high)
        sl0 = 2 - start
    sign = (t0sz >> 3) & 1 if layout.architectural_only else rng.choice([(t0sz >> 3) & 1, 0, 1])
    vtcr = 0x80000000 | (t0sz & 0xF) | (sign << 4) | (sl0 << 6) | (rng.getrandbits(6) << 8)
    start_level = 2 - (sl0 & 1)
    return vtcr, start_level, t0sz


def _start_index_bits(start: int, t0sz: int) -> int:
    return (32 - t0sz) - _LEVEL_SHIFT[start]


def _descriptor_kind(rng: random.Random, level: int, layout: Layout) -> str:
    kinds = ["invalid", "table", "block"] if level < 3 else ["invalid", "page", "page", "reserved"]
    weights = [1, 4, 3] if level < 3 else [1, 3, 3, 1]
    return rng.choices(kinds, weights)[0]


def _leaf_bits(rng: random.Random, access: str) -> int:
    """Attribute bits of a block or page: mostly permissive, sometimes not."""
    af = 0 if rng.random() < 0.15 else 1
    hap = rng.choice([3, 3, 3, 1, 2, 0])
    xn = 1 if rng.random() < (0.2 if access == "fetch" else 0.1) else 0
    memattr = rng.choice([0xF, 0xF, 0x5, 0xA, 0x0, 0x1, rng.getrandbits(4)])
    sh = rng.choice([0, 2, 3])
    return (memattr << 2) | (hap << 6) | (sh << 8) | (af << 10) | (xn << 54)


class _TableSpace:
    """Hands out non-overlapping, suitably aligned table addresses in the table region."""

    def __init__(self, layout: Layout, rng: random.Random) -> None:
        self.layout = layout
        self.rng = rng
        self.used: list[tuple[int, int]] = []

    def take(self, size: int) -> int:
        for _ in range(1000):
            slots = self.layout.table_size // size
            base = self.layout.table_base + self.rng.randrange(slots) * size
            if all(base + size <= lo or hi <= base for lo, hi in self.used):
                self.used.append((base, base + size))
                return base
        raise RuntimeError("table region exhausted")


def random_world(rng: random.Random, layout: Layout = ANYWHERE) -> World:
    vtcr, start, t0sz = _vtcr(rng, layout)
    access = rng.choice(layout.ops)
    inputsize = 32 - t0sz
    valid = (vtcr >> 6) & 3 in (0, 1) and (t0sz >= -2 if (vtcr >> 6) & 3 == 0 else t0sz <= 1)
    if layout.architectural_only and not valid:
        raise AssertionError("architectural worlds are valid by construction")
    size, signed = (4, False) if access == "fetch" else (rng.choice([1, 2, 4]), False)
    if access == "read" and size < 4:
        signed = rng.random() < 0.5
    memory: dict[int, int] = {}
    tables = _TableSpace(layout, rng)
    index_bits = max(_start_index_bits(start, t0sz), 1) if valid else 9
    start_table_size = max(8 << index_bits, 4096) if valid else 4096
    start_table = tables.take(start_table_size)
    junk = 0 if layout.architectural_only else rng.choice([0, 0, 0, rng.getrandbits(12) & ~7])
    vttbr = start_table | junk | (rng.getrandbits(8) << 48)

    ipa_limit = min(inputsize if valid else 40, layout.ipa_bits)
    ipa = rng.getrandbits(ipa_limit)
    if not layout.architectural_only and rng.random() < 0.07:
        ipa = rng.getrandbits(min(40, layout.ipa_bits))  # may fall outside the input range
    ipa = _avoid_reserved(ipa, start, layout, rng, ipa_limit)
    ipa &= ~(size - 1)

    table = start_table
    level = start
    while valid and level <= 3:
        shift = _LEVEL_SHIFT[level]
        width = index_bits if level == start else 9
        index = (ipa >> shift) & ((1 << width) - 1)
        address = table + 8 * index
        kind = _descriptor_kind(rng, level, layout)
        keep = {address}
        if level == start and start in layout.reserved_start_index:
            keep.add(table + 8 * layout.reserved_start_index[start])  # the harness's stub slot
        _scatter(rng, memory, table, 1 << width, keep)
        if kind == "invalid":
            memory[address] = rng.getrandbits(64) & ~1 if rng.random() < 0.5 else 0
            break
        if kind == "reserved":
            memory[address] = (rng.getrandbits(64) & ~3) | 1
            break
        if kind == "table":
            next_table = tables.take(4096)
            memory[address] = next_table | 3 | (rng.getrandbits(5) << 59 if rng.random() < 0.2 else 0)
            table, level = next_table, level + 1
            continue
        block = 1 << shift
        pa = _output_address(rng, layout, ipa)
        oa = pa & ~(block - 1) & ((1 << 40) - 1)
        memory[address] = oa | _leaf_bits(rng, access) | (1 if kind == "block" else 3)
        ipa = (ipa & ~(block - 1)) | (pa & (block - 1))
        _place_data(rng, memory, pa, access, size)
        break
    return World(vtcr, vttbr, memory, access, ipa, size, signed, rng.randrange(13),
                 rng.getrandbits(32))


def _avoid_reserved(ipa: int, start: int, layout: Layout, rng: random.Random, limit: int) -> int:
    reserved = layout.reserved_start_index.get(start)
    if reserved is None:
        return ipa
    shift = _LEVEL_SHIFT[start]
    while (ipa >> shift) == reserved:
        ipa = rng.getrandbits(limit)
    return ipa


def _output_address(rng: random.Random, layout: Layout, ipa: int) -> int:
    """A PA for the access: in the data region, or (outside conformance) anywhere."""
    if not layout.architectural_only and rng.random() < 0.3:
        pa = rng.getrandbits(40)
    else:
        pa = rng.randrange(layout.data_base, layout.data_base + layout.data_size)
    return (pa & ~7) | (ipa & 7)


def _place_data(rng: random.Random, memory: dict[int, int], pa: int, access: str, size: int) -> None:
    word = pa & ~7
    if access == "fetch":
        memory[word] = HVC_2 | (HVC_2 << 32)
    elif access == "read":
        memory[word] = rng.getrandbits(64)
    elif rng.random() < 0.5:
        memory[word] = rng.getrandbits(64)  # a store must keep the other bytes


def _scatter(rng: random.Random, memory: dict[int, int], table: int, entries: int,
             keep: set[int]) -> None:
    """A few unrelated entries in the same table, so a wrong index reads garbage."""
    for _ in range(rng.randrange(3)):
        address = table + 8 * rng.randrange(entries)
        if address not in keep:
            memory.setdefault(address, rng.getrandbits(64))
