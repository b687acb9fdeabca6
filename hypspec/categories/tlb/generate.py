"""The `tlb` vector category: what a guest access sees after Hyp mode changes its stage 2 tables,
with and without each TLB maintenance operation, under one VMID and across VMIDs.

A tlb vector is a script (:mod:`hypspec.categories.script.steps`) run on the script harness: Hyp-mode word
writes to the tables and data in RAM, Hyp-mode writes of VTTBR, HCR and the TLB maintenance
operations, the same operations from a guest in SVC mode, and guest loads and stores of IPAs
(the guest's own MMU is off). What the spec allows is not one run but a set: an entry may or
may not be in the TLB, and an access with an entry may use it or walk again
(spec/14-tlb.md). So a vector carries `outcomes`, every run the spec allows, each the values
of the reads in step order and, when a guest access takes a stage 2 abort (which ends the
vector on the harness), the step and the HSR; an implementation agrees when its run is one
of them.

The outcomes are computed from the spec, never written down (:class:`Explorer`). The runs are
explored as a set of states: before every step, for every state, the TLB may take an entry
for any page the vector's guest accesses (`AArch32.S2TLBFill()` with the registers and tables
of that moment), any number of times; a guest access (`Model.TLBGuestAccess()`) then splits a
state in two, by the UNKNOWN of `AArch32.S2TranslateCached()`: use the entry, or walk. States
that agree on the TLB, memory and the reads so far are one. Evictions need no move of their
own: an access may always walk, so a state with an entry allows every run the same state
without it does. A fill in the prelude would not matter either, since the prelude ends with
TLBIALLNSNH.

The memory map (in the regions of the harness's memory map that no harness keeps anything in,
:data:`hypspec.categories.script.steps.RAM_WINDOWS`): two sets of tables (*slots*), each a level 1 table
of four entries (VTCR.T0SZ = 0, SL0 = 1: a 32-bit IPA space starting at level 1) whose entry 1
maps IPA 1GB-2GB to the same PAs (the harness's code, step records and results, which the
guest's interpreter uses) and whose entry 2 leads through a level 2 table to a level 3 table
mapping the four test pages at IPA 0x80000000; and eight data frames, each with its own marker
word, so that a read names the frame it reached.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import z3

from hypspec.api import Spec, State
from hypspec.categories.script.steps import (
    Outcome,
    Step,
    Stop,
    check_steps,
    fork_state,
    mmio_read,
    mmio_write,
    prelude_meta,
    steps_to_json,
    sysreg_members,
    sysreg_write,
)
from hypspec.categories.tlb.watched import (
    KEYS,
    WHOLE,
    Bases,
    MapValues,
    Read,
    ReadNode,
    WatchedMap,
    fork_watched,
)
from hypspec.concrete.runtime import Oracle
from hypspec.lang.types import Bits
from hypspec.output import MeterFactory, no_meter
from hypspec.symbolic.evaluator import to_z3
from hypspec.vectors.generated import PATHS_FOUND, VECTORS_MADE, Emitted, Generated, VectorSink
from hypspec.vectors.paths import Path, Rule, call_condition, excluding_rules, feasible_paths, trace_paths

CATEGORY = "tlb"

# ---- the memory map -----------------------------------------------------------------------------

TABLE_BASE = 0x4800_0000
DATA_BASE = 0x5000_0000
SLOTS = 2
SLOT_SIZE = 0x4000  # a slot's level 1, level 2 and level 3 tables, a page each
PAGES = 4  # test pages: IPA 0x80000000 + 4KB * p, level 3 entry p
FRAMES = 8  # data frames: PA DATA_BASE + 4KB * k, marker word at offset 0
IPA_BASE = 0x8000_0000
#: VTCR: RES1 bit 31, T0SZ 0, SL0 1 (start at level 1), walks Inner Shareable Write-Back.
VTCR_VALUE = 0x8000_3540
HCR_VM, HCR_FB = 1 << 0, 1 << 9
#: Stage 2 descriptor bits (ARM DDI 0406C.d §B3.6.2): MemAttr Normal Write-Back, S2AP, SH Inner
#: Shareable, AF; a block at level 1 or 2 (0b01), a table or a level 3 page (0b11).
_ATTRS = 0b1111 << 2 | 0b11 << 8 | 1 << 10
S2AP_RW, S2AP_RO = 0b11 << 6, 0b01 << 6
BLOCK, TABLE = 0b01, 0b11
HARNESS_BLOCK = 0x4000_0000 | _ATTRS | S2AP_RW | BLOCK  # level 1 entry 1: IPA 1GB-2GB, identity
#: The register the script harness's guest handlers load into and store from (h_mmio_r, h_mmio_w).
HANDLER_RT = 2
#: Modes as CPSR.M encodes them, for the steps' `el`.
MODE_BITS = {"hyp": 0b11010, "svc": 0b10011, "usr": 0b10000}
#: A written value no marker has.
WRITTEN = 0x5A5A_0000


def level1(slot: int) -> int:
    return TABLE_BASE + slot * SLOT_SIZE


def level2(slot: int) -> int:
    return level1(slot) + 0x1000


def level3(slot: int) -> int:
    return level1(slot) + 0x2000


def ipa(page: int) -> int:
    return IPA_BASE + page * 0x1000


def frame(k: int) -> int:
    return DATA_BASE + k * 0x1000


def marker(k: int) -> int:
    return 0xDA7A_0A00 | k


def page_descriptor(k: int, writable: bool = True) -> int:
    return frame(k) | _ATTRS | (S2AP_RW if writable else S2AP_RO) | TABLE


def vttbr(vmid: int, slot: int) -> int:
    return vmid << 48 | level1(slot)


def first_frame(slot: int, page: int) -> int:
    """The frame the prelude maps ``page`` of ``slot`` to."""
    return page + PAGES * slot


# ---- steps --------------------------------------------------------------------------------------


def _descriptor(address: int, value: int) -> list[Step]:
    """Both words of a descriptor, from Hyp mode."""
    return [mmio_write(address, value & 0xFFFF_FFFF), mmio_write(address + 4, value >> 32)]


def remap(slot: int, page: int, k: int, writable: bool = True) -> Step:
    """Level 3 entry ``page`` of ``slot`` now maps frame ``k`` (its high word stays zero)."""
    return mmio_write(level3(slot) + 8 * page, page_descriptor(k, writable))


def unmap(slot: int, page: int) -> Step:
    return mmio_write(level3(slot) + 8 * page, 0)


def unmap_level2(slot: int) -> Step:
    """The level 2 entry that leads to every test page of ``slot`` made invalid."""
    return mmio_write(level2(slot), 0)


def guest_read(page: int, el: str = "svc") -> Step:
    return mmio_read(ipa(page), el)


def guest_write(page: int, el: str = "svc") -> Step:
    return mmio_write(ipa(page), WRITTEN | page, el)


def set_vttbr(vmid: int, slot: int) -> Step:
    return sysreg_write("VTTBR", vttbr(vmid, slot))


def set_hcr(value: int) -> Step:
    return sysreg_write("HCR", value)


def maintenance(op: str, el: str, page: int = 0) -> Step:
    """A TLB maintenance operation from ``el``; one by address names ``page`` (ASID 0)."""
    return sysreg_write(op, ipa(page) if "MVA" in op else 0, el)


def prelude() -> list[Step]:
    """The steps before every vector: each slot's tables, with page p mapped to frame
    p + 4 * slot; the markers; VTCR; VTTBR (VMID 1, slot 0); HCR.VM; and last TLBIALLNSNH, which
    leaves no entry of an earlier vector (or of the prelude) in the TLB."""
    steps: list[Step] = []
    for slot in range(SLOTS):
        entries = [0, HARNESS_BLOCK, level2(slot) | TABLE, 0]
        for index, value in enumerate(entries):
            steps += _descriptor(level1(slot) + 8 * index, value)
        steps += _descriptor(level2(slot), level3(slot) | TABLE)
        for page in range(PAGES):
            steps += _descriptor(level3(slot) + 8 * page, page_descriptor(first_frame(slot, page)))
    steps += [mmio_write(frame(k), marker(k)) for k in range(FRAMES)]
    steps += [sysreg_write("VTCR", VTCR_VALUE), set_vttbr(1, 0), set_hcr(HCR_VM)]
    steps.append(maintenance("TLBIALLNSNH", "hyp"))
    return steps


#: The maintenance operations each mode may issue (HCR.TTLB clear; the Hyp-only forms from Hyp).
HYP_OPS = ("TLBIALL", "TLBIALLIS", "ITLBIALL", "DTLBIALL", "TLBIMVA", "TLBIASID", "TLBIALLNSNH",
           "TLBIALLNSNHIS", "TLBIALLH", "TLBIALLHIS", "TLBIMVAH", "TLBIMVAHIS")
GUEST_OPS = ("TLBIALL", "TLBIALLIS", "ITLBIALL", "DTLBIALL", "TLBIMVA", "TLBIMVAIS", "TLBIASID",
             "TLBIASIDIS", "TLBIMVAA", "TLBIMVAAIS")
OPS = {"hyp": HYP_OPS, "svc": GUEST_OPS}


# ---- the spec oracle: every run the spec allows -------------------------------------------------

#: The maps the runs of a vector differ in, kept apart from the rest of a state (its *base*): the
#: TLB, which fills change, and memory, which the table changes and guest writes change.
MAPS = ("TLB_S2", "PhysMem")
TLB, MEMORY = 0, 1
#: A run being explored: the ids of its base, its TLB and its memory, and the values its reads
#: returned.
_Run = tuple[int, int, int, tuple[int, ...]]
#: One operation on a state: ("fill", address, None), ("step", step, None) for a step that is not
#: a guest access, ("access", step, hit) for a guest access that uses the entry (1) or walks (0).
_Op = tuple[str, Any, int | None]
#: What an operation did: the ids of the base, TLB and memory after it (None when it stopped the
#: run), the value it read, the HSR and its defined bits when it stopped, and the paths it took.
_Done = tuple[int | None, int | None, int | None, int | None, tuple[int, int] | None, frozenset[Path]]
#: What an operation did, for any maps that hold what it read: the base after it (None: it
#: stopped the run), the entries it wrote in each map, the value it read, the stop and the paths.
_Effect = tuple[int | None, tuple[tuple[tuple[int, Any], ...], ...], int | None, tuple[int, int] | None,
                frozenset[Path]]
#: A step from a list of runs: the runs after it, the runs it stopped (reads, HSR, mask), the paths.
_Advanced = tuple[list[_Run], tuple[tuple[tuple[int, ...], int, int], ...], frozenset[Path]]
#: What an explorer remembers is bounded (checked between two vectors): past this many operations
#: on exact states (about 400 bytes each) it forgets those, and past this many bases, TLBs or
#: memories, everything. Forgetting costs time, never a different result.
MAX_DONE = 200_000
MAX_KEPT = 20_000


class _PinnedFill(Oracle):
    """The hit-or-walk choice pinned, every other UNKNOWN all zeros or all ones: two runs that
    differ only in the fill show which HSR bits an UNKNOWN decides."""

    def __init__(self, overrides: dict[str, int], fill: int) -> None:
        super().__init__(0, overrides=dict(overrides))
        self.fill = fill

    def value(self, loc: str, width: int) -> int:
        if loc in self.overrides:
            return self.overrides[loc] & ((1 << width) - 1)
        return self.fill & ((1 << width) - 1)


class Explorer:
    """Runs tlb steps on the spec (the traced build, so that every run also yields its paths)
    from the state after :func:`prelude`, and collects every outcome the spec allows.

    Every step is tried from every run, and every fill of every page, so the same operation
    meets the same state over and over, within a vector and across vectors. So what an
    operation did is remembered: for the exact state (base, TLB and memory), and, for the same
    base, under the entries of the TLB and of memory it read (a fill reads three descriptors,
    an access its TLB entry, descriptors and data word). The spec is deterministic given the
    state, so running it again would give the same state, values and paths; the runs are
    explored in the same order as by running every operation, which ``remember=False`` does
    (to check that remembering changes nothing)."""

    def __init__(self, spec: Spec, seed: int = 0, remember: bool = True) -> None:
        self.spec = spec
        build = spec.traced
        self.trace: list[tuple[Any, ...]] = build.module.__dict__["_T"]
        self.fill = build.function("AArch32.S2TLBFill")
        self.access = build.function("Model.TLBGuestAccess")
        self.sysreg_write = build.function("Model.SysRegWrite")
        self.mem_read = build.function("MemRead")
        self.mem_write = build.function("MemWrite")
        self.members = sysreg_members(spec)
        self.seed = seed
        self.remember = remember
        self.paths: set[Path] = set()
        self._known_paths: dict[Path, Path] = {}  # one object per path: its key is computed once
        self._forget()

    def _forget(self) -> None:
        """Drop what the explorer remembers (it only saves time; this bounds the memory)."""
        self._bases = Bases(MAPS)
        self._maps = (MapValues(), MapValues())
        self._done: dict[tuple[int, int, int, int], _Done] = {}
        self._trees: dict[tuple[int, int], ReadNode] = {}
        # what an operation that read no TLB entry did, by base, memory and operation (a fill):
        # the same for every TLB, so the runs of a vector, which differ in their TLBs, share it
        self._tlb_free: dict[tuple[int, int, int], _Effect] = {}
        self._advanced: dict[tuple[tuple[_Run, ...], int, tuple[int, ...]], _Advanced] = {}
        # operations by number: the keys above hash four small ints, not a step
        self._ops: list[_Op] = []
        self._op_ids: dict[_Op, int] = {}
        self._start_run: tuple[int, int, int] | None = None

    @cached_property
    def choice(self) -> str:
        """Where `AArch32.S2TranslateCached()` draws its UNKNOWN (hit or walk): the one location an
        access with a valid entry chooses."""
        state = self.spec.state(HCR=HCR_VM)
        state.TLB_S2[0] = 1 << 94
        self.spec.compiled.function("AArch32.S2TranslateCached")(state, 0, 0, False)
        (loc,) = state.oracle.chosen
        return loc

    @cached_property
    def start(self) -> State:
        state = self.spec.state(self.seed)
        for step in prelude():
            self._effect(state, step)
        if any(state.TLB_S2.values()):
            raise AssertionError("the prelude leaves an entry in the TLB")
        self._traced()  # the prelude's paths are not a vector's
        return state

    def _start(self) -> tuple[int, int, int]:
        if max(len(self._bases.states), *(len(maps.tables) for maps in self._maps)) > MAX_KEPT:
            self._forget()
        elif len(self._done) > MAX_DONE:
            self._done.clear()
            self._advanced.clear()
        if self._start_run is None:
            start = fork_state(self.start)
            tlb, memory = self._maps[TLB].add(start.TLB_S2), self._maps[MEMORY].add(start.PhysMem)
            self._start_run = (self._bases.add(start), tlb, memory)
        return self._start_run

    def _op(self, op: _Op) -> int:
        found = self._op_ids.get(op)
        if found is None:
            found = self._op_ids[op] = len(self._ops)
            self._ops.append(op)
        return found

    def outcomes(self, steps: Sequence[Step]) -> list[Outcome]:
        """Every run of ``steps`` (after the prelude) the spec allows, sorted."""
        runs: list[_Run] = [(*self._start(), ())]
        pages = sorted({step.address for step in steps if step.el != "hyp" and step.target == "mmio"})
        fills = [self._op(("fill", address, None)) for address in pages]
        found: set[Outcome] = set()
        taken: list[frozenset[Path]] = []
        for index, step in enumerate(steps):
            key = (tuple(runs), self._op(("step", step, None)), tuple(fills))
            advanced = self._advanced.get(key) if self.remember else None
            if advanced is None:
                advanced = self._advance(runs, step, fills)
                if self.remember:
                    self._advanced[key] = advanced
            runs, stopped, paths = advanced
            taken.append(paths)
            found.update(Outcome(reads, Stop(index, hsr, mask)) for reads, hsr, mask in stopped)
        found.update(Outcome(run[3]) for run in runs)
        self.paths.update(*taken)
        return sorted(found)

    def _advance(self, runs: Sequence[_Run], step: Step, fills: list[int]) -> _Advanced:
        """The runs after ``step`` from ``runs`` (each first closed under ``fills``), the runs it
        stopped (their reads, HSR and mask), and the paths the spec took. The same runs before
        the same step (with the same pages to fill) recur across vectors: remembered."""
        taken: set[frozenset[Path]] = set()
        filled = self._filled(list(runs), fills, taken)
        ops = [self._op(("step", step, None))]
        if step.el != "hyp" and step.target == "mmio":
            ops = [self._op(("access", step, 1)), self._op(("access", step, 0))]
        following: list[_Run] = []
        stopped: list[tuple[tuple[int, ...], int, int]] = []
        for base, tlb, memory, reads in filled:
            for op in ops:
                after, table, words, value, stop, paths = self._do(base, tlb, memory, op)
                taken.add(paths)
                if stop is not None:
                    stopped.append((reads, *stop))
                elif after is not None and table is not None and words is not None:
                    following.append((after, table, words, reads if value is None else (*reads, value)))
        return self._dedupe(following), tuple(stopped), frozenset().union(*taken)

    def _dedupe(self, runs: Iterable[_Run]) -> list[_Run]:
        """The first run of each non-zero TLB and memory entries and reads, in order."""
        tlbs, memories = self._maps[TLB].nonzero, self._maps[MEMORY].nonzero
        found: dict[tuple[int, int, tuple[int, ...]], _Run] = {}
        for run in runs:
            found.setdefault((tlbs[run[1]], memories[run[2]], run[3]), run)
        return list(found.values())

    def _traced(self) -> frozenset[Path]:
        """The paths of the calls since the last time (which empties the trace)."""
        known = self._known_paths
        return frozenset([known.setdefault(path, path) for path in trace_paths(self.trace)])

    def _filled(self, runs: list[_Run], fills: list[int], taken: set[frozenset[Path]]) -> list[_Run]:
        """``runs`` closed under ``fills`` (the operations that fill an entry for each page a guest
        accesses), any number of times (runs with the same non-zero entries and reads are one; the
        first found is kept)."""
        tlbs, memories = self._maps[TLB].nonzero, self._maps[MEMORY].nonzero
        seen = {(tlbs[run[1]], memories[run[2]], run[3]): run for run in runs}
        todo = list(runs)
        while todo:
            base, tlb, memory, reads = todo.pop()
            for fill in fills:
                after, table, words, _, _, paths = self._do(base, tlb, memory, fill)
                taken.add(paths)
                if after is None or table is None or words is None:
                    raise AssertionError("a fill stopped a run")
                key = (tlbs[table], memories[words], reads)
                if key not in seen:
                    seen[key] = todo_run = (after, table, words, reads)
                    todo.append(todo_run)
        return list(seen.values())

    def _do(self, base: int, tlb: int, memory: int, op: int) -> _Done:
        """What ``op`` does from the state of ``base``, ``tlb`` and ``memory``: remembered for that
        state, else for ``base`` under the entries the operation reads, else run on the spec."""
        if not self.remember:
            return self._applied(self._run(base, op, (tlb, memory)), tlb, memory)
        found = self._done.get((base, tlb, memory, op))
        if found is None:
            effect = self._tlb_free.get((base, memory, op))
            if effect is None:
                tables = (self._maps[TLB].tables[tlb], self._maps[MEMORY].tables[memory])
                effect = self._remembered(base, op, (tlb, memory), tables)
            if effect is None:
                effect = self._run(base, op, (tlb, memory))
            found = self._done[base, tlb, memory, op] = self._applied(effect, tlb, memory)
        return found

    def _applied(self, effect: _Effect, tlb: int, memory: int) -> _Done:
        """``effect`` on the state of ``tlb`` and ``memory``: the ids of the maps with its writes."""
        after, writes, value, stop, paths = effect
        if after is None:
            return None, None, None, value, stop, paths
        table = self._maps[TLB].updated(tlb, writes[TLB])
        return after, table, self._maps[MEMORY].updated(memory, writes[MEMORY]), value, stop, paths

    def _remembered(self, base: int, op: int, idents: tuple[int, int],
                    tables: tuple[dict[Any, Any], dict[Any, Any]]) -> _Effect | None:
        """What ``op`` did from ``base`` with maps that hold what it read, if it ran so before
        (remembered for every TLB when it read none)."""
        node = self._trees.get((base, op))
        tlb_free = True
        while node is not None:
            read = node.read
            if read is None:
                if tlb_free and node.effect is not None:
                    self._tlb_free[base, idents[MEMORY], op] = node.effect
                return node.effect
            index, key, default = read
            tlb_free = tlb_free and index != TLB
            if key is WHOLE:
                value: Any = idents[index]
            elif key is KEYS:
                value = self._maps[index].keys[idents[index]]
            else:
                value = tables[index].get(key, default)
            node = node.branches.get(value)
        return None

    def _run(self, base: int, op: int, idents: tuple[int, int]) -> _Effect:
        """``op`` run on the spec, on a copy of the state, its reads of the maps watched; what it
        did, remembered under those reads."""
        before = self._bases.states[base]
        state = fork_state(before)
        log: list[Read] = []
        watched = [WatchedMap(maps.tables[ident], index, ident, maps.keys[ident], log)
                   for index, (maps, ident) in enumerate(zip(self._maps, idents, strict=True))]
        for name, table in zip(MAPS, watched, strict=True):
            setattr(state, name, table)
        kind, what, hit = self._ops[op]
        value: int | None = None
        stop: tuple[int, int] | None = None
        if kind == "fill":
            self.fill(state, what)
        elif kind == "step":
            value = self._effect(state, what)
        else:
            state.oracle.overrides[self.choice] = hit  # type: ignore[assignment]
            value, stop = self._guest_access(state, what)
        if any(getattr(state, name) is not table for name, table in zip(MAPS, watched, strict=True)):
            raise AssertionError(f"{self._ops[op]} replaced a map instead of writing its entries")
        reads = list(log)  # a copy made below must not count
        tlb_free = all(index != TLB for index, *_ in reads)
        paths = self._traced()
        effect: _Effect
        if stop is not None:
            effect = None, (), value, stop, paths
        else:
            writes = tuple(table.writes() for table in watched)
            effect = self._bases.after(base, state), writes, value, None, paths
        if not self.remember:
            return effect
        self._remember(base, op, reads, effect)
        if tlb_free:
            self._tlb_free[base, idents[MEMORY], op] = effect
        return effect

    def _remember(self, base: int, op: int, reads: list[Read], effect: _Effect) -> None:
        """Keep ``effect`` in the tree of ``base`` and ``op`` under ``reads``. From the same base the
        same values read lead to the same next read and, at the end, to the same effect; a tree
        that does not fit means the operation depends on something it does not read through a
        watched map, and remembering it would be wrong."""
        node = self._trees.setdefault((base, op), ReadNode())
        for index, key, default, value in reads:
            if node.effect is not None or node.read not in (None, (index, key, default)):
                raise AssertionError(f"the spec read differently from the same state: {self._ops[op]}")
            node.read = (index, key, default)
            node = node.branches.setdefault(value, ReadNode())
        if node.read is not None:
            raise AssertionError(f"the spec read differently from the same state: {self._ops[op]}")
        node.effect = effect

    def _set_mode(self, state: State, el: str) -> None:
        state.CPSR = (state.CPSR & ~0x1F) | MODE_BITS[el]

    def _effect(self, state: State, step: Step) -> int | None:
        """A step that is not a guest access: a Hyp-mode word access by PA, or a system register
        write from the step's mode."""
        self._set_mode(state, step.el)
        if step.target == "sysreg":
            if step.op != "write":
                raise ValueError(f"a tlb vector reads no system register ({step.sysreg})")
            member, _ = self.members[step.sysreg]
            self.sysreg_write(state, member, step.value, 0)
            return None
        if step.op == "read":
            return int(self.mem_read(state, step.address, 4))
        self.mem_write(state, step.address, 4, step.value)
        return None

    def _guest_access(self, state: State, step: Step) -> tuple[int | None, tuple[int, int] | None]:
        """The value a guest access reads (None for a write), or the HSR of the abort it takes
        and the bits of it the spec defines."""
        self._set_mode(state, step.el)
        write = step.op == "write"
        pinned = dict(state.oracle.overrides)
        outcome = self.access(state, step.address, write, HANDLER_RT, step.value)
        if outcome[0][0][0] == 0:  # no fault
            return (None if write else int(outcome[1])), None
        low, high = (self._abort_hsr(state, step, pinned, fill) for fill in (0, -1))
        return None, (state.HSR, ~(low ^ high) & 0xFFFF_FFFF)

    def _abort_hsr(self, state: State, step: Step, pinned: dict[str, int], fill: int) -> int:
        """The HSR the same access reports with every other UNKNOWN ``fill`` (its state before the
        access is not kept: the TLB and memory are what the access itself left alone)."""
        fork = fork_watched(state, MAPS)
        fork.oracle = _PinnedFill(pinned, fill)
        self.access(fork, step.address, step.op == "write", HANDLER_RT, step.value)
        return int(fork.HSR)


