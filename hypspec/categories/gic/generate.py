"""The `gic` vector category: script vectors for the GICv2 and its virtualization extensions.

Every vector is a script (`hypspec.categories.script.steps`): register accesses, run after the file's
prelude (the quiesce steps, stored once in the meta record), made from Hyp mode (the harness
playing the hypervisor: GICD, GICC and GICH) or from a guest in SVC or User mode (GICV), each
read carrying what the spec says it returns. Vectors come from four sources.

*Witnesses* (kind `witness`). For each access a guest makes to its virtual CPU interface
(`GUEST_OPERATIONS`: GICV_IAR, EOIR, DIR, HPPIR, RPR, the aliases AIAR/AEOIR/AHPPIR, reads and
writes of CTLR, PMR, BPR, ABPR, reads of APR0 and IIDR, and a read of a write-only and a write
of a read-only register for the RAZ/WI arms), Z3 finds a witness for every feasible path of
the spec function that serves it (`GICV.Read`/`GICV.Write` at that offset, with every function
it calls) over the state the hypervisor establishes: the four list registers, GICH_APR,
GICH_VMCR and GICH_HCR. That state is not a free input: it is the symbolic result of the
quiesced state followed by a write of a free value to each of those registers (what
`Board.Write` does: `Board.UpdateLines`, then `GICH.Write`), so a witness is a set of *values
Hyp writes*, and every state searched is one the writes can produce (bits a write ignores,
clamps or cannot set are excluded by construction, not by a constraint). The witness's own
constraints (`rules()`: reserved bits written as zero, no valid list register with a special
INTID, no virtual INTID in two valid list registers, HW only for a peripheral interrupt, guest
writes with their reserved bits clear) keep off what the architecture leaves UNPREDICTABLE; a
path the spec can take only outside them is listed under `not_runnable` with the rules that
exclude it. A witness lowers to: (the prelude,) the Hyp writes, the guest's access (from SVC, every
fourth one from User mode), and Hyp reads of every GICH register plus GICD_ISPENDR0, whose bit
25 is the maintenance interrupt's level. The state the writes produce is checked against the
witness (`run_script` of the writes and GICH reads, against the Z3 model's value of `GICH.Read`
over the symbolic state).

A path here has its loop iterations merged (`merged_path`): the virtual interface loops over
its list registers and over the 32 bits of GICH_APR, which as sequences of arms have up to 2^32
paths; merged, a decision contributes the set of arms it takes over all iterations.

*Scenarios* (kind = the scenario's name, `scenarios()`): worked sequences: each maintenance
interrupt cause observed through GICH_MISR and the PPI 25 pending bit, the acknowledge/EOI round
trip through a list register, the HW-bit EOI that deactivates a physical interrupt, the EOImode
split with GICV_DIR; and, from Hyp mode, the physical distributor and CPU interface: SGIs
through GICD_SGIR with each target filter, SPIs and PPIs with priorities, the priority mask and
the binary point.

*Random* (kind `random`): seeded scripts over the same operations, virtual (flag
`RANDOM_VIRTUAL`) or physical (`RANDOM_PHYSICAL`).

Every expected value comes from the concrete semantics (the same runs as `run_script`, which
the witnesses and scenarios are checked against), with bits that depend on an UNKNOWN masked
(an all-zeros and an all-ones oracle); the paths the guest's accesses take are measured on the
traced build, so the coverage line is an observation.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import z3

from hypspec.api import Spec, State
from hypspec.categories.gic import flags as gic_flags
from hypspec.categories.script.steps import (
    GICC_BASE,
    GICD_BASE,
    GICH_BASE,
    GICV_BASE,
    NUM_IRQS,
    Expect,
    Step,
    mmio_read,
    mmio_write,
    prelude_meta,
    quiesce_steps,
    run_script,
    steps_to_json,
    sysreg_encoding,
    with_expect,
)
from hypspec.concrete.runtime import FilledOracle, Oracle
from hypspec.lang.types import Bits, Map
from hypspec.output import MeterFactory, no_meter
from hypspec.symbolic.evaluator import SymbolicEvaluator, SymValue, to_z3, zero
from hypspec.vectors.generated import VECTORS_MADE, Emitted, Generated, VectorSink
from hypspec.vectors.paths import Path, Rule, decided, excluding_rules, guard_term, path_solver

CATEGORY = "gic"
WORD = 0xFFFF_FFFF
#: The physical count every access is made at. The quiesce steps disable the three timers, and
#: no GIC vector enables one, so no value a GIC vector reads depends on it.
COUNT = 0
_WORD_TYPE = Bits(32)

# ---- register maps (ARM IHI 0048B.b) ---------------------------------------------------------

#: Distributor registers (§4.3, Table 4-1), word offsets from GICD_BASE; `...0` is the first of
#: a bank (the word holding INTIDs 0-31, or 0-3 for byte-per-interrupt registers).
GICD = {
    "CTLR": 0x000, "TYPER": 0x004, "IIDR": 0x008, "IGROUPR0": 0x080,
    "ISENABLER0": 0x100, "ICENABLER0": 0x180, "ISPENDR0": 0x200, "ICPENDR0": 0x280,
    "ISACTIVER0": 0x300, "ICACTIVER0": 0x380, "IPRIORITYR0": 0x400, "ITARGETSR0": 0x800,
    "ICFGR0": 0xC00, "SGIR": 0xF00, "CPENDSGIR0": 0xF10, "SPENDSGIR0": 0xF20,
}
#: CPU interface registers (§4.4, Table 4-2); the virtual CPU interface has the same layout
#: (§5.5, Table 5-9).
CPU_INTERFACE = {
    "CTLR": 0x000, "PMR": 0x004, "BPR": 0x008, "IAR": 0x00C, "EOIR": 0x010, "RPR": 0x014,
    "HPPIR": 0x018, "ABPR": 0x01C, "AIAR": 0x020, "AEOIR": 0x024, "AHPPIR": 0x028,
    "APR0": 0x0D0, "IIDR": 0x0FC, "DIR": 0x1000,
}
#: Virtual interface control registers (§5.3, Table 5-1).
GICH = {
    "HCR": 0x000, "VTR": 0x004, "VMCR": 0x008, "MISR": 0x010, "EISR0": 0x020, "EISR1": 0x024,
    "ELRSR0": 0x030, "ELRSR1": 0x034, "APR": 0x0F0,
    "LR0": 0x100, "LR1": 0x104, "LR2": 0x108, "LR3": 0x10C,
}
LRS = ("LR0", "LR1", "LR2", "LR3")
#: The state a hypervisor establishes for the virtual CPU interface, in the order the harness
#: writes it: list registers first, GICH_HCR (which enables maintenance interrupts) last.
SETUP = (*LRS, "APR", "VMCR", "HCR")
#: What Hyp reads back after the guest's operation.
READBACK = (*LRS, "HCR", "VMCR", "MISR", "EISR0", "ELRSR0", "APR")
#: The maintenance interrupt's PPI on the virt board: its level shows in bit 25 of GICD_ISPENDR0.
MAINTENANCE_INTID = 25

#: Bits of each setup register that IHI 0048B.b leaves reserved (written as zero): GICH_HCR
#: [26:8] (§5.3.2), GICH_VMCR [26:24], [17:10], [8:5] (§5.3.4), GICH_LRn [22:20] (§5.3.7),
#: and for a software interrupt (HW = 0) [18:13], between EOI and CPUID.
RESERVED = {"HCR": 0x07FF_FF00, "VMCR": 0x0703_FDE0, "APR": 0x0000_0000}
LR_RESERVED, LR_SOFTWARE_RESERVED = 0x0070_0000, 0x0007_E000


def gicd(name: str, index: int = 0) -> int:
    """The address of a distributor register: `gicd("ISENABLER0", 1)` is GICD_ISENABLER1."""
    return GICD_BASE + GICD[name] + 4 * index


def gicc(name: str) -> int:
    return GICC_BASE + CPU_INTERFACE[name]


def gicv(name: str) -> int:
    return GICV_BASE + CPU_INTERFACE[name]


def gich(name: str) -> int:
    return GICH_BASE + GICH[name]


# ---- field encodings ------------------------------------------------------------------------

INVALID, PENDING, ACTIVE, PENDING_ACTIVE = 0, 1, 2, 3


def lr(vid: int, state: int, priority: int, *, group1: bool = False, hw: bool = False, pid: int = 0,
       eoi: bool = False, cpuid: int = 0) -> int:
    """A GICH_LRn value (§5.3.7): HW[31], Grp1[30], State[29:28], Priority[27:23] (the top five
    bits of the 8-bit priority), PhysicalID[19:10] when HW = 1, else EOI[19] and CPUID[12:10],
    VirtualID[9:0]."""
    value = hw << 31 | group1 << 30 | state << 28 | (priority >> 3) << 23 | vid
    return value | (pid << 10 if hw else eoi << 19 | cpuid << 10)


HCR_EN, HCR_UIE, HCR_LRENPIE, HCR_NPIE = 1 << 0, 1 << 1, 1 << 2, 1 << 3
HCR_VGRP0EIE, HCR_VGRP0DIE, HCR_VGRP1EIE, HCR_VGRP1DIE = 1 << 4, 1 << 5, 1 << 6, 1 << 7


def vmcr(*, grp0: bool = False, grp1: bool = False, ackctl: bool = False, fiqen: bool = False,
         cbpr: bool = False, eoimode: bool = False, abpr: int = 3, bpr: int = 2,
         pmr: int = 0xF8) -> int:
    """A GICH_VMCR value (§5.3.4): VMPriMask[31:27] (the top five bits of the priority mask),
    VMBP[23:21], VMABP[20:18], VEM[9], VMCBPR[4], VMFIQEn[3], VMAckCtl[2], VMGrp1En[1],
    VMGrp0En[0]. The defaults are the binary points GICH_VMCR resets to (VMBP 2, VMABP 3, the
    smallest a 5-bit priority allows) and the loosest mask."""
    return ((pmr >> 3) << 27 | bpr << 21 | abpr << 18 | eoimode << 9 | cbpr << 4 | fiqen << 3
            | ackctl << 2 | grp1 << 1 | int(grp0))


def sgir(intid: int, *, targets: int = 0, target_filter: int = 0) -> int:
    """A GICD_SGIR value (§4.3.15): TargetListFilter[25:24], CPUTargetList[23:16], SGIINTID[3:0]."""
    return target_filter << 24 | targets << 16 | intid


def bank(intid: int) -> tuple[int, int]:
    """(word index, bit) of an interrupt in a bit-per-interrupt register bank."""
    return intid // 32, 1 << (intid % 32)


# ---- steps ----------------------------------------------------------------------------------


def hyp_write(address: int, value: int) -> Step:
    return mmio_write(address, value, "hyp")


def hyp_read(address: int) -> Step:
    return mmio_read(address, "hyp")


def guest_read(address: int, el: str = "svc") -> Step:
    return mmio_read(address, el)


def guest_write(address: int, value: int, el: str = "svc") -> Step:
    return mmio_write(address, value, el)


def readback() -> list[Step]:
    """Hyp reads of every GICH register a guest operation can change, and GICD_ISPENDR0."""
    return [hyp_read(gich(name)) for name in READBACK] + [hyp_read(gicd("ISPENDR0"))]


def setup_writes(values: dict[str, int]) -> list[Step]:
    return [hyp_write(gich(name), values[name]) for name in SETUP]


# ---- the guest's operations -----------------------------------------------------------------


@dataclass(frozen=True)
class GuestOperation:
    """One access a guest makes to its virtual CPU interface."""

    register: str
    write: bool

    @property
    def name(self) -> str:
        return f"{self.register}-{'write' if self.write else 'read'}"

    @property
    def address(self) -> int:
        return gicv(self.register)

    @property
    def function(self) -> str:
        return "GICV.Write" if self.write else "GICV.Read"

    @property
    def value_mask(self) -> int:
        """The bits a guest write may set (§5.5 / §4.4): EOIINTID[9:0] and CPUID[12:10] of an
        EOI or DIR; GICV_CTLR's EnableGrp0, EnableGrp1, AckCtl, FIQEn, CBPR and EOImode; an
        8-bit priority mask; a 3-bit binary point."""
        return {"EOIR": 0x1FFF, "AEOIR": 0x1FFF, "DIR": 0x1FFF, "CTLR": 0x21F, "PMR": 0xFF,
                "BPR": 0x7, "ABPR": 0x7}.get(self.register, 0)


GUEST_OPERATIONS: tuple[GuestOperation, ...] = (
    GuestOperation("IAR", False),
    GuestOperation("EOIR", True),
    GuestOperation("DIR", True),
    GuestOperation("HPPIR", False),
    GuestOperation("RPR", False),
    GuestOperation("AIAR", False),
    GuestOperation("AEOIR", True),
    GuestOperation("AHPPIR", False),
    GuestOperation("CTLR", True),
    GuestOperation("PMR", True),
    GuestOperation("BPR", True),
    GuestOperation("ABPR", True),
    GuestOperation("CTLR", False),
    GuestOperation("PMR", False),
    GuestOperation("BPR", False),
    GuestOperation("ABPR", False),
    GuestOperation("APR0", False),
    GuestOperation("IIDR", False),
    # A write-only register read and a read-only register written: the RAZ/WI arms.
    GuestOperation("EOIR", False),
    GuestOperation("IAR", True),
)


def witness_el(number: int) -> str:
    """The guest mode of the n-th witness: SVC, and every fourth one User mode."""
    return "usr" if number % 4 == 0 else "svc"


# ---- paths, loop iterations merged ----------------------------------------------------------
#
# `hypspec.vectors.paths` names a path by the sequence of arms a call takes. The virtual CPU
# interface loops over its list registers and over the 32 bits of GICH_APR (the running
# priority is its lowest set bit), and as sequences those loops have up to 2^32 paths. Here a
# path of a call is, for each decision it reaches, the *set* of arms the decision takes over
# all its loop iterations (a bit mask of arm numbers): a loop-free function has exactly the
# paths `paths.py` gives it; a loop contributes "this arm in some iteration, that arm in some
# other" rather than one path per iteration pattern. The Z3 search and the traced run agree
# on that definition (`merged_path`, `merged_feasible_paths`).


def merged_path(function: str, steps: list[tuple[str, int]] | tuple[tuple[str, int], ...]) -> Path:
    """A traced call's path with its loop iterations merged: (decision, arm mask), by decision."""
    arms: dict[str, int] = {}
    for loc, arm in steps:
        arms[loc] = arms.get(loc, 0) | 1 << arm
    return Path(function, tuple(sorted(arms.items())))


