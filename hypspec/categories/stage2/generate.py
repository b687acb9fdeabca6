"""The `stage2` vector category: one guest access under stage 2, and what Hyp sees.

Each vector is a world (HCR, VTCR, VTTBR, memory words), one access by a
guest at PL1 with its MMU off (`Model.Stage2GuestAccess`), and the outcome
the spec computes: the loaded value or the stored word, or the stage 2 abort
with HSR, HDFAR, HIFAR and HPFAR. Bits the architecture leaves UNKNOWN are
masked out of the comparison.

Vectors come from two sources. *Witnesses*: Z3 finds an input for every
feasible path of the stage 2 functions, under the constraints of the
bare-metal harness (tables and data in its regions, IPAs it can reach, the
stub slot it keeps). *Random*: the world builder of `stimulus` with
the same harness layout. Every vector's expected outcome comes from the
concrete semantics; its path coverage from the traced build.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3

from hypspec.api import Spec, State
from hypspec.categories.stage2.stimulus import HVC_2, Layout, World, random_world
from hypspec.concrete.runtime import FilledOracle, Oracle, RecordingMap
from hypspec.lang.types import BOOL, Bits
from hypspec.output import MeterFactory, no_meter
from hypspec.symbolic.evaluator import to_z3
from hypspec.symbolic.model import map_reader, model_value, unknown_values
from hypspec.vectors.generated import PATHS_FOUND, VECTORS_MADE, Emitted, Generated, VectorSink
from hypspec.vectors.paths import Path, feasible_paths, traced_paths

OPERATION = "Model.Stage2GuestAccess"
COVERED = (
    "Model.Stage2GuestAccess", "AArch32.SecondStageTranslate", "AArch32.SecondStageWalk",
    "AArch32.S2StartLevelValid", "AArch32.CheckS2Permission", "AArch32.S2AttrDecode",
    "AArch32.S2CacheAttr", "AArch32.ReportStage2Abort", "EncodeLDFSR", "LSInstructionSyndrome",
    "MemRead", "MemWrite", "IsAlignedAccess", "Model.LoadedValue",
)
REPORTED = ("HSR", "HDFAR", "HIFAR", "HPFAR")

# The bare-metal harness's memory map (hypspec/conformance/layout.py says why).
TABLE_BASE, TABLE_END = 0x4800_0000, 0x4C00_0000
DATA_BASE, DATA_END = 0x5000_0000, 0x6000_0000
HARNESS = Layout(
    table_base=TABLE_BASE, table_size=TABLE_END - TABLE_BASE,
    data_base=DATA_BASE, data_size=DATA_END - DATA_BASE,
    ipa_bits=32, reserved_start_index={1: 0, 2: 1}, architectural_only=True,
)
WINDOW = 0x40000  # table-region window per lookup level (a 16-table concatenated start is 128KB)


@dataclass(frozen=True)
class Access:
    access: str
    va: int
    size: int
    signed: bool
    rt: int
    value: int

    def args(self) -> list[Any]:
        return [self.va, 1 if self.access == "fetch" else 0, self.access == "write", self.size,
                self.signed, self.rt, self.value]


def _hex(value: int) -> str:
    return f"{value:#x}"


# ---- witnesses -----------------------------------------------------------------------

def harness_constraints(call) -> list[z3.BoolRef]:
    """What a vector must satisfy to run on the bare-metal harness, as Z3 terms."""
    va, acctype, iswrite, size, signed, rt, _value = call.args
    g = call.inputs
    vtcr = to_z3(g["VTCR"], Bits(32))
    vttbr, hcr = to_z3(g["VTTBR"], Bits(64)), to_z3(g["HCR"], Bits(32))
    fetch = acctype == 1
    t0sz = z3.SignExt(60, z3.Extract(3, 0, vtcr))
    sl0 = z3.Extract(7, 6, vtcr)
    valid = z3.Or(z3.And(sl0 == 0, t0sz >= -2), z3.And(sl0 == 1, t0sz <= 1))
    start = z3.If(sl0 == 1, z3.BitVecVal(1, 64), z3.BitVecVal(2, 64))
    low_bits = (32 - t0sz) - (39 - 9 * start) + 3
    baddr = z3.ZeroExt(24, z3.Extract(39, 0, vttbr))
    base = baddr & ~((z3.BitVecVal(1, 64) << low_bits) - 1)
    window_low = z3.If(sl0 == 1, z3.BitVecVal(TABLE_BASE, 64), z3.BitVecVal(TABLE_BASE + WINDOW, 64))
    aligned = z3.Or(size == 1, z3.And(size == 2, z3.Extract(0, 0, va) == 0),
                    z3.And(size == 4, z3.Extract(1, 0, va) == 0))
    constraints = [
        hcr == 1,
        z3.Extract(31, 31, vtcr) == 1, z3.Extract(30, 14, vtcr) == 0, z3.Extract(5, 5, vtcr) == 0,
        z3.Extract(4, 4, vtcr) == z3.Extract(3, 3, vtcr),
        z3.Extract(63, 56, vttbr) == 0, z3.Extract(47, 40, vttbr) == 0,
        z3.Implies(valid, (baddr & ((z3.BitVecVal(1, 64) << low_bits) - 1)) == 0),
        # The start table sits in its level's window (below), even when the walk reads
        # nothing: the harness writes its stub into it all the same.
        z3.UGE(baddr, window_low), z3.ULT(baddr, window_low + WINDOW - 0x20000),
        z3.Or(size == 1, size == 2, size == 4), z3.ULE(rt, 12), aligned,
        z3.Implies(fetch, z3.And(size == 4, z3.Not(iswrite), z3.Not(signed))),
        z3.Implies(signed, z3.And(z3.Not(iswrite), size != 4)),
        z3.Implies(z3.Not(valid), fetch),
        z3.Implies(z3.And(z3.Not(fetch), sl0 == 1), z3.Extract(31, 30, va) != 0),
        z3.Implies(z3.And(z3.Not(fetch), sl0 == 0), z3.LShR(va, 21) != 1),
    ]
    stub_index = z3.If(sl0 == 1, z3.BitVecVal(0, 64), z3.BitVecVal(1, 64))
    stub_slot = z3.Extract(39, 3, base + 8 * stub_index)
    # Each lookup level gets a window of its own in the table region (the walk's
    # k-th read is its level k+1 lookup), and data accesses go to the data
    # region. Disjoint windows rule out aliasing between the walk's reads, which
    # keeps the solver fast; they still allow every table shape (a table may sit
    # anywhere in its level's window).
    lookups = 0
    for access in call.evaluation.accesses:
        word = z3.ZeroExt(3, access.key) << 3
        if access.function == "MemRead64":
            low = TABLE_BASE + lookups * WINDOW
            lookups += 1
            inside = z3.And(z3.UGE(word, low), z3.ULT(word, low + WINDOW))
        else:
            inside = z3.And(z3.UGE(word, DATA_BASE), z3.ULT(word, DATA_END))
        guard = to_z3(access.guard, BOOL)
        constraints.append(z3.Implies(guard, inside))
        constraints.append(z3.Implies(z3.And(guard, z3.Not(fetch)), access.key != stub_slot))
    outcome = call.evaluation.result
    fault_status, data = outcome[0][0][0], outcome[1]
    constraints.append(z3.Implies(z3.And(fetch, fault_status == 0), data == HVC_2))
    return constraints


def witness_world(spec: Spec, call, model: z3.ModelRef) -> tuple[World, dict[str, int]]:
    """The world a witness model describes, with the memory the concrete run reads."""
    params = spec.program.functions[OPERATION].params
    values = [model_value(model, a, p.ty) for a, p in zip(call.args, params, strict=True)]  # type: ignore[arg-type]
    va, acctype, iswrite, size, signed, rt, value = values
    registers = {name: model_value(model, call.inputs[name], spec.program.globals[name].ty)
                 for name in ("HCR", "VTCR", "VTTBR")}
    overrides = unknown_values(model, call)
    memory_type = spec.program.globals["PhysMem"].ty
    memory_map = RecordingMap({}, fill=map_reader(model, call.inputs["PhysMem"], memory_type))  # type: ignore[arg-type]
    state = spec.state(**registers)
    state.PhysMem = memory_map
    state.oracle = Oracle(0, overrides=overrides)
    spec.compiled.function(OPERATION)(state, *values)
    memory = {key << 3: word for key, word in memory_map.read.items()}
    access = "fetch" if acctype == 1 else "write" if iswrite else "read"
    world = World(registers["VTCR"], registers["VTTBR"], memory, access, va, size, signed, rt, value)
    return world, overrides


# ---- one vector ----------------------------------------------------------------------

def _state(spec: Spec, world: World, oracle: Oracle) -> State:
    state = spec.state(VTCR=world.vtcr, VTTBR=world.vttbr, HCR={"VM": 1},
                       PhysMem=dict(world.memory))
    state.oracle = oracle
    return state


def _access(world: World) -> Access:
    return Access(world.access, world.ipa, world.size, world.signed, world.rt, world.value)


def make_vector(spec: Spec, vector_id: str, kind: str, world: World, seed: int,
                overrides: dict[str, int] | None = None) -> tuple[dict[str, Any], list[Path]]:
    """A vector's JSON record and the paths its concrete run took."""
    access = _access(world)
    state = _state(spec, world, Oracle(seed, overrides=dict(overrides or {})))
    outcome, paths = traced_paths(spec, OPERATION, state, access.args())
    addrdesc, data = outcome
    fault = addrdesc[0]
    # Bits that depend on an UNKNOWN: outputs differ between an all-zeros and an all-ones oracle.
    masks = {name: "0xffffffff" for name in REPORTED}
    if state.oracle.chosen:
        low, high = (_run_outputs(spec, world, access, fill) for fill in (0, -1))
        masks = {name: _hex(~(low[name] ^ high[name]) & 0xFFFFFFFF) for name in REPORTED}
    expected: dict[str, Any] = {"registers": {}, "memory": {}}
    if fault[0] != 0:
        expected["outcome"] = "stage2_abort"
        expected["registers"] = {name: _hex(getattr(state, name)) for name in REPORTED}
    else:
        expected["outcome"] = "ok"
        if access.access == "write":
            word = addrdesc[1] & ~7
            expected["memory"] = {_hex(word): _hex(state.PhysMem.get(word >> 3, 0))}
        else:
            expected["data"] = _hex(data)
    enum = spec.program.records["FaultRecord"].fields[0][1]
    expected["spec_only"] = {
        "paddress": _hex(addrdesc[1]),
        "fault": {"statuscode": enum.members[fault[0]], "level": fault[1]},  # type: ignore[attr-defined]
        "memattrs": spec.decode(addrdesc[2], spec.program.records["MemoryAttributes"]),
    }
    flags = [] if _start_level_valid(world.vtcr) else ["UNPREDICTABLE_IN_ARMV7"]
    record = {
        "id": vector_id,
        "kind": kind,
        "flags": flags,
        "state": {
            "registers": {"HCR": "0x1", "VTCR": _hex(world.vtcr), "VTTBR": _hex(world.vttbr)},
            "memory": {_hex(a): _hex(w) for a, w in sorted(world.memory.items())},
        },
        "operation": {"name": OPERATION, "access": access.access, "va": _hex(access.va),
                      "size": access.size, "signed": access.signed, "rt": access.rt,
                      "value": _hex(access.value)},
        "expected": expected,
        "masks": masks,
        "paths": sorted({p.key for p in paths}),
    }
    return record, paths