# ---- the scenarios ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    flags: tuple[str, ...]
    description: str


def _op_flag(op: str, el: str) -> str:
    return f"MAINTENANCE_{op}_{el.upper()}"


def _stale_base() -> list[Step]:
    """A read that may fill an entry for page 0, then its level 3 entry changed to frame 6."""
    return [guest_read(0), remap(0, 0, 6)]


def _change_scenarios() -> list[Scenario]:
    made = [Scenario("remap-none", (*_stale_base(), guest_read(0)), ("NO_MAINTENANCE",),
                     "page 0 remapped with no maintenance: the old frame or the new")]
    for el, ops in OPS.items():
        for op in ops:
            steps = (*_stale_base(), maintenance(op, el), guest_read(0))
            made.append(Scenario(f"remap-{op.lower()}-{el}", steps, (_op_flag(op, el),),
                                 f"page 0 remapped, then {op} from {el}"))
    for op in ("TLBIALL", "ITLBIALL", "DTLBIALL", "TLBIMVA"):
        steps = (guest_read(0), set_hcr(HCR_VM | HCR_FB), remap(0, 0, 6), maintenance(op, "svc"),
                 guest_read(0))
        made.append(Scenario(f"remap-{op.lower()}-svc-fb", steps, (_op_flag(op, "svc"), "HCR_FB_1"),
                             f"page 0 remapped, then {op} from svc with HCR.FB set"))
    for op in ("", "TLBIALL"):
        tail = (maintenance(op, "hyp"),) if op else ()
        name = op.lower() or "none"
        made.append(Scenario(f"unmap-{name}", (guest_read(0), unmap(0, 0), *tail, guest_read(0)),
                             (_op_flag(op, "hyp") if op else "NO_MAINTENANCE", "UNMAP"),
                             f"page 0 unmapped, then {op or 'no maintenance'}"))
        made.append(Scenario(f"readonly-{name}", (guest_read(0), remap(0, 0, 0, writable=False), *tail,
                                                 guest_write(0), mmio_read(frame(0))),
                             (_op_flag(op, "hyp") if op else "NO_MAINTENANCE", "READ_ONLY"),
                             f"page 0 made read-only, then {op or 'no maintenance'}, then a guest write"))
    made.append(Scenario("unmap-level2-none", (guest_read(0), unmap_level2(0), guest_read(0)),
                         ("NO_MAINTENANCE", "UNMAP"), "the level 2 entry above page 0 made invalid"))
    made.append(Scenario("hcr-vm-toggle", (guest_read(0), set_hcr(0), remap(0, 0, 6), set_hcr(HCR_VM),
                                          guest_read(0)), ("NO_MAINTENANCE", "HCR_VM_TOGGLED"),
                         "stage 2 off and on around the change, with no maintenance"))
    refill = (*_stale_base(), maintenance("TLBIALL", "hyp"), guest_read(0), remap(0, 0, 7), guest_read(0))
    made.append(Scenario("refill-after-tlbiall", refill, ("NO_MAINTENANCE",),
                         "an invalidated entry never comes back: after a second change, frame 6 or 7"))
    return made