@dataclass(frozen=True)
class _Group:
    """Every evaluated instance of one decision in one call: whether each arm is taken by some
    instance, and whether the decision sits in a loop (more than one instance)."""

    loc: str
    taken: tuple[z3.BoolRef, ...]
    looped: bool

    def options(self) -> list[tuple[int, z3.BoolRef]]:
        """(arm mask, condition) for each way the call can take this decision; mask 0: not
        reached. Outside a loop at most one arm is taken."""
        none = z3.And([z3.Not(t) for t in self.taken])
        if not self.looped:
            return [(1 << a, t) for a, t in enumerate(self.taken) if not z3.is_false(t)] + [(0, none)]
        found = []
        for mask in range(1, 1 << len(self.taken)):
            parts = [t if mask >> a & 1 else z3.Not(t) for a, t in enumerate(self.taken)]
            found.append((mask, z3.And(parts)))
        return [*found, (0, none)]


def _groups(invocation: Any) -> list[_Group]:
    instances: dict[str, list[list[Any]]] = {}
    for decision in invocation.decisions:
        instances.setdefault(decision.loc, []).append(decision.arms)
    groups = []
    for loc, all_arms in instances.items():
        width = max(len(arms) for arms in all_arms)
        taken = tuple(
            z3.simplify(z3.Or([guard_term(arms[a]) for arms in all_arms if a < len(arms)]))
            for a in range(width)
        )
        groups.append(_Group(loc, taken, len(all_arms) > 1))
    return groups


