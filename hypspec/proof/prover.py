"""Discharge properties with Z3, and turn every failure into a replayed counterexample.

A property is a boolean spec function. Its obligation is: for every value of
its parameters, every global state and every choice of UNKNOWN values, under
the spec's own `assert` preconditions, it returns TRUE. The prover

1. checks the assumptions are satisfiable, and, when the property is an
   implication, that its hypothesis can hold (otherwise the proof would be
   vacuous, which counts as a failure);
2. asks Z3 for a state where the property is FALSE: `unsat` proves it, `sat`
   refutes it, and `unknown` (including a timeout) is a failure;
3. replays a refuting model through the concrete semantics, which must
   return FALSE too, and reports the registers, parameters and the memory
   words the run read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import z3

from hypspec.api import Spec, State, SymbolicCall
from hypspec.arguments import DEFAULT_TIMEOUT_S
from hypspec.concrete.runtime import Oracle, RecordingMap, SpecAssertionError
from hypspec.lang.types import Bool, Map
from hypspec.names import UnknownNameError, unknown_name
from hypspec.symbolic.evaluator import to_z3
from hypspec.symbolic.model import map_reader, model_value, unknown_values

PROVED = "proved"
REFUTED = "refuted"
UNKNOWN = "unknown"
VACUOUS = "vacuous"


@dataclass
class Counterexample:
    """A concrete input on which a property is FALSE, replayed concretely."""

    params: dict[str, Any]
    registers: dict[str, int]
    memory: dict[int, int]  # byte address of each word the replay read -> its value
    unknowns: dict[str, int]
    replayed: bool
    stopped: str = ""  # the assert the replay stopped at, if it did

    def render(self, spec: Spec) -> str:
        lines = ["  parameters:"]
        lines += [f"    {name} = {_show(value)}" for name, value in self.params.items()]
        lines.append("  registers the replay read:")
        for name, value in self.registers.items():
            lines.append(f"    {name} = {value:#x}{_fields(spec, name, value)}")
        lines.append("  memory read by the replay (address: word):")
        lines += [f"    {addr:#012x}: {word:#018x}" for addr, word in sorted(self.memory.items())]
        lines += unknown_lines(self.unknowns)
        verdict = "FALSE (confirmed)" if self.replayed else "TRUE (the replay disagrees!)"
        if self.stopped:
            verdict = f"stopped at an assert the solver did not see: {self.stopped}"
        lines.append(f"  concrete replay of the property: {verdict}")
        return "\n".join(lines)


def unknown_lines(unknowns: dict[str, int]) -> list[str]:
    """A counterexample's UNKNOWN values, as its rendering lists them (nothing when none)."""
    if not unknowns:
        return []
    return ["  UNKNOWN values chosen:", *(f"    {loc}: {value:#x}" for loc, value in unknowns.items())]


@dataclass
class ProofResult:
    name: str
    status: str
    seconds: float
    detail: str = ""
    counterexample: Counterexample | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.status == PROVED