def _vmid_scenarios() -> list[Scenario]:
    made = []
    for el, op in (("hyp", "TLBIALL"), ("hyp", "TLBIALLIS"), ("hyp", "TLBIALLNSNH"), ("hyp", "TLBIALLNSNHIS"),
                   ("svc", "TLBIALL"), ("svc", "TLBIALLIS")):
        steps = (*_stale_base(), set_vttbr(2, 1), maintenance(op, el), set_vttbr(1, 0), guest_read(0))
        made.append(Scenario(f"other-vmid-{op.lower()}-{el}", steps, (_op_flag(op, el), "OTHER_VMID"),
                             f"page 0 of VMID 1 remapped, then {op} from {el} under VMID 2"))
    made.append(Scenario("isolation", (guest_read(0), set_vttbr(2, 1), guest_read(0), set_vttbr(1, 0),
                                       guest_read(0)), ("VMID_SWITCH",),
                         "VMID 2's tables map page 0 elsewhere: VMID 1's entry never answers it"))
    shared = (guest_read(0), remap(0, 0, 6), set_vttbr(2, 0), guest_read(0), set_vttbr(1, 0), guest_read(0))
    made.append(Scenario("isolation-shared-tables", shared,
                         ("VMID_SWITCH", "NO_MAINTENANCE"),
                         "VMID 1's stale entry is not VMID 2's, though both use the same tables"))
    for op in ("", "TLBIALL"):
        tail = (maintenance(op, "hyp"),) if op else ()
        made.append(Scenario(f"same-vmid-new-tables-{op.lower() or 'none'}",
                             (guest_read(0), set_vttbr(1, 1), *tail, guest_read(0)),
                             ("SAME_VMID_NEW_TABLES", _op_flag(op, "hyp") if op else "NO_MAINTENANCE"),
                             "VTTBR.BADDR changed under the same VMID"))
    return made