def merged_feasible_paths(invocations: list[Any], functions: set[str], constraints: list[z3.BoolRef],
                          timeout_s: float = 20.0) -> dict[Path, z3.ModelRef]:
    """Every feasible merged path of each named function among `invocations`, with a witness."""
    solver = path_solver(constraints, timeout_s)
    found: dict[Path, z3.ModelRef] = {}
    for invocation in invocations:
        if invocation.function not in functions:
            continue
        solver.push()
        solver.add(guard_term(invocation.reached))
        if decided(solver) == z3.sat:
            _explore(solver, invocation.function, _groups(invocation), 0, [], found)
        solver.pop()
    return found


def _explore(solver: z3.Solver, function: str, groups: list[_Group], index: int,
             steps: list[tuple[str, int]], found: dict[Path, z3.ModelRef]) -> None:
    if index == len(groups):
        path = Path(function, tuple(sorted(steps)))
        if path not in found:
            found[path] = solver.model()
        return
    group = groups[index]
    for mask, condition in group.options():
        solver.push()
        solver.add(condition)
        if decided(solver) == z3.sat:
            taken = [*steps, (group.loc, mask)] if mask else steps
            _explore(solver, function, groups, index + 1, taken, found)
        solver.pop()


def _path_condition(invocations: list[Any], path: Path) -> z3.BoolRef:
    """The condition under which some call of `path.function` takes `path`."""
    wanted = dict(path.steps)
    conditions = []
    for invocation in invocations:
        if invocation.function != path.function:
            continue
        groups = _groups(invocation)
        if not set(wanted) <= {group.loc for group in groups}:
            continue
        terms = [guard_term(invocation.reached)]
        for group in groups:
            terms.append(dict(group.options()).get(wanted.get(group.loc, 0), z3.BoolVal(False)))
        conditions.append(z3.And(terms))
    return z3.Or(conditions) if conditions else z3.BoolVal(False)


# ---- the witness search ---------------------------------------------------------------------


def symbolic_globals(spec: Spec, state: State) -> dict[str, SymValue]:
    """A concrete state as the symbolic evaluator's global state: scalars, records and arrays as
    the constants they are (so they fold), maps as Z3 arrays holding their entries."""
    found: dict[str, SymValue] = {}
    for name, info in spec.program.globals.items():
        value = getattr(state, name)
        if isinstance(info.ty, Map):
            array = zero(info.ty)
            for key, item in sorted(value.items()):
                array = z3.Store(array, z3.BitVecVal(key, info.ty.key.width), to_z3(item, info.ty.elem))
            found[name] = array
        else:
            found[name] = value
    return found


@dataclass
class Witness:
    """A feasible path of a guest operation, and the values Hyp and the guest write to take it."""

    operation: GuestOperation
    path: Path
    setup: dict[str, int]  # SETUP register -> the value Hyp writes
    value: int  # what the guest writes (0 for a read)
    overrides: dict[str, int]  # UNKNOWN locations the model fixed
    readback: dict[str, int]  # GICH register -> what the model says it holds after the writes


@dataclass
class OperationSearch:
    """The symbolic run of one guest operation after the Hyp writes."""

    operation: GuestOperation
    values: dict[str, z3.BitVecRef]
    guest: z3.BitVecRef
    invocations: list[Any]
    base: list[z3.BoolRef]  # spec assertions and enumeration domains
    readback: dict[str, z3.BitVecRef]
    unknowns: list[tuple[str, z3.ExprRef]]

    @cached_property
    def functions(self) -> set[str]:
        return {i.function for i in self.invocations}


def _operation_call(spec: Spec, start: dict[str, SymValue], operation: GuestOperation) -> OperationSearch:
    """The Hyp writes and the guest's access, evaluated symbolically from the quiesced state.

    Each access does what `Board.Write`/`Board.Read` does for an address in the GICH or GICV
    frame: `Board.UpdateLines` at `COUNT`, then the frame's function at the offset. (The board
    functions themselves are not evaluated: with a constant address the symbolic evaluator
    folds the frame dispatch, but it still evaluates the `Board.InFrame` call of an `elsif` arm
    that cannot be reached, whose result it has none for, and fails.) The concrete runs go
    through `Board.Read`/`Board.Write`, and each witness is checked to take its path there.
    """
    evaluator = SymbolicEvaluator(spec.program, dict(start))
    values = {name: z3.BitVec(f"hyp.{name}", 32) for name in SETUP}
    for name in SETUP:
        evaluator.call("Board.UpdateLines", [COUNT])
        evaluator.call("GICH.Write", [GICH[name], values[name]])
    readback = {}
    for name in READBACK:
        probe = SymbolicEvaluator(spec.program, dict(evaluator.globals))
        readback[name] = to_z3(probe.call("GICH.Read", [GICH[name]]).result, _WORD_TYPE)
    guest = z3.BitVec("guest.value", 32)
    evaluator.call("Board.UpdateLines", [COUNT])
    mark = len(evaluator.invocations)
    offset = CPU_INTERFACE[operation.register]
    evaluator.call(operation.function, [offset, guest] if operation.write else [offset])
    invocations = evaluator.invocations[mark:]
    base = [c for _, c in evaluator.assertions]
    return OperationSearch(operation, values, guest, invocations, base, readback, list(evaluator.unknowns))


def rules(search: OperationSearch) -> list[Rule]:
    """What every witness satisfies beyond the spec: no write of a reserved bit, nothing the
    architecture leaves UNPREDICTABLE (ARM IHI 0048B.b §5.3, GICH_LRn)."""
    v = search.values
    reserved = [v[name] & RESERVED[name] == 0 for name in ("HCR", "VMCR", "APR")]
    special, hardware = [], []
    entries = []
    for name in LRS:
        value = v[name]
        hw = z3.Extract(31, 31, value) == 1
        valid = z3.Extract(29, 28, value) != INVALID
        vid, pid = z3.Extract(9, 0, value), z3.Extract(19, 10, value)
        cpuid = z3.Extract(12, 10, value)
        reserved.append(value & LR_RESERVED == 0)
        reserved.append(z3.Implies(z3.Not(hw), value & LR_SOFTWARE_RESERVED == 0))
        special.append(z3.Implies(valid, z3.ULT(vid, 1020)))
        hardware.append(z3.Implies(hw, z3.And(z3.UGE(pid, 16), z3.ULT(pid, 1020))))
        hardware.append(z3.Implies(z3.And(z3.Not(hw), z3.UGE(vid, 16)), cpuid == 0))
        entries.append((valid, vid))
    unique = [
        z3.Implies(z3.And(a[0], b[0]), a[1] != b[1]) for i, a in enumerate(entries) for b in entries[i + 1:]
    ]
    guest = [search.guest & ~search.operation.value_mask & WORD == 0]
    return [
        Rule("reserved bits", "bits IHI 0048B.b reserves in GICH_HCR, GICH_VMCR and GICH_LRn are "
             "written as zero", reserved),
        Rule("special virtual IDs", "a valid list register does not hold an ID of 1020 to 1023",
             special),
        Rule("unique virtual IDs", "no two valid list registers hold the same virtual ID, even an "
             "SGI from two source CPUs (the virtualization chapter's deviation note on "
             "GICV.Deactivate: UNPREDICTABLE; QEMU matches an EOI by the ID alone)", unique),
        Rule("hardware interrupts", "a HW list register names a peripheral interrupt (16 to 1019: an "
             "SGI or a special ID is UNPREDICTABLE); a software one that is not an SGI has CPUID 0 "
             "(SBZ)", hardware),
        Rule("guest writes", "the guest writes only the defined fields of the register", guest),
    ]