def _run_outputs(spec: Spec, world: World, access: Access, fill: int) -> dict[str, int]:
    oracle = FilledOracle(fill)
    state = _state(spec, world, oracle)
    spec.compiled.function(OPERATION)(state, *access.args())
    return {name: getattr(state, name) for name in REPORTED}


def _start_level_valid(vtcr: int) -> bool:
    t0sz = (vtcr & 0xF) - 16 if vtcr & 0x8 else vtcr & 0xF
    sl0 = (vtcr >> 6) & 3
    return (sl0 == 0 and t0sz >= -2) or (sl0 == 1 and t0sz <= 1)


# ---- the category --------------------------------------------------------------------

def generate(spec: Spec, seed: int, random_count: int, out: VectorSink,
             progress: Callable[[str], None] = lambda _: None, meter: MeterFactory = no_meter) -> Generated:
    call = spec.symbolic(OPERATION)
    constraints = [*call.constraints, *(c for _, c in call.evaluation.assertions)]
    constraints += harness_constraints(call)
    progress("enumerating feasible paths with Z3")
    with meter(PATHS_FOUND, None) as found:
        functions = {i.function for i in call.evaluation.invocations}
        witnesses = feasible_paths(call, functions, constraints, on_paths=found.advance)
    feasible = set(witnesses)
    progress(f"{len(witnesses)} witnesses; {random_count} random vectors")
    with meter(VECTORS_MADE, len(witnesses) + random_count) as counted:
        made = Emitted(out, counted)
        for number, path in enumerate(sorted(witnesses), start=1):
            world, overrides = witness_world(spec, call, witnesses[path])
            record, paths = make_vector(spec, f"stage2-w{number:04d}", "witness", world, seed, overrides)
            if path not in paths:
                raise AssertionError(f"the concrete run of the witness for {path.key} took another path")
            made.add(record, paths)
        rng = random.Random(seed)
        for number in range(1, random_count + 1):
            made.add(*make_vector(spec, f"stage2-r{number:05d}", "random", random_world(rng, HARNESS), seed))
    return Generated(out, feasible, made.hit & feasible)