def scenarios() -> list[Scenario]:
    """The catalogue: every maintenance operation after a change, from each mode, and the VMID
    cases."""
    return _change_scenarios() + _vmid_scenarios()


# ---- random vectors -----------------------------------------------------------------------------


def random_steps(rng: random.Random) -> list[Step]:
    """Three to seven random operations, then a guest read: table changes, VTTBR and HCR writes,
    maintenance from either mode, guest reads and writes."""
    steps: list[Step] = []
    for _ in range(rng.randint(3, 7)):
        kind = rng.choice(("read", "read", "write", "remap", "remap", "unmap", "vttbr", "op", "op", "hcr"))
        page, slot = rng.randrange(PAGES), rng.randrange(SLOTS)
        if kind == "read":
            steps.append(guest_read(page))
        elif kind == "write":
            steps.append(guest_write(page))
        elif kind == "remap":
            steps.append(remap(slot, page, rng.randrange(FRAMES), writable=rng.random() < 0.8))
        elif kind == "unmap":
            steps.append(unmap(slot, page))
        elif kind == "vttbr":
            steps.append(set_vttbr(rng.randint(1, 3), slot))
        elif kind == "hcr":
            steps.append(set_hcr(HCR_VM | (HCR_FB if rng.random() < 0.5 else 0)))
        else:
            el = rng.choice(("hyp", "svc"))
            steps.append(maintenance(rng.choice(OPS[el]), el, page))
    steps.append(guest_read(rng.randrange(PAGES)))
    return steps