def _model_word(model: z3.ModelRef, term: z3.ExprRef) -> int:
    return model.eval(term, model_completion=True).as_long()  # type: ignore[attr-defined]


def _witness(search: OperationSearch, path: Path, model: z3.ModelRef) -> Witness:
    setup = {name: _model_word(model, search.values[name]) for name in SETUP}
    value = _model_word(model, search.guest) if search.operation.write else 0
    overrides = {}
    for loc, const in search.unknowns:
        answer = model.eval(const, model_completion=True)
        overrides[loc] = int(z3.is_true(answer)) if z3.is_bool(answer) else answer.as_long()  # type: ignore[attr-defined]
    readback = {name: _model_word(model, term) for name, term in search.readback.items()}
    return Witness(search.operation, path, setup, value, overrides, readback)


@dataclass
class Search:
    """Witnesses for every runnable path of every guest operation, and the paths the spec can
    take only outside the rules."""

    witnesses: list[Witness]
    feasible: set[Path]
    not_runnable: dict[Path, list[str]]


def search(spec: Spec, start: State, progress: Callable[[str], None] = lambda _: None,
           meter: MeterFactory = no_meter) -> Search:
    """The witness search, from the quiesced state `start`."""
    globals_in = symbolic_globals(spec, start)
    witnesses: list[Witness] = []
    runnable: set[Path] = set()
    unrestricted: dict[Path, tuple[OperationSearch, list[Rule]]] = {}
    with meter("operations searched", len(GUEST_OPERATIONS)) as searched:
        for operation in GUEST_OPERATIONS:
            found = _operation_call(spec, globals_in, operation)
            terms = rules(found)
            restricted = merged_feasible_paths(found.invocations, found.functions,
                                               found.base + [c for r in terms for c in r.terms])
            for path in sorted(restricted):
                witnesses.append(_witness(found, path, restricted[path]))
            runnable.update(restricted)
            for path in merged_feasible_paths(found.invocations, found.functions, found.base):
                unrestricted.setdefault(path, (found, terms))
            progress(f"GICV {operation.name}: {len(restricted)} paths")
            searched.advance()
    not_runnable: dict[Path, list[str]] = {}
    for path in sorted(set(unrestricted) - runnable):
        found, terms = unrestricted[path]
        condition = partial(_path_condition, found.invocations)
        not_runnable.update(excluding_rules([path], condition, found.base, terms))
    return Search(witnesses, runnable, not_runnable)


# ---- running scripts on the spec ------------------------------------------------------------


@dataclass
class Run:
    """What one run of a vector's own steps (after the quiesce steps) produced."""

    values: list[int | None]
    chosen: bool  # whether an UNKNOWN was drawn
    paths: set[Path] = field(default_factory=set)


class Machine:
    """Runs scripts on the spec from the quiesced state, which it computes once per oracle.

    It does what `run_script` does (reset, the quiesce steps, each step through `Board.Read`,
    `Board.Write`, `Board.TimerRead` or `Board.TimerWrite` at `COUNT`), but starts each vector
    from a copy of the quiesced state instead of replaying the quiesce steps, can run the
    traced build (to measure paths), and takes any oracle (the seeded one with a witness's
    overrides, or the all-zeros and all-ones ones that find the bits that depend on an
    UNKNOWN). Vectors are checked against `run_script`.
    """

    def __init__(self, spec: Spec, seed: int) -> None:
        self.spec = spec
        self.seed = seed
        self.maps = [name for name, info in spec.program.globals.items() if isinstance(info.ty, Map)]
        self.trace: list[tuple] = spec.traced.module.__dict__["_T"]
        self._bases: dict[int | None, State] = {}
        func = spec.program.functions["Model.CP15Reg"]
        self.sysregs: tuple[str, ...] = tuple(func.result_ty.members)  # type: ignore[union-attr]

    def _oracle(self, fill: int | None, overrides: dict[str, int] | None = None) -> Oracle:
        return Oracle(self.seed, overrides=dict(overrides or {})) if fill is None else FilledOracle(fill)

    def _step(self, build: Any, state: State, step: Step) -> int | None:
        if step.target == "sysreg":
            member = self.sysregs.index("SysReg_" + step.sysreg)
            if step.op == "read":
                width = sysreg_encoding(self.spec, step.sysreg).width
                return int(build.function("Board.TimerRead")(state, member, COUNT)) & ((1 << width) - 1)
            build.function("Board.TimerWrite")(state, member, step.value, COUNT)
            return None
        if step.op == "read":
            return int(build.function("Board.Read")(state, step.address, COUNT)) & WORD
        build.function("Board.Write")(state, step.address, step.value, COUNT)
        return None

    def base(self, fill: int | None = None) -> State:
        """The quiesced state under the seeded oracle (None) or a filled one (0 or -1)."""
        if fill not in self._bases:
            state = self.spec.state(self.seed)
            state.oracle = self._oracle(fill)
            for step in quiesce_steps():
                self._step(self.spec.compiled, state, step)
            self._bases[fill] = state
        return self._bases[fill]

    def fork(self, fill: int | None = None, overrides: dict[str, int] | None = None) -> State:
        base = self.base(fill)
        state = copy.copy(base)
        for name in self.maps:
            setattr(state, name, dict(getattr(base, name)))
        state.oracle = self._oracle(fill, overrides)
        return state

    def run(self, steps: list[Step], fill: int | None = None, overrides: dict[str, int] | None = None,
            traced: bool = False, functions: set[str] | None = None,
            observe: Callable[[State, Step], None] | None = None) -> Run:
        """The values the steps read; with `traced`, the paths of the guest's steps (the GICV
        operations whose paths the category covers; Hyp's steps run on the compiled build), of
        the calls of `functions` only if given. `observe` sees the state before each step."""
        state = self.fork(fill, overrides)
        compiled, tracing = self.spec.compiled, self.spec.traced if traced else self.spec.compiled
        self.trace.clear()
        values = []
        for step in steps:
            if observe is not None:
                observe(state, step)
            values.append(self._step(compiled if step.el == "hyp" else tracing, state, step))
        run = Run(values, bool(state.oracle.chosen))
        if traced:
            run.paths = _trace_paths(self.trace, functions)
            self.trace.clear()
        return run


_MERGED: dict[tuple[Any, ...], Path] = {}
def _trace_paths(trace: list[tuple], functions: set[str] | None = None) -> set[Path]:
    """The merged path of every call a traced run made, or of the calls of `functions` (the
    others' events are skipped: most of a trace is the board's line updates); memoized, since
    runs repeat the same calls."""
    frames: set[tuple[Any, ...]] = set()
    stack: list[list[Any] | None] = []
    push, pop, add = stack.append, stack.pop, frames.add
    for event in trace:
        tag = event[0]
        if tag == ">":
            push([event[1]] if functions is None or event[1] in functions else None)
        elif tag == "<":
            frame = pop()
            if frame is not None:
                add(tuple(frame))
        else:
            top = stack[-1]
            if top is not None:
                top.append(event)
    paths = set()
    for frame in frames:
        path = _MERGED.get(frame)
        if path is None:
            path = _MERGED[frame] = merged_path(frame[0], frame[1:])
        paths.add(path)
    return paths


