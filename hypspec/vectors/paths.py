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
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import z3

from hypspec.api import Spec, State, SymbolicCall
from hypspec.symbolic.evaluator import Guard, Invocation


@dataclass(frozen=True, order=True)
class Path:
    function: str
    steps: tuple[tuple[str, int], ...]

    @cached_property
    def key(self) -> str:
        """A short, stable name: the function and a digest of its steps (computed once: vector
        generators name the same paths over and over)."""
        digest = hashlib.sha256(repr(self.steps).encode()).hexdigest()[:10]
        return f"{self.function}#{digest}"


class PathSearchError(RuntimeError):
    """The solver could not decide whether a path is feasible (unknown or timeout)."""


@dataclass(frozen=True)
class Rule:
    """A group of harness constraints, and why the harness needs them."""

    name: str
    reason: str
    terms: list[z3.BoolRef]


def path_solver(constraints: list[z3.BoolRef], timeout_s: float = 20.0) -> z3.Solver:
    """A solver for the path search: deterministic (fixed seed), bounded, holding `constraints`."""
    solver = z3.Solver()
    solver.set("timeout", int(timeout_s * 1000))
    solver.set("random_seed", 0)
    solver.add(*constraints)
    return solver


def feasible_paths(call: SymbolicCall, functions: set[str], constraints: list[z3.BoolRef],
                   timeout_s: float = 20.0, on_paths: Callable[[int], None] = lambda _: None
                   ) -> dict[Path, z3.ModelRef]:
    """Every feasible path of each named function inside `call`, with a witness. `on_paths` is
    told how many new paths each call of those functions added (a meter counts them)."""
    solver = path_solver(constraints, timeout_s)
    found: dict[Path, z3.ModelRef] = {}
    for invocation in call.evaluation.invocations:
        if invocation.function not in functions:
            continue
        before = len(found)
        solver.push()
        solver.add(guard_term(invocation.reached))
        if decided(solver) == z3.sat:
            _explore(solver, invocation, 0, [], found)
        solver.pop()
        on_paths(len(found) - before)
    return found


def guard_term(guard: Guard) -> z3.BoolRef:
    """A guard as a Z3 term (the evaluator folds constant guards to Python booleans)."""
    return z3.BoolVal(guard) if isinstance(guard, bool) else guard


def decided(solver: z3.Solver) -> z3.CheckSatResult:
    """`solver.check()`, with `unknown` (a timeout included) an error, never a verdict."""
    answer = solver.check()
    if answer == z3.unknown:
        raise PathSearchError(f"path feasibility undecided: {solver.reason_unknown()}")
    return answer


def excluding_rules(paths: list[Path], condition: Callable[[Path], z3.BoolRef], base: list[z3.BoolRef],
                    rules: list[Rule]) -> dict[Path, list[str]]:
    """For each path (feasible under `base`, infeasible under the rules), the rules that
    together exclude it: a minimal unsat core over one switch per rule. `condition` gives the
    condition under which some call takes the path."""
    solver = z3.Solver()
    solver.set("random_seed", 0)
    solver.set("core.minimize", True)
    solver.add(*base)
    switches = {z3.Bool(f"rule!{n}"): rule for n, rule in enumerate(rules)}
    for switch, rule in switches.items():
        solver.add(z3.Implies(switch, z3.And(rule.terms)))
    found: dict[Path, list[str]] = {}
    for path in paths:
        solver.push()
        solver.add(condition(path))
        if solver.check(*switches) != z3.unsat:
            raise AssertionError(f"{path.key} is feasible under the harness rules but has no witness")
        core = {str(c) for c in solver.unsat_core()}
        found[path] = [rule.name for switch, rule in switches.items() if str(switch) in core]
        solver.pop()
    return found


def path_condition(invocation: Invocation, path: Path) -> z3.BoolRef | None:
    """The condition under which `invocation` takes `path` (None if it cannot by its shape)."""
    terms = [invocation.reached]
    steps = list(path.steps)
    for decision in invocation.decisions:
        arms = [guard_term(a) for a in decision.arms]
        if steps and steps[0][0] == decision.loc:
            terms.append(arms[steps.pop(0)[1]])
        else:
            terms.append(z3.Not(z3.Or(arms)))
    if steps:
        return None
    return z3.And([guard_term(t) for t in terms])


def call_condition(call: SymbolicCall, path: Path) -> z3.BoolRef:
    """The condition under which some call of `path.function` inside `call` takes `path`."""
    conditions = [
        c
        for i in call.evaluation.invocations
        if i.function == path.function
        if (c := path_condition(i, path)) is not None
    ]
    return z3.Or(conditions)


def _explore(solver: z3.Solver, invocation: Invocation, index: int, steps: list[tuple[str, int]],
             found: dict[Path, z3.ModelRef]) -> None:
    if index == len(invocation.decisions):
        path = Path(invocation.function, tuple(steps))
        if path not in found:
            found[path] = solver.model()
        return
    decision = invocation.decisions[index]
    arms = [guard_term(g) for g in decision.arms]
    options: list[tuple[int | None, z3.BoolRef]] = [
        (i, guard) for i, guard in enumerate(arms) if not z3.is_false(guard)
    ]
    options.append((None, z3.Not(z3.Or(arms))))  # the statement is not reached on this path
    for arm, guard in options:
        solver.push()
        solver.add(guard)
        if decided(solver) == z3.sat:
            taken = steps if arm is None else [*steps, (decision.loc, arm)]
            _explore(solver, invocation, index + 1, taken, found)
        solver.pop()


def traced_paths(spec: Spec, function: str, state: State, args: list[Any]) -> tuple[Any, list[Path]]:
    """Run a function on the traced build; its result and the path of every call made."""
    module = spec.traced.module
    trace: list[tuple] = module.__dict__["_T"]
    trace.clear()
    result = spec.traced.function(function)(state, *args)
    return result, trace_paths(trace)


def trace_paths(trace: list[tuple]) -> list[Path]:
    """The path of every call a traced build's record holds (its `_T`), which it empties: the
    calls of one run, or of several runs one after another."""
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
    return paths