def random_flags(steps: Sequence[Step]) -> list[str]:
    ops = {_op_flag(s.sysreg, s.el) for s in steps if s.sysreg.startswith(("TLBI", "ITLBI", "DTLBI"))}
    return sorted(ops) or ["NO_MAINTENANCE"]


# ---- coverage -----------------------------------------------------------------------------------

#: The chapter's functions whose paths the vectors count, under the calls that reach them.
CALLS = ("Model.TLBGuestAccess", "AArch32.S2TLBFill", "AArch32.TLBMaintenance")
COVERED = {"Model.TLBGuestAccess", "AArch32.S2TLBFill", "AArch32.S2TranslateCached",
           "AArch32.S2TranslateFromEntry", "AArch32.TLBMaintenance", "AArch32.TLBInvalidateVMID",
           "AArch32.TLBInvalidateNonHyp"}


def _stage2_on(call: Any) -> Rule:
    hcr = to_z3(call.inputs["HCR"], Bits(32))
    return Rule("stage 2 on", "a guest access is to an IPA of the test window, which only stage 2 maps "
                "to RAM: with HCR.VM clear it would reach no memory", [z3.Extract(0, 0, hcr) == 1])


@dataclass
class Coverage:
    feasible: set[Path] = field(default_factory=set)
    not_runnable: dict[Path, list[str]] = field(default_factory=dict)