# ---- one vector -----------------------------------------------------------------------------


@dataclass
class Made:
    record: dict[str, Any]
    steps: list[Step]  # the vector's own steps (after the quiesce steps), expectations filled in
    paths: set[Path]


class Maker:
    """Turns a vector's own steps into its record: expectations from the spec, masks for the
    bits that depend on an UNKNOWN, the paths it takes."""

    def __init__(self, spec: Spec, seed: int, covered: set[str]) -> None:
        self.machine = Machine(spec, seed)
        self.spec = spec
        self.covered = covered

    def make(self, vector_id: str, kind: str, steps: list[Step], *, flags: list[str] | None = None,
             description: str | None = None, overrides: dict[str, int] | None = None) -> Made:
        observer = gic_flags.FlagObserver(self.spec)
        run = self.machine.run(steps, None, overrides, traced=True, functions=self.covered, observe=observer)
        masks = [WORD] * len(steps)
        if run.chosen:
            low, high = (self.machine.run(steps, fill).values for fill in (0, -1))
            masks = [~((lo or 0) ^ (hi or 0)) & WORD for lo, hi in zip(low, high, strict=True)]
        filled = [
            with_expect(step, Expect(value & WORD, mask)) if value is not None else step
            for step, value, mask in zip(steps, run.values, masks, strict=True)
        ]
        record: dict[str, Any] = {
            "id": vector_id,
            "category": CATEGORY,
            "kind": kind,
            "steps": steps_to_json(filled),
            "paths": sorted({p.key for p in run.paths if p.function in self.covered}),
        }
        flags = [*(flags or []), *observer.flags]  # flags.py
        if flags:
            record["flags"] = sorted(flags)
        if description:
            record["description"] = description
        return Made(record, filled, run.paths)

    def check(self, made: Made) -> None:
        """The vector's expectations are what `run_script` says, under their masks."""
        values = run_script(self.spec, made.steps, COUNT, self.machine.seed)
        for index, (step, value) in enumerate(zip(made.steps, values, strict=True)):
            if step.expect is None:
                continue
            mask = step.expect.mask
            if value is None or (value ^ step.expect.value) & mask:
                raise AssertionError(
                    f"{made.record['id']} step {index}: run_script reads {value!r}, the generator "
                    f"expected {step.expect.value:#x} under mask {mask:#x}"
                )


# ---- witnesses as vectors -------------------------------------------------------------------


def witness_steps(witness: Witness, el: str) -> list[Step]:
    """The Hyp writes, the guest's access, the Hyp reads (after the file's prelude)."""
    operation = witness.operation
    if operation.write:
        access = guest_write(operation.address, witness.value, el)
    else:
        access = guest_read(operation.address, el)
    return [*setup_writes(witness.setup), access, *readback()]


def check_witness_state(spec: Spec, witness: Witness, seed: int) -> None:
    """The writes produce the state the witness was found in: `run_script` of the writes and
    GICH reads gives what the Z3 model says `GICH.Read` returns over the symbolic state."""
    steps = [*setup_writes(witness.setup), *(hyp_read(gich(name)) for name in READBACK)]
    values = run_script(spec, steps, COUNT, seed)[-len(READBACK):]
    got = dict(zip(READBACK, values, strict=True))
    if got != witness.readback:
        wrong = {name: (got[name], witness.readback[name])
                 for name in READBACK if got[name] != witness.readback[name]}
        raise AssertionError(f"the writes for {witness.path.key} ({witness.operation.name}) produce another "
                             f"state: (run_script, model) = {wrong}")


# ---- scenarios ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    steps: tuple[Step, ...]


def virtual(lrs: tuple[int, ...] = (0, 0, 0, 0), *, apr: int = 0, control: int | None = None,
            hcr: int = HCR_EN) -> list[Step]:
    """Hyp programs the virtual interface: list registers, GICH_APR, GICH_VMCR, GICH_HCR."""
    values = dict(zip(LRS, (*lrs, 0, 0, 0, 0)[:4], strict=True))
    values.update(APR=apr, VMCR=vmcr(grp0=True) if control is None else control, HCR=hcr)
    return setup_writes(values)


def maintenance_check() -> list[Step]:
    return [hyp_read(gich("MISR")), hyp_read(gicd("ISPENDR0"))]


def distributor_on(*interrupts: tuple[int, int], eoimode: bool = False, pmr: int = 0xF0,
                   bpr: int | None = None) -> list[Step]:
    """Hyp enables the distributor and its CPU interface (group 0), and each (INTID, priority):
    its priority byte, target CPU 0 for an SPI, its enable. The byte-per-interrupt registers are
    written a word at a time, each word once with every byte it holds."""
    priorities: dict[int, int] = {}
    targets: dict[int, int] = {}
    for intid, priority in interrupts:
        word, byte = divmod(intid, 4)
        priorities[word] = priorities.get(word, 0) | priority << 8 * byte
        if intid >= 32:
            targets[word] = targets.get(word, 0) | 1 << 8 * byte
    steps = [hyp_write(gicd("CTLR"), 1)]
    steps += [hyp_write(gicd("IPRIORITYR0", word), value) for word, value in sorted(priorities.items())]
    steps += [hyp_write(gicd("ITARGETSR0", word), value) for word, value in sorted(targets.items())]
    for intid, _ in interrupts:
        index, bit = bank(intid)
        steps.append(hyp_write(gicd("ISENABLER0", index), bit))
    steps += [hyp_write(gicc("PMR"), pmr), hyp_write(gicc("CTLR"), 1 | eoimode << 9)]
    if bpr is not None:
        steps.append(hyp_write(gicc("BPR"), bpr))
    return steps


def pend(intid: int) -> Step:
    index, bit = bank(intid)
    return hyp_write(gicd("ISPENDR0", index), bit)


def physical_reads(intid: int) -> list[Step]:
    index, _ = bank(intid)
    return [hyp_read(gicd("ISPENDR0", index)), hyp_read(gicd("ISACTIVER0", index))]


