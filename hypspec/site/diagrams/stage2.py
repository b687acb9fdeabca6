"""The stage 2 walk, found by running the spec: `AArch32.SecondStageTranslate()` (spec/05) is
called on IPA 0 over small chains of descriptors, one table per lookup, and what each descriptor
does is read off the result and the memory the walk read: which VTCR settings start at which
level, which encodings lead to another lookup, end the walk, or fault (and at what level), and
what the access flag and permission checks make of a leaf. A change to the walk changes the
picture."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hypspec.api import MEMORY, Spec
from hypspec.site.diagrams.dot import Digraph
from hypspec.site.diagrams.runs import pack

TRANSLATE = "AArch32.SecondStageTranslate"
DESCRIPTOR = "S2Descriptor"
READ, FETCH = "AccType_NORMAL", "AccType_IFETCH"
NO_FAULT = "Fault_None"
# One table per lookup: IPA 0 indexes entry 0 of each, so a chain's descriptors sit at these
# addresses; aligned beyond any start table's size (at most 2^16 bytes here)
TABLES = (0x0010_0000, 0x0020_0000, 0x0030_0000, 0x0040_0000)
T0SZ_RANGE = range(-8, 8)  # VTCR.T0SZ is a signed 4-bit field
SL0_VALUES = range(4)
# The descriptor encodings of the two low bits, named by their fields; each is given the access
# flag and full permissions, so that an encoding that ends the walk translates (its checks are
# drawn from the leaf)
LEAF_OK = {"AF": 1, "HAP": 0b11}
ENCODINGS = (("Valid 0", {"Valid": 0, "Type": 0}), ("Valid 1, Type 0", {"Valid": 1, "Type": 0}),
             ("Valid 1, Type 1", {"Valid": 1, "Type": 1}))
START = "VTCR"
TRANSLATED = "translated"


@dataclass(frozen=True)
class LeafCase:
    """The attributes a leaf is given, and the access made through it."""

    name: str
    fields: tuple[tuple[str, int], ...]
    acctype: str
    write: bool


LEAF_CASES = (
    LeafCase("AF 1, HAP '11', read", (("AF", 1), ("HAP", 0b11)), READ, False),
    LeafCase("AF 0, read", (("AF", 0), ("HAP", 0b11)), READ, False),
    LeafCase("AF 0, HAP '00', write", (("AF", 0), ("HAP", 0b00)), READ, True),
    LeafCase("HAP '01' (no write), write", (("AF", 1), ("HAP", 0b01)), READ, True),
    LeafCase("HAP '10' (no read), read", (("AF", 1), ("HAP", 0b10)), READ, False),
    LeafCase("XN 1, instruction fetch", (("AF", 1), ("HAP", 0b11), ("XN", 1)), FETCH, False),
)


@dataclass(frozen=True, order=True)
class Step:
    """One case and where it goes: from the VTCR, a lookup at a level or a leaf at a level, to a
    lookup, a leaf, a fault at a level, or a translated address."""

    source: str  # "VTCR", "lookup 1", "leaf 2"
    case: str  # what was tried: "SL0 '01', T0SZ -8 to 1", "Valid 1, Type 1", "AF 0, read"
    target: str  # "lookup 2", "leaf 3", "Translation fault, level 1", "translated"


def lookup(level: int) -> str:
    return f"lookup {level}"


def leaf(level: int) -> str:
    return f"leaf {level}"


def fault(statuscode: str, level: int) -> str:
    """A fault by its `Fault` member in words: `Fault_AccessFlag` is an "Access flag fault"."""
    words = re.sub(r"(?<=[a-z])([A-Z])", lambda m: " " + m.group(1).lower(),
                   statuscode.removeprefix("Fault_"))
    return f"{words} fault, level {level}"


@dataclass(frozen=True)
class Walk:
    steps: frozenset[Step]
    leaf_bits: dict[int, int]  # a leaf's level → how many low IPA bits it passes through


@dataclass(frozen=True)
class Config:
    sl0: int
    t0sz: int

    @property
    def vtcr(self) -> dict[str, int]:
        return {"T0SZ": self.t0sz & 0xF, "S": int(self.t0sz < 0), "SL0": self.sl0}


@dataclass(frozen=True)
class Run:
    reads: int  # descriptors the walk read
    statuscode: str
    level: int
    paddress: int


def derive(spec: Spec) -> Walk:
    steps: set[Step] = set()
    starts: dict[int, Config] = {}
    steps.update(_starts(spec, starts))
    leaves: dict[int, tuple[Config, tuple[int, ...], int]] = {}
    for level, config in starts.items():
        steps.update(_lookups(spec, config, level, leaves))
    leaf_bits: dict[int, int] = {}
    for level, (config, chain, bits) in leaves.items():
        steps.update(_leaf_cases(spec, config, chain, bits, level))
        leaf_bits[level] = _passed_bits(spec, config, chain, bits)
    return Walk(frozenset(steps), leaf_bits)


def _run(spec: Spec, config: Config, chain: tuple[int, ...], ipa: int = 0,
         acctype: str = READ, write: bool = False) -> Run:
    state = spec.state(VTCR=config.vtcr, VTTBR={"BADDR": TABLES[0]},
                       **{MEMORY: {TABLES[n]: desc for n, desc in enumerate(chain)}})
    effects = spec.trace(TRANSLATE, ipa, acctype, write, state=state)
    result = effects.result
    reads = sum(1 for name, _ in effects.entries_read if name == MEMORY)
    return Run(reads, result["fault"]["statuscode"], result["fault"]["level"], result["paddress"])


def _target(run: Run, chain_length: int) -> str:
    """Where a chain's last descriptor sent the walk. A walk that read past the chain read the
    empty table its last descriptor named (zero, an invalid descriptor), so the level its fault
    names is the level that lookup was made at."""
    if run.reads > chain_length:
        return lookup(run.level)
    return TRANSLATED if run.statuscode == NO_FAULT else fault(run.statuscode, run.level)


def _starts(spec: Spec, starts: dict[int, Config]) -> Iterator[Step]:
    """Every SL0 with every T0SZ, with an invalid descriptor in the first table: which lookup
    comes first, or which fault comes before any lookup. Fills `starts` with one setting that
    starts at each level; then an IPA too large for the setting that allows the smallest."""
    reached: dict[tuple[int, str], list[int]] = {}
    for sl0 in SL0_VALUES:
        for t0sz in T0SZ_RANGE:
            config = Config(sl0, t0sz)
            target = _target(_run(spec, config, (0,)), 0)
            reached.setdefault((sl0, target), []).append(t0sz)
            if target.startswith("lookup "):
                starts.setdefault(int(target.removeprefix("lookup ")), config)
    for (sl0, target), t0szs in sorted(reached.items()):
        yield Step(START, f"SL0 '{sl0:02b}', T0SZ {_ranges(t0szs)}", target)
    if starts:
        small = max((c for c in starts.values()), key=lambda c: c.t0sz)
        # the IPA has 32 - T0SZ bits (VTCR's description): one bit more than that
        run = _run(spec, small, (0,), ipa=1 << (32 - small.t0sz))
        yield Step(START, f"IPA of more than 32 - T0SZ bits (T0SZ {small.t0sz})", _target(run, 0))


def _ranges(values: list[int]) -> str:
    """Consecutive integers as ranges, highest first as VTCR's description lists T0SZ."""
    spans: list[list[int]] = []
    for value in sorted(values, reverse=True):
        if spans and spans[-1][-1] == value + 1:
            spans[-1].append(value)
        else:
            spans.append([value])
    return ", ".join(f"{s[0]}" if len(s) == 1 else f"{s[0]} to {s[-1]}" for s in spans)