def coverage(spec: Spec, on_paths: Callable[[int], None]) -> Coverage:
    """The feasible paths of :data:`COVERED`: those of a guest access with stage 2 on, and of a
    fill and a maintenance operation in any state; a guest access's paths with stage 2 off are
    not runnable."""
    found = Coverage()
    for name in CALLS:
        call = spec.symbolic(name)
        base = [*call.constraints, *(c for _, c in call.evaluation.assertions)]
        everything = feasible_paths(call, COVERED, base, on_paths=on_paths)
        if name != "Model.TLBGuestAccess":
            found.feasible.update(everything)
            continue
        rule = _stage2_on(call)
        runnable = feasible_paths(call, COVERED, [*base, *rule.terms])
        found.feasible.update(runnable)
        excluded = sorted(set(everything) - set(runnable))
        condition = lambda path, c=call: call_condition(c, path)  # noqa: E731
        found.not_runnable.update(excluding_rules(excluded, condition, base, [rule]))
    return found


# ---- the category -------------------------------------------------------------------------------


def make_vector(explorer: Explorer, vector_id: str, kind: str, steps: Sequence[Step], flags: Sequence[str],
                description: str) -> tuple[dict[str, Any], set[Path]]:
    """A vector's record (its outcomes from the spec) and the paths its runs took."""
    check_steps(explorer.spec, steps)
    explorer.paths.clear()
    outcomes = explorer.outcomes(steps)
    flag_set = set(flags) | ({"STALE_ALLOWED"} if len(outcomes) > 1 else set())
    record = {
        "id": vector_id,
        "category": CATEGORY,
        "kind": kind,
        "flags": sorted(flag_set),
        "description": description,
        "steps": steps_to_json(steps),
        "outcomes": [outcome.to_json() for outcome in outcomes],
        "paths": sorted({p.key for p in explorer.paths}),
    }
    return record, set(explorer.paths)


def generate(spec: Spec, seed: int, random_count: int, out: VectorSink,
             progress: Callable[[str], None] = lambda _: None, meter: MeterFactory = no_meter) -> Generated:
    progress("enumerating the paths of the TLB chapter with Z3")
    with meter(PATHS_FOUND, None) as found:
        paths = coverage(spec, found.advance)
    explorer = Explorer(spec, seed)
    catalogue = scenarios()
    progress(f"{len(catalogue)} scenarios; {random_count} random vectors")
    with meter(VECTORS_MADE, len(catalogue) + random_count) as counted:
        emitted = Emitted(out, counted)
        for scenario in catalogue:
            emitted.add(*make_vector(explorer, f"tlb-s-{scenario.name}", scenario.name.split("-")[0],
                                     scenario.steps, scenario.flags, scenario.description))
        rng = random.Random(seed)
        for number in range(1, random_count + 1):
            steps = random_steps(rng)
            emitted.add(*make_vector(explorer, f"tlb-r{number:05d}", "random", steps, random_flags(steps),
                                     "random operations, then a guest read"))
    return Generated(out, paths.feasible, emitted.hit & paths.feasible, paths.not_runnable,
                     prelude_meta(prelude()))
