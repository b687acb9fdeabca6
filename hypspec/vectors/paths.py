"""Paths through spec functions: enumerated with Z3, observed in concrete runs.

A path of a function is the sequence of arms its `if` and `case` statements
take in one call (`(decision location, arm)` pairs, in execution order). The
symbolic evaluation of an operation records, for every call of every
function inside it, the guard of each arm; a depth-first search over those
guards, asking Z3 at each step whether the choices so far can hold together,
lists every feasible path and a model (a witness) for each. A traced
concrete build records the arms actually taken, so the paths a vector hits
are measured, not assumed; a witness whose concrete run misses its own path
would be a disagreement between the two semantics, and is reported as one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import z3

from hypspec.api import Spec, State, SymbolicCall
from hypspec.symbolic.evaluator import Guard, Invocation


@dataclass(frozen=True, order=True)
class Path:
    function: str
    steps: tuple[tuple[str, int], ...]

    @property
    def key(self) -> str:
        """A short, stable name: the function and a digest of its steps."""
        digest = hashlib.sha256(repr(self.steps).encode()).hexdigest()[:10]
        return f"{self.function}#{digest}"


class PathSearchError(RuntimeError):
    """The solver could not decide whether a path is feasible (unknown or timeout)."""


def feasible_paths(call: SymbolicCall, functions: set[str], constraints: list[z3.BoolRef],
                   timeout_s: float = 20.0) -> dict[Path, z3.ModelRef]:
    """Every feasible path of each named function inside `call`, with a witness."""
    solver = z3.Solver()
    solver.set("timeout", int(timeout_s * 1000))
    solver.set("random_seed", 0)
    solver.add(*constraints)
    found: dict[Path, z3.ModelRef] = {}
    for invocation in call.evaluation.invocations:
        if invocation.function not in functions:
            continue
        solver.push()
        solver.add(_term(invocation.reached))
        if _check(solver) == z3.sat:
            _explore(solver, invocation, 0, [], found)
        solver.pop()
    return found


def _term(guard: Guard) -> z3.BoolRef:
    return z3.BoolVal(guard) if isinstance(guard, bool) else guard


def _check(solver: z3.Solver) -> z3.CheckSatResult:
    answer = solver.check()
    if answer == z3.unknown:
        raise PathSearchError(f"path feasibility undecided: {solver.reason_unknown()}")
    return answer


def _explore(solver: z3.Solver, invocation: Invocation, index: int, steps: list[tuple[str, int]],
             found: dict[Path, z3.ModelRef]) -> None:
    if index == len(invocation.decisions):
        path = Path(invocation.function, tuple(steps))
        if path not in found:
            found[path] = solver.model()
        return
    decision = invocation.decisions[index]
    arms = [_term(g) for g in decision.arms]
    options: list[tuple[int | None, z3.BoolRef]] = [
        (i, guard) for i, guard in enumerate(arms) if not z3.is_false(guard)
    ]
    options.append((None, z3.Not(z3.Or(arms))))  # the statement is not reached on this path
    for arm, guard in options:
        solver.push()
        solver.add(guard)
        if _check(solver) == z3.sat:
            taken = steps if arm is None else [*steps, (decision.loc, arm)]
            _explore(solver, invocation, index + 1, taken, found)
        solver.pop()


def traced_paths(spec: Spec, function: str, state: State, args: list[Any]) -> tuple[Any, list[Path]]:
    """Run a function on the traced build; its result and the path of every call made."""
    module = spec.traced.module
    trace: list[tuple] = module.__dict__["_T"]
    trace.clear()
    result = spec.traced.function(function)(state, *args)
    paths: list[Path] = []
    stack: list[tuple[str, list[tuple[str, int]]]] = []
    for event in trace:
        if event[0] == ">":
            stack.append((event[1], []))
        elif event[0] == "<":
            name, steps = stack.pop()
            paths.append(Path(name, tuple(steps)))
        else:
            stack[-1][1].append(event)
    trace.clear()
    return result, paths