def _maintenance_scenarios() -> list[Scenario]:
    eoi_lr = lr(40, PENDING, 0x20, eoi=True)
    g0, g1 = vmcr(grp0=True), vmcr(grp1=True)
    return [
        Scenario("maint-eoi", "EOI maintenance: the guest acknowledges and ends vINTID 40, whose list "
                 "register asks for an EOI interrupt; GICH_EISR0 and GICH_MISR.EOI show it, PPI 25 pends",
                 (*virtual((eoi_lr,)), *maintenance_check(), guest_read(gicv("IAR")),
                  guest_write(gicv("EOIR"), 40), *readback())),
        Scenario("maint-underflow", "Underflow (U): none or one valid list register raises it, two do "
                 "not; the guest's EOI brings it back",
                 (*virtual(hcr=HCR_EN | HCR_UIE), *maintenance_check(),
                  hyp_write(gich("LR0"), lr(33, PENDING, 0x40)), *maintenance_check(),
                  hyp_write(gich("LR1"), lr(34, PENDING, 0x50)), *maintenance_check(),
                  guest_read(gicv("IAR")), guest_write(gicv("EOIR"), 33), *readback())),
        Scenario("maint-lrenp", "List register entry not present (LRENP): the guest ends vINTID 50, which "
                 "no list register holds, with an active priority: GICH_HCR.EOICount counts it",
                 (*virtual(apr=1 << 4, hcr=HCR_EN | HCR_LRENPIE), *maintenance_check(),
                  guest_write(gicv("EOIR"), 50), *readback())),
        Scenario("maint-lrenp-dir", "LRENP through GICV_DIR with EOImode set: the priority drop does not "
                 "count, the deactivation of an ID in no list register does",
                 (*virtual(apr=1 << 4, control=vmcr(grp0=True, eoimode=True), hcr=HCR_EN | HCR_LRENPIE),
                  guest_write(gicv("EOIR"), 50), *maintenance_check(), guest_write(gicv("DIR"), 50),
                  *readback())),
        Scenario("maint-no-pending", "No pending (NP): an active entry alone raises it, a pending one "
                 "clears it, acknowledging that one raises it again",
                 (*virtual((lr(33, ACTIVE, 0x40),), hcr=HCR_EN | HCR_NPIE), *maintenance_check(),
                  hyp_write(gich("LR1"), lr(34, PENDING, 0x30)), *maintenance_check(),
                  guest_read(gicv("IAR")), *readback())),
        Scenario("maint-vgrp0e", "VGrp0E: the guest's Group 0 enabled raises it; the guest clears "
                 "EnableGrp0 through GICV_CTLR and it falls",
                 (*virtual(control=g0, hcr=HCR_EN | HCR_VGRP0EIE), *maintenance_check(),
                  guest_write(gicv("CTLR"), 0), *readback())),
        Scenario("maint-vgrp0d", "VGrp0D: the guest's Group 0 disabled raises it; the guest sets "
                 "EnableGrp0 and it falls",
                 (*virtual(control=vmcr(), hcr=HCR_EN | HCR_VGRP0DIE), *maintenance_check(),
                  guest_write(gicv("CTLR"), 1), *readback())),
        Scenario("maint-vgrp1e", "VGrp1E: the guest's Group 1 enabled raises it; the guest clears "
                 "EnableGrp1 and it falls",
                 (*virtual(control=g1, hcr=HCR_EN | HCR_VGRP1EIE), *maintenance_check(),
                  guest_write(gicv("CTLR"), 0), *readback())),
        Scenario("maint-vgrp1d", "VGrp1D: the guest's Group 1 disabled raises it; the guest sets "
                 "EnableGrp1 and it falls",
                 (*virtual(control=vmcr(), hcr=HCR_EN | HCR_VGRP1DIE), *maintenance_check(),
                  guest_write(gicv("CTLR"), 2), *readback())),
        Scenario("maint-disabled", "GICH_HCR.En clear: GICH_MISR still shows U, NP, VGrp0D and VGrp1D, "
                 "but PPI 25 stays low until En is set",
                 (*virtual(control=vmcr(), hcr=0xFE), *maintenance_check(),
                  hyp_write(gich("HCR"), 0xFF), *readback())),
    ]


#: SPI 40, at priority 0xA0, forwarded to the guest as vINTID 70 with the HW bit.
HW_PINTID, HW_VINTID, HW_PRIORITY = 40, 70, 0xA0


def _hardware_prologue() -> list[Step]:
    """Hyp takes SPI 40 as KVM does: EOImode set, acknowledge, priority drop, left active."""
    return [
        *distributor_on((HW_PINTID, HW_PRIORITY), eoimode=True), pend(HW_PINTID),
        hyp_read(gicc("IAR")), *physical_reads(HW_PINTID), hyp_write(gicc("EOIR"), HW_PINTID),
        hyp_read(gicc("RPR")), *physical_reads(HW_PINTID),
    ]


def _round_trip_scenarios() -> list[Scenario]:
    hw_lr = lr(HW_VINTID, PENDING, HW_PRIORITY, hw=True, pid=HW_PINTID)
    active = physical_reads(HW_PINTID)
    return [
        Scenario("ack-eoi-roundtrip", "Acknowledge and EOI through list registers: SGI 5 from CPU 1 at "
                 "priority 0x20 and vINTID 40 (EOI) at 0x30; IAR, APR, RPR, HPPIR, EOIR, and the "
                 "spurious ID once both are done",
                 (*virtual((lr(5, PENDING, 0x20, cpuid=1), lr(40, PENDING, 0x30, eoi=True)),
                           hcr=HCR_EN | HCR_UIE),
                  guest_read(gicv("IAR")), hyp_read(gich("LR0")), hyp_read(gich("APR")),
                  guest_read(gicv("RPR")), guest_read(gicv("HPPIR")), guest_write(gicv("EOIR"), 0x405),
                  hyp_read(gich("LR0")), guest_read(gicv("IAR"), "usr"), guest_write(gicv("EOIR"), 40, "usr"),
                  guest_read(gicv("IAR")), *readback())),
        Scenario("ack-eoi-group1", "A Group 1 virtual interrupt: GICV_IAR answers 1022 while AckCtl is "
                 "clear, GICV_AIAR acknowledges it, GICV_AEOIR ends it",
                 (*virtual((lr(41, PENDING, 0x28, group1=True),), control=vmcr(grp0=True, grp1=True)),
                  guest_read(gicv("HPPIR")), guest_read(gicv("AHPPIR")), guest_read(gicv("IAR")),
                  guest_read(gicv("AIAR")), guest_read(gicv("RPR")), guest_write(gicv("AEOIR"), 41),
                  *readback())),
        Scenario("ack-eoi-preemption", "Preemption inside the guest: with vINTID 60 active at 0x80, "
                 "vINTID 61 at 0x40 preempts and 62 at 0x80 does not; EOIs drop the priorities in order",
                 (*virtual((lr(60, PENDING, 0x80), 0, lr(62, PENDING, 0x88))), guest_read(gicv("IAR")),
                  hyp_write(gich("LR1"), lr(61, PENDING, 0x40)), guest_read(gicv("IAR")),
                  guest_read(gicv("IAR")), hyp_read(gich("APR")), guest_write(gicv("EOIR"), 61),
                  guest_read(gicv("RPR")), guest_write(gicv("EOIR"), 60), guest_read(gicv("IAR")),
                  *readback())),
        Scenario("hw-eoi", "HW-bit EOI: Hyp acknowledges SPI 40 with EOImode set and leaves it active; "
                 "the guest acknowledges and ends vINTID 70 (HW, physical 40), which deactivates SPI 40",
                 (*_hardware_prologue(), *virtual((hw_lr,)), guest_read(gicv("IAR")), *active,
                  guest_write(gicv("EOIR"), HW_VINTID), *active, *readback())),
        Scenario("hw-eoi-split", "HW-bit EOI with the guest's EOImode set: GICV_EOIR only drops the "
                 "priority, GICV_DIR deactivates the virtual and the physical interrupt",
                 (*_hardware_prologue(), *virtual((hw_lr,), control=vmcr(grp0=True, eoimode=True)),
                  guest_read(gicv("IAR")), guest_write(gicv("EOIR"), HW_VINTID), *active,
                  hyp_read(gich("LR0")), guest_write(gicv("DIR"), HW_VINTID), *active, *readback())),
        Scenario("eoimode-split", "EOImode split: GICV_EOIR drops the priority (GICH_APR clears, RPR "
                 "idle) and leaves the list register active; GICV_DIR deactivates it",
                 (*virtual((lr(45, PENDING, 0x40),), control=vmcr(grp0=True, eoimode=True)),
                  guest_read(gicv("IAR")), hyp_read(gich("APR")), guest_write(gicv("EOIR"), 45),
                  hyp_read(gich("APR")), guest_read(gicv("RPR")), hyp_read(gich("LR0")),
                  guest_write(gicv("DIR"), 45), *readback())),
        Scenario("vmcr-guest-view", "GICV_CTLR, GICV_PMR, GICV_BPR and GICV_ABPR are fields of "
                 "GICH_VMCR: guest writes show in Hyp's read, and binary points below the minimum clamp",
                 (*virtual(), guest_write(gicv("PMR"), 0xA0), guest_write(gicv("BPR"), 5),
                  guest_write(gicv("ABPR"), 6), guest_write(gicv("CTLR"), 0x21F), hyp_read(gich("VMCR")),
                  guest_read(gicv("CTLR")), guest_read(gicv("PMR")), guest_read(gicv("BPR")),
                  guest_read(gicv("ABPR")), hyp_write(gich("VMCR"), 0), hyp_read(gich("VMCR")),
                  guest_read(gicv("BPR"), "usr"), guest_read(gicv("ABPR"), "usr"),
                  guest_write(gicv("BPR"), 0), guest_write(gicv("ABPR"), 0), *readback())),
        Scenario("identification", "The identification registers: GICD_TYPER, GICD_IIDR, GICC_IIDR, "
                 "GICH_VTR, GICV_IIDR",
                 (hyp_read(gicd("TYPER")), hyp_read(gicd("IIDR")), hyp_read(gicc("IIDR")),
                  hyp_read(gich("VTR")), guest_read(gicv("IIDR")))),
    ]