def prove(spec: Spec, name: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> ProofResult:
    start = time.perf_counter()
    func = spec.program.functions.get(name)
    if func is None or not func.is_property:
        raise UnknownNameError(unknown_name("property", name, spec.program.properties))
    call = spec.symbolic(name)
    holds = to_z3(call.evaluation.result, Bool())  # type: ignore[arg-type]
    assumptions = [*call.constraints, *(c for _, c in call.evaluation.assertions)]
    assumptions += _same_location_unknowns(call)

    def elapsed() -> float:
        return time.perf_counter() - start

    solver = _solver(timeout_s)
    solver.add(*assumptions)
    premise = solver.check()
    if premise != z3.sat:
        return ProofResult(name, VACUOUS if premise == z3.unsat else UNKNOWN, elapsed(),
                           "the assumptions (spec preconditions, type ranges) cannot hold together"
                           if premise == z3.unsat else f"solver: {solver.reason_unknown()}")
    if z3.is_implies(holds):
        solver.push()
        solver.add(holds.arg(0))
        hypothesis = solver.check()
        solver.pop()
        if hypothesis != z3.sat:
            detail = ("the property's hypothesis can never hold" if hypothesis == z3.unsat
                      else f"solver: {solver.reason_unknown()}")
            return ProofResult(name, VACUOUS if hypothesis == z3.unsat else UNKNOWN, elapsed(), detail)
    solver.add(z3.Not(holds))
    answer = solver.check()
    if answer == z3.unsat:
        return ProofResult(name, PROVED, elapsed())
    if answer == z3.unknown:
        return ProofResult(name, UNKNOWN, elapsed(), f"solver: {solver.reason_unknown()}")
    counterexample = replay(spec, call, solver.model())
    status = REFUTED if counterexample.replayed else UNKNOWN
    detail = "" if counterexample.replayed else "the concrete replay did not confirm the model"
    if counterexample.stopped:
        detail = f"the concrete replay stopped at an assert: {counterexample.stopped}"
    return ProofResult(name, status, elapsed(), detail, counterexample)


def _solver(timeout_s: float) -> z3.Solver:
    solver = z3.Solver()
    solver.set("timeout", int(timeout_s * 1000))
    return solver


def _same_location_unknowns(call: SymbolicCall) -> list[z3.BoolRef]:
    """The oracle gives one value per spec location; say so to the solver."""
    first: dict[str, z3.ExprRef] = {}
    equal = []
    for loc, const in call.evaluation.unknowns:
        if loc in first:
            equal.append(first[loc] == const)
        else:
            first[loc] = const
    return equal


def replay(spec: Spec, call: SymbolicCall, model: z3.ModelRef) -> Counterexample:
    """Run the property concretely on the model's values; it must return FALSE."""
    func = spec.program.functions[call.function]
    params = {
        p.name: model_value(model, value, p.ty)  # type: ignore[arg-type]
        for p, value in zip(func.params, call.args, strict=True)
    }
    state = _RecordingState(Oracle(0, overrides=unknown_values(model, call)))
    initial: dict[str, Any] = {}
    maps: dict[str, RecordingMap] = {}
    for name, info in spec.program.globals.items():
        term = call.inputs[name]
        if isinstance(info.ty, Map):
            maps[name] = RecordingMap({}, fill=map_reader(model, term, info.ty))
            setattr(state, name, maps[name])
        else:
            initial[name] = model_value(model, term, info.ty)
            setattr(state, name, initial[name])
    state.reads.clear()
    args = list(params.values())
    stopped = ""
    try:
        result = spec.compiled.function(call.function)(state, *args)
    except SpecAssertionError as err:
        # The symbolic semantics leaves an index outside an array unconstrained; the concrete one
        # stops there. Either way the property is not shown FALSE.
        result, stopped = None, str(err)
    registers = {n: v for n, v in initial.items() if n in state.reads and isinstance(v, int)}
    memory = {key << 3: word for m in maps.values() for key, word in m.read.items()}
    decoded = {n: spec.decode(v, p.ty) for (n, v), p in zip(params.items(), func.params, strict=True)}  # type: ignore[arg-type]
    return Counterexample(decoded, registers, memory, dict(state.oracle.chosen), result is False, stopped)


class _RecordingState(State):
    """State that notes which globals a run reads, so a counterexample shows only those."""

    def __init__(self, oracle: Oracle) -> None:
        super().__init__(oracle)
        object.__setattr__(self, "reads", set())

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("__") and name not in {"oracle", "reads"}:
            object.__getattribute__(self, "reads").add(name)
        return object.__getattribute__(self, name)


def _show(value: Any) -> str:
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:#x}" if value > 9 else str(value)
    return repr(value)


def _fields(spec: Spec, register: str, value: int) -> str:
    ty = spec.program.globals[register].ty
    layout = getattr(ty, "layout", None)
    if layout is None:
        return ""
    shown = [f"{name}={(value >> lo) & ((1 << (hi - lo + 1)) - 1):#x}" for name, hi, lo in layout.fields]
    return "  (" + ", ".join(shown) + ")"