def _descriptor(spec: Spec, fields: dict[str, int], next_table: int) -> int:
    return pack(spec, DESCRIPTOR, {**fields, "NextTable": next_table >> 12})


def _lookups(spec: Spec, config: Config, start: int,
             leaves: dict[int, tuple[Config, tuple[int, ...], int]]) -> Iterator[Step]:
    """Each encoding at each lookup the walk makes from `start`, following the encodings that
    lead on. A descriptor points at the next table, so that one that leads on leads there."""
    frontier: list[tuple[tuple[int, ...], int]] = [((), start)]
    seen: set[int] = set()
    while frontier:
        chain, level = frontier.pop()
        if level in seen or len(chain) >= len(TABLES) - 1:
            continue
        seen.add(level)
        for name, fields in ENCODINGS:
            desc = _descriptor(spec, {**LEAF_OK, **fields}, TABLES[len(chain) + 1])
            target = _target(_run(spec, config, (*chain, desc)), len(chain) + 1)
            if target == TRANSLATED:  # a leaf: what it does is drawn from the leaf
                target = leaf(level)
                leaves.setdefault(level, (config, chain, desc))
            elif target.startswith("lookup "):
                frontier.append(((*chain, desc), int(target.removeprefix("lookup "))))
            yield Step(lookup(level), name, target)