def _physical_scenarios() -> list[Scenario]:
    sgi = 3
    after_sgi = [hyp_read(gicd("ISPENDR0")), hyp_read(gicd("SPENDSGIR0")), hyp_read(gicc("HPPIR"))]
    handle_sgi = [hyp_read(gicc("IAR")), *physical_reads(sgi), hyp_read(gicc("RPR")),
                  hyp_write(gicc("EOIR"), sgi), *physical_reads(sgi), hyp_read(gicc("RPR")),
                  hyp_read(gicc("IAR"))]
    spis = ((33, 0x80), (34, 0x40))
    return [
        Scenario("sgi-target-list", "GICD_SGIR with TargetListFilter 0 and CPU 0 in the list: SGI 3 "
                 "pends from CPU 0; acknowledge, EOI",
                 (*distributor_on((sgi, 0x80)), hyp_write(gicd("SGIR"), sgir(sgi, targets=1)),
                  *after_sgi, *handle_sgi)),
        Scenario("sgi-target-list-empty", "GICD_SGIR with TargetListFilter 0 and an empty target list: "
                 "nothing pends",
                 (*distributor_on((sgi, 0x80)), hyp_write(gicd("SGIR"), sgir(sgi, targets=0)),
                  *after_sgi, hyp_read(gicc("IAR")))),
        Scenario("sgi-filter-others", "GICD_SGIR with TargetListFilter 1 (every CPU but the requester): "
                 "on one processor nothing pends",
                 (*distributor_on((sgi, 0x80)), hyp_write(gicd("SGIR"), sgir(sgi, target_filter=1)),
                  *after_sgi, hyp_read(gicc("IAR")))),
        Scenario("sgi-filter-self", "GICD_SGIR with TargetListFilter 2 (the requester only): SGI 3 pends "
                 "from CPU 0; acknowledge, EOI",
                 (*distributor_on((sgi, 0x80)), hyp_write(gicd("SGIR"), sgir(sgi, target_filter=2)),
                  *after_sgi, *handle_sgi)),
        Scenario("spi-priorities", "Two SPIs, 33 at 0x80 and 34 at 0x40: 34 first, 33 cannot preempt it, "
                 "then 33 after the EOI",
                 (*distributor_on(*spis), pend(33), pend(34), *physical_reads(33),
                  hyp_read(gicc("HPPIR")), hyp_read(gicc("IAR")), hyp_read(gicc("RPR")),
                  hyp_read(gicc("HPPIR")), hyp_read(gicc("IAR")), *physical_reads(33),
                  hyp_write(gicc("EOIR"), 34), hyp_read(gicc("RPR")), hyp_read(gicc("IAR")),
                  hyp_read(gicc("RPR")), hyp_write(gicc("EOIR"), 33), *physical_reads(33),
                  hyp_read(gicc("IAR")))),
        Scenario("ppi-ack-eoi", "PPI 28 at 0x60, pended by software: acknowledge, active, EOI",
                 (*distributor_on((28, 0x60)), pend(28), *physical_reads(28), hyp_read(gicc("IAR")),
                  *physical_reads(28), hyp_write(gicc("EOIR"), 28), *physical_reads(28))),
        Scenario("priority-mask", "GICC_PMR: SPI 35 at 0x80 is not signalled with the mask at 0x80 and "
                 "is with 0x90",
                 (*distributor_on((35, 0x80), pmr=0x80), pend(35), hyp_read(gicc("HPPIR")),
                  hyp_read(gicc("IAR")), hyp_write(gicc("PMR"), 0x90), hyp_read(gicc("PMR")),
                  hyp_read(gicc("HPPIR")), hyp_read(gicc("IAR")), hyp_write(gicc("EOIR"), 35),
                  *physical_reads(35))),
        Scenario("binary-point-preempts", "GICC_BPR 2 (group priority bits 7:3): SPI 37 at 0x40 "
                 "preempts SPI 36 at 0x50",
                 (*distributor_on((36, 0x50), (37, 0x40), bpr=2), pend(36), hyp_read(gicc("IAR")),
                  hyp_read(gicc("RPR")), pend(37), hyp_read(gicc("IAR")), hyp_read(gicc("RPR")),
                  hyp_write(gicc("EOIR"), 37), hyp_write(gicc("EOIR"), 36), hyp_read(gicc("RPR")),
                  hyp_read(gicc("BPR")))),
        Scenario("binary-point-groups", "GICC_BPR 4 (group priority bits 7:5): 0x40 and 0x50 are one "
                 "group priority, so SPI 37 cannot preempt SPI 36",
                 (*distributor_on((36, 0x50), (37, 0x40), bpr=4), pend(36), hyp_read(gicc("IAR")),
                  hyp_read(gicc("RPR")), pend(37), hyp_read(gicc("IAR")), hyp_read(gicc("HPPIR")),
                  hyp_write(gicc("EOIR"), 36), hyp_read(gicc("IAR")), hyp_write(gicc("EOIR"), 37),
                  hyp_write(gicc("BPR"), 0), hyp_read(gicc("BPR")), hyp_read(gicc("ABPR")))),
    ]


def scenarios() -> list[Scenario]:
    return _maintenance_scenarios() + _round_trip_scenarios() + _physical_scenarios()


# ---- random scripts -------------------------------------------------------------------------

#: PPIs a random script may pend by software: not the ones the board drives (25 maintenance,
#: 26 Hyp timer, 27 virtual timer, 29 secure timer, 30 physical timer).
FREE_PPIS = tuple(n for n in range(16, 32) if n not in (MAINTENANCE_INTID, 26, 27, 29, 30))


def _random_lrs(rng: random.Random, hardware: int | None) -> list[int]:
    """Four list registers with the rules of the witnesses: no two valid ones with one ID."""
    used: set[int] = set()
    entries = []
    for n in range(4):
        if hardware is not None and n == 0:
            entries.append(lr(rng.randrange(16, 1020), PENDING, rng.randrange(32) << 3, hw=True, pid=hardware,
                              group1=rng.random() < 0.2))
            used.add(entries[0] & 0x3FF)
            continue
        state = rng.choice((INVALID, PENDING, PENDING, PENDING, ACTIVE, PENDING_ACTIVE))
        while True:
            vid = rng.choice((rng.randrange(16), rng.randrange(16, 32), rng.randrange(32, 128),
                              rng.randrange(1020)))
            if state == INVALID or vid not in used:
                break
        cpuid = rng.randrange(8) if vid < 16 else 0
        if state != INVALID:
            used.add(vid)
        hw = vid >= 16 and rng.random() < 0.1
        entries.append(lr(vid, state, rng.randrange(32) << 3, group1=rng.random() < 0.3, hw=hw,
                          pid=rng.randrange(16, NUM_IRQS), eoi=not hw and rng.random() < 0.4,
                          cpuid=cpuid))
    return entries


def _random_control(rng: random.Random) -> int:
    return vmcr(grp0=rng.random() < 0.8, grp1=rng.random() < 0.5, ackctl=rng.random() < 0.3,
                fiqen=rng.random() < 0.2, cbpr=rng.random() < 0.3, eoimode=rng.random() < 0.25,
                abpr=rng.randrange(8), bpr=rng.randrange(8),
                pmr=0xF8 if rng.random() < 0.6 else rng.randrange(32) << 3)


def _random_hcr(rng: random.Random) -> int:
    enables = sum(1 << bit for bit in range(1, 8) if rng.random() < 0.3)
    count = rng.randrange(32) if rng.random() < 0.15 else 0
    return count << 27 | enables | (HCR_EN if rng.random() < 0.9 else 0)


def _random_guest_op(rng: random.Random, lrs: list[int], el: str) -> Step:
    ids = [entry & 0x1FFF for entry in lrs if entry & (3 << 28)] or [rng.randrange(1024)]
    register = rng.choices(
        ("IAR", "EOIR", "DIR", "HPPIR", "RPR", "AIAR", "AEOIR", "AHPPIR", "CTLR", "PMR", "BPR", "ABPR",
         "APR0"),
        weights=(25, 20, 8, 6, 6, 5, 5, 3, 6, 4, 3, 3, 2),
    )[0]
    if register in ("EOIR", "AEOIR", "DIR"):
        value = rng.choice(ids) if rng.random() < 0.85 else rng.randrange(1 << 13)
        return guest_write(gicv(register), value, el)
    if register in ("CTLR", "PMR", "BPR", "ABPR"):
        mask = GuestOperation(register, True).value_mask
        if rng.random() < 0.5:
            return guest_read(gicv(register), el)
        return guest_write(gicv(register), rng.randrange(1 << 16) & mask, el)
    return guest_read(gicv(register), el)


def random_virtual(rng: random.Random) -> list[Step]:
    """Hyp programs the virtual interface at random (now and then with a HW entry for a physical
    SPI it has acknowledged and left active), the guest makes one to five accesses, Hyp reads
    everything back."""
    steps: list[Step] = []
    hardware = None
    if rng.random() < 0.15:
        hardware = rng.randrange(32, NUM_IRQS)
        steps += [*distributor_on((hardware, rng.randrange(256) & 0xF8), eoimode=True), pend(hardware),
                  hyp_read(gicc("IAR")), hyp_write(gicc("EOIR"), hardware)]
    lrs = _random_lrs(rng, hardware)
    setup = dict(zip(LRS, lrs, strict=True))
    active = [entry for entry in lrs if entry >> 29 & 1]
    apr = 0
    if active and rng.random() < 0.7:
        apr = 1 << (rng.choice(active) >> 23 & 0x1F)
    elif rng.random() < 0.2:
        apr = rng.randrange(1 << 32)
    setup.update(APR=apr, VMCR=_random_control(rng), HCR=_random_hcr(rng))
    steps += setup_writes(setup)
    el = "usr" if rng.random() < 0.25 else "svc"
    for _ in range(rng.randrange(1, 6)):
        steps.append(_random_guest_op(rng, lrs, el))
        if rng.random() < 0.15:
            steps.append(hyp_read(gich(rng.choice(("MISR", "EISR0", "ELRSR0", "APR", "LR0")))))
    steps += readback()
    if hardware is not None:
        steps += physical_reads(hardware)
    return steps


def random_physical(rng: random.Random) -> list[Step]:
    """Hyp alone: one to three interrupts (SGIs, free PPIs, SPIs) at random priorities, pended by
    GICD_ISPENDR or GICD_SGIR, acknowledged, ended and deactivated in some order, with the mask,
    the binary point and the distributor's registers read along the way."""
    count = rng.randrange(1, 4)
    interrupts: dict[int, int] = {}
    while len(interrupts) < count:
        intid = rng.choice((rng.randrange(16), rng.choice(FREE_PPIS), rng.randrange(32, NUM_IRQS)))
        interrupts[intid] = rng.randrange(256)
    eoimode = rng.random() < 0.3
    pmr = rng.choice((0xF0, 0xFF, rng.randrange(256)))
    bpr = rng.randrange(8) if rng.random() < 0.5 else None
    steps = distributor_on(*interrupts.items(), eoimode=eoimode, pmr=pmr, bpr=bpr)
    acked: list[int] = []
    for _ in range(rng.randrange(3, 10)):
        action = rng.random()
        intid = rng.choice(list(interrupts))
        if action < 0.3:
            if intid < 16:
                value = sgir(intid, targets=1, target_filter=rng.choice((0, 2)))
                steps.append(hyp_write(gicd("SGIR"), value))
            else:
                steps.append(pend(intid))
        elif action < 0.55:
            steps.append(hyp_read(gicc("IAR")))
            acked.append(intid)
        elif action < 0.75 and acked:
            steps.append(hyp_write(gicc("EOIR"), rng.choice(list(interrupts))))
        elif action < 0.8 and eoimode:
            steps.append(hyp_write(gicc("DIR"), intid))
        elif action < 0.85:
            steps.append(hyp_write(gicc("PMR"), rng.randrange(256)))
        else:
            steps.append(hyp_read(gicc(rng.choice(("RPR", "HPPIR", "PMR", "BPR")))))
    for intid in sorted(interrupts):
        steps += physical_reads(intid)
    steps += [hyp_read(gicc("RPR")), hyp_read(gicc("APR0")), hyp_read(gicd("SPENDSGIR0"))]
    return steps


def random_steps(rng: random.Random) -> tuple[list[Step], str]:
    if rng.random() < 0.25:
        return random_physical(rng), "RANDOM_PHYSICAL"
    return random_virtual(rng), "RANDOM_VIRTUAL"


# ---- the category ---------------------------------------------------------------------------


def generate(spec: Spec, seed: int, random_count: int, out: VectorSink,
             progress: Callable[[str], None] = lambda _: None, meter: MeterFactory = no_meter) -> Generated:
    machine_base = Machine(spec, seed).base()
    progress("enumerating the paths of every guest operation on GICV with Z3")
    found = search(spec, machine_base, progress, meter)
    covered = {path.function for path in found.feasible} | {path.function for path in found.not_runnable}
    maker = Maker(spec, seed, covered)
    progress(f"{len(found.witnesses)} witnesses; {len(scenarios())} scenarios; {random_count} random vectors")
    with meter(VECTORS_MADE, len(found.witnesses) + len(scenarios()) + random_count) as counted:
        emitted = Emitted(out, counted)
        for number, witness in enumerate(found.witnesses, start=1):
            check_witness_state(spec, witness, seed)
            el = witness_el(number)
            made = maker.make(f"gic-w{number:04d}", "witness", witness_steps(witness, el),
                              flags=[f"GICV_{witness.operation.name.upper().replace('-', '_')}"],
                              description=f"GICV_{witness.operation.register} "
                              f"{'write' if witness.operation.write else 'read'} from {el.upper()}: "
                              f"the witness of {witness.path.key}",
                              overrides=witness.overrides)
            if witness.path not in made.paths:
                raise AssertionError(f"the concrete run of the witness for {witness.path.key} "
                                     f"({witness.operation.name}) took another path")
            maker.check(made)
            emitted.add(made.record, made.paths)
        for scenario in scenarios():
            made = maker.make(f"gic-s-{scenario.name}", scenario.name, list(scenario.steps),
                              description=scenario.description)
            maker.check(made)
            emitted.add(made.record, made.paths)
        rng = random.Random(seed)
        for number in range(1, random_count + 1):
            steps, flag = random_steps(rng)
            made = maker.make(f"gic-r{number:05d}", "random", steps, flags=[flag])
            emitted.add(made.record, made.paths)
    return Generated(out, found.feasible, emitted.hit & found.feasible, found.not_runnable, prelude_meta())