def _leaf_cases(spec: Spec, config: Config, chain: tuple[int, ...], desc: int,
                level: int) -> Iterable[Step]:
    """The leaf found at `level`, given each case's access flag, permissions and access; its
    other bits as the walk found it."""
    for case in LEAF_CASES:
        leaf_desc = pack(spec, DESCRIPTOR, dict(case.fields), onto=desc)
        run = _run(spec, config, (*chain, leaf_desc), acctype=case.acctype, write=case.write)
        yield Step(leaf(level), case.name, _target(run, len(chain) + 1))


def _passed_bits(spec: Spec, config: Config, chain: tuple[int, ...], desc: int) -> int:
    """How many low bits of the address the leaf leaves to the IPA: with every output address
    bit of the descriptor set and IPA 0, the zero bits at the bottom of the address."""
    ones = pack(spec, DESCRIPTOR, {"NextTable": -1, **LEAF_OK}, onto=desc)
    address = _run(spec, config, (*chain, ones)).paddress
    return (address & -address).bit_length() - 1 if address else 0


def _size(bits: int) -> str:
    for unit, shift in (("GB", 30), ("MB", 20), ("KB", 10)):
        if bits >= shift:
            return f"{1 << (bits - shift)} {unit}"
    return f"{1 << bits} bytes"


def _named(step: Step, walk: Walk) -> str:
    """An encoding with the architecture's name for what it did: a table leads to another lookup;
    a leaf is a block where that level also has tables, else a page; one that faults is invalid
    (Valid 0) or a reserved encoding."""
    if not step.source.startswith("lookup "):
        return step.case
    if step.target.startswith("lookup "):
        name = "table"
    elif step.target.startswith("leaf "):
        onward = any(s.source == step.source and s.target.startswith("lookup ") for s in walk.steps)
        name = "block" if onward else "page"
    else:
        name = "invalid" if step.case.startswith("Valid 0") else "reserved"
    return f"{step.case}: {name}"


def picture(walk: Walk) -> Digraph:
    """Top to bottom: the VTCR, each lookup with what each encoding does, each leaf with what each
    check does; faults are ellipses, each at the level it names."""
    graph = Digraph(direction="TB")
    graph.node(START, "VTCR.SL0, VTCR.T0SZ\nand the IPA", shape="box")
    graph.node(TRANSLATED, "Translated:\nPA and attributes", shape="ellipse")
    levels = sorted({int(s.target.rsplit(" ", 1)[1]) for s in walk.steps if s.target != TRANSLATED})
    for level in levels:
        graph.node(lookup(level), f"Level {level} lookup:\nread one descriptor")
        if level in walk.leaf_bits:
            graph.node(leaf(level), f"Level {level} leaf:\nmaps {_size(walk.leaf_bits[level])}")
    for step in sorted(walk.steps):
        for node in (step.source, step.target):
            if node not in graph.nodes:
                graph.node(node, node.replace(", level", "\nlevel"), shape="ellipse")
        graph.add_label(step.source, step.target, _named(step, walk))
    return graph
