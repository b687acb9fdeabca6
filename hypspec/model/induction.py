"""Prove a model's invariants by induction: one obligation per invariant and transition.

The model's invariant is the conjunction of all its `invariant` declarations at every instance
of their parameters. Each is discharged as separate obligations, each one Z3 query:

- *initial*: in the initial state (no hypervisor data: every shared global zero; the PEs'
  architectural state arbitrary, since nothing has booted), the invariant holds;
- *step*: for a transition T with arguments `a` and an invariant I with arguments `p`, if every
  invariant holds before T at the instances built from `a` and `p`, then I(p) holds after T(a);
- *safety*: under the same hypotheses, every `assert` that T reaches holds, so a transition is
  never used outside its precondition and the lowvisor's own checks are theorems.

Instances, not quantifiers: the hypothesis "J holds everywhere" is used at the instances whose
arguments are drawn from T's and I's own arguments of the same type (fresh ones where there are
none). Using fewer instances than all is sound; what it costs is completeness, and a step the
hypotheses are too weak for fails with a counterexample to induction, not silently. For the
same reason an invariant may name, with `assuming (J, K)`, the only other invariants its step
obligations assume: the whole set is still inductive (each obligation assumes a part of it), and a
query that need not carry every invariant's instances stays small. A counterexample found under
such a list names the invariants it left out that the state before the step breaks. Such an
obligation also assumes the step's asserts, which its safety obligation proves from every
invariant, and the invariants at the step's own ids that its evaluation used to rule out a path.

Processing elements: a transition runs on one PE `c` and an invariant may speak of a PE `d`.
When both exist the obligation has two cases, `d = c` (one bank) and `d != c` (two banks, `d`'s
untouched by T), so the number of PEs never enters a query: the proof holds for any number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import z3

from hypspec.concrete.runtime import Oracle, RecordingMap, SpecAssertionError
from hypspec.interrupt import ignore_interrupts_in_worker, stop_pool
from hypspec.lang import syntax as s
from hypspec.lang.types import Bool, Enum, Map, Type
from hypspec.model.machine import Machine
from hypspec.model.program import PE_NUMBER, Model, Step
from hypspec.model.schedule import heaviest_first, remember
from hypspec.proof.prover import PROVED, REFUTED, UNKNOWN, VACUOUS, unknown_lines
from hypspec.symbolic.evaluator import (
    MemoryAccess,
    SymbolicEvaluator,
    SymValue,
    domain,
    fresh,
    key_terms,
    to_z3,
    zero,
)
from hypspec.symbolic.model import map_reader, model_value

INITIAL, STEP, SAFETY = "initial", "step", "safety"
# What a proved obligation's detail says when its goal is one of its hypotheses (`_World.check`).
UNCHANGED = "the step leaves what the invariant reads unchanged: the goal is its own hypothesis"


@dataclass(frozen=True)
class Obligation:
    kind: str
    invariant: str | None  # None for safety
    transition: str | None  # None for initial

    @property
    def name(self) -> str:
        if self.kind == INITIAL:
            return f"{self.invariant} initially"
        if self.kind == SAFETY:
            return f"{self.transition} keeps its asserts"
        return f"{self.invariant} after {self.transition}"


@dataclass
class Counterexample:
    """A state (two PEs' banks at most, and the shared data) where the obligation fails,
    replayed through the compiled model."""

    params: dict[str, str]
    banks: dict[int, dict[str, int]]  # PE -> registers the replay read
    shared: dict[str, Any]  # shared scalars read, and map entries read as {key: value}
    unknowns: dict[str, int]
    replayed: bool
    outcome: str

    def render(self, spec: object = None) -> str:
        lines = ["  arguments:"]
        lines += [f"    {name} = {value}" for name, value in self.params.items()]
        for pe, registers in sorted(self.banks.items()):
            lines.append(f"  PE {pe}, registers the replay read (before the step):")
            lines += [f"    {name} = {value:#x}" for name, value in sorted(registers.items())]
        if self.shared:
            lines.append("  hypervisor data the replay read (before the step):")
            for name, value in sorted(self.shared.items()):
                if isinstance(value, dict):
                    shown = ", ".join(f"[{k:#x}]={show_value(v)}" for k, v in sorted(value.items()))
                    lines.append(f"    {name}: {shown}")
                else:
                    lines.append(f"    {name} = {show_value(value)}")
        lines += unknown_lines(self.unknowns)
        verdict = "confirmed" if self.replayed else "NOT confirmed (the replay disagrees!)"
        lines.append(f"  concrete replay: {self.outcome}: {verdict}")
        return "\n".join(lines)


@dataclass
class ObligationResult:
    obligation: Obligation
    status: str
    seconds: float
    detail: str = ""
    counterexample: Counterexample | None = field(default=None)

    @property
    def name(self) -> str:
        return self.obligation.name

    @property
    def ok(self) -> bool:
        return self.status == PROVED


def obligations(model: Model, invariants: list[str] | None = None) -> list[Obligation]:
    chosen = [i for i in model.invariants if invariants is None or i.name in invariants]
    found = [Obligation(INITIAL, i.name, None) for i in chosen]
    for t in model.transitions:
        if invariants is None:
            found.append(Obligation(SAFETY, None, t.name))
        found += [Obligation(STEP, i.name, t.name) for i in chosen]
    return found


@dataclass
class InvariantResult:
    """An invariant's obligations together: proved when all are, refuted by the first that fails."""

    name: str
    status: str
    seconds: float
    detail: str = ""
    counterexample: Counterexample | None = None
    obligations: list[ObligationResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == PROVED


def prove_invariant(model: Model, name: str, timeout_s: float = 20.0,
                    stop_at_refutation: bool = False) -> InvariantResult:
    """Discharge an invariant's obligations (initial, then one per transition)."""
    results: list[ObligationResult] = []
    for ob in obligations(model, [name]):
        result = discharge(model, ob, timeout_s)
        results.append(result)
        if result.status != PROVED and stop_at_refutation:
            break
    return summarise(name, results)


def summarise(name: str, results: list[ObligationResult]) -> InvariantResult:
    seconds = sum(r.seconds for r in results)
    failed = [r for r in results if r.status != PROVED]
    if not failed:
        return InvariantResult(name, PROVED, seconds, f"{len(results)} obligations", None,
                               results)
    first = next((r for r in failed if r.status == REFUTED), failed[0])
    detail = f"{first.name}: {first.status} {first.detail}".strip()
    return InvariantResult(name, first.status, seconds, detail,
                           first.counterexample, results)


def prove_model(model: Model, timeout_s: float = 20.0, jobs: int = 1,
                on_done: Callable[[], None] = lambda: None
                ) -> tuple[list[InvariantResult], list[InvariantResult]]:
    """Every obligation of the model: per invariant (initial and steps) and per observation (one
    noninterference obligation per transition), and per transition (safety). With `jobs` > 1 the
    transitions are shared out among that many processes. `on_done` is called as the obligations
    of the initial state, then of each transition, are done (a meter counts them)."""
    names = [i.name for i in model.invariants] + [o.name for o in model.observations]
    transitions: list[str | None] = [None, *(t.name for t in model.transitions)]
    per_invariant: dict[str, list[ObligationResult]] = {n: [] for n in names}
    safety: list[InvariantResult] = []
    if jobs > 1:
        files = [str(f) for f in model.spec.loaded.files]
        with ProcessPoolExecutor(jobs, initializer=_worker_init, initargs=(files,)) as pool:
            # the initial state's few obligations, then the transitions heaviest first
            order = [None, *heaviest_first([t.name for t in model.transitions])]
            futures = {name: pool.submit(_worker_transition, name, timeout_s) for name in order}
            try:
                for _ in as_completed(futures.values()):
                    on_done()
                done = [futures[name].result() for name in transitions]
            except BaseException:
                # Ctrl-C, or a worker's error: end the workers and drop the queue now, rather than
                # let the pool's exit wait for every obligation still queued
                stop_pool(pool)
                raise
    else:
        done = []
        for name in transitions:
            done.append(_transition_obligations(model, name, timeout_s))
            on_done()
    for steps, safe in done:
        for result in steps:
            per_invariant[result.obligation.invariant].append(result)  # type: ignore[index]
        if safe is not None:
            safety.append(summarise(safe.name, [safe]))
    remember({name: sum(r.seconds for r in [*steps, *([safe] if safe else [])])
              for name, (steps, safe) in zip(transitions, done, strict=True) if name is not None})
    return [summarise(n, per_invariant[n]) for n in names], safety


def _transition_obligations(model: Model, name: str | None,
                            timeout_s: float) -> tuple[list[ObligationResult], ObligationResult | None]:
    from hypspec.model.noninterference import discharge_noninterference

    results = discharge_transition(model, name, [i.name for i in model.invariants], timeout_s,
                                   safety=name is not None)
    if name is None:
        return results, None
    if model.observations:
        results += discharge_noninterference(model, name, timeout_s=timeout_s)
    return results[1:], results[0]


_WORKER_MODEL: list[Model] = []


def _worker_init(files: list[str]) -> None:
    from hypspec.api import Spec

    ignore_interrupts_in_worker()  # Ctrl-C is the parent's, which ends the workers (`stop_pool`)
    _WORKER_MODEL.append(Model(Spec.load(*files)))


def _worker_transition(name: str | None,
                       timeout_s: float) -> tuple[list[ObligationResult], ObligationResult | None]:
    return _transition_obligations(_WORKER_MODEL[0], name, timeout_s)


def refute_invariant(model: Model, name: str, timeout_s: float = 20.0) -> InvariantResult:
    """For mutants: stop at the first refuted obligation."""
    return prove_invariant(model, name, timeout_s, stop_at_refutation=True)


def discharge(model: Model, obligation: Obligation, timeout_s: float = 20.0) -> ObligationResult:
    """One obligation on its own."""
    names = [obligation.invariant] if obligation.invariant else []
    return discharge_transition(model, obligation.transition, names, timeout_s,
                                safety=obligation.kind == SAFETY)[0]


def discharge_transition(model: Model, transition: str | None, invariants: list[str], timeout_s: float = 20.0,
                         safety: bool = False, stop_at_refutation: bool = False) -> list[ObligationResult]:
    """The obligations of one transition (or, with `transition` None, of the initial state) for
    the named invariants and, with `safety`, its safety obligation first: the transition is
    evaluated once per case, the hypotheses checked once for vacuity, and every goal is asked of
    the same state."""
    step_kind = INITIAL if transition is None else STEP
    wanted: list[str | None] = [*([None] if safety else []), *invariants]
    results: dict[str | None, ObligationResult] = {}
    timings: dict[str | None, float] = dict.fromkeys(wanted, 0.0)
    for same_pe in (True, False):
        start = time.perf_counter()
        world = _World(model, transition, same_pe, step_kind == INITIAL)
        if not same_pe and not world.pes_differ:
            continue
        premise = world.premise(timeout_s)
        shared_cost = time.perf_counter() - start
        for name in wanted:
            ob = Obligation(SAFETY if name is None else step_kind, name, transition)
            if name in results and results[name].status != PROVED:
                continue
            if not same_pe and name is not None and model.invariant(name).pe_index is None:
                continue
            start = time.perf_counter()
            status, detail, cex = premise if premise[0] != PROVED else world.check(name, timeout_s)
            timings[name] += shared_cost / len(wanted) + time.perf_counter() - start
            results[name] = ObligationResult(ob, status, timings[name], detail, cex)
            if stop_at_refutation and status == REFUTED:
                return [results[name]]
    return [results[n] for n in wanted]


# ---- building the queries ------------------------------------------------------------------


@dataclass
class EvaluatedStep:
    """A transition evaluated symbolically on T's bank and the shared state: shared by every case
    of its obligations (`Model.step_cache`)."""

    enabled: list[z3.BoolRef]  # its guard passes (a disabled step changes nothing)
    after: dict[str, SymValue]  # every global after the step
    assertions: list[z3.BoolRef]  # its asserts, each under the path that reaches it
    written_ids: list[z3.ExprRef]  # the symbolic parts of the map keys it writes under
    unknowns: list[tuple[str, z3.ExprRef]]  # its UNKNOWN values
    pruned_by: frozenset[str]  # the invariants whose instances at T's own ids ruled a path out


class _World:
    """The pre-state of one case of a transition's obligations: fresh arguments for the
    transition and canonical ones for the invariants, one or two PE banks, the shared state;
    the hypotheses; and the state after the transition."""

    def __init__(self, model: Model, transition: str | None, same_pe: bool, initial: bool) -> None:
        self.model = model
        self.program = model.symbolic_program
        self.initial = initial
        self.constraints: list[z3.BoolRef] = []
        self.unknowns: list[tuple[str, z3.ExprRef]] = []
        self.transition = model.transition(transition) if transition else None
        self.t_args = self._fresh_args(self.transition, "T")
        self.t_pe = None if self.transition is None or self.transition.pe_index is None \
            else self.t_args[self.transition.pe_index]
        # The invariants' arguments: per type, as many fresh values as one invariant needs.
        self.canonical: dict[str, list[SymValue]] = {}
        for inv in model.invariants:
            self.constraints += self.add_canonical(inv.params, {inv.pe_index})
        # One bank for T's PE; in the other case a second one, for the invariants' PE.
        self.pes: list[SymValue] = []
        if self.t_pe is not None:
            self.pes.append(self.t_pe)
        self.pes_differ = not same_pe and self.t_pe is not None
        if self.pes_differ or self.t_pe is None:
            other = fresh("I.PE", model.pe_type)
            if self.t_pe is not None:
                self.constraints.append(other != self.t_pe)  # type: ignore[arg-type]
            self.pes.append(other)
        self.i_pe = self.pes[-1]
        self.shared = {n: (zero(self._ty(n)) if initial else fresh(n, self._ty(n))) for n in model.shared}
        self.banks = [{n: fresh(f"{n}@pe{k}", self._ty(n)) for n in model.banked}
                      for k in range(len(self.pes))]
        # Every bank holds its own PE's number in the low byte of `PE_NUMBER` (Aff0), as the
        # machine gives it.
        self.pe_numbers: list[z3.BoolRef] = []
        if PE_NUMBER in model.banked:
            width = model.pe_type.width
            self.pe_numbers = [z3.Extract(7, 0, bank[PE_NUMBER]) == z3.ZeroExt(8 - width, pe)  # type: ignore[arg-type]
                               for bank, pe in zip(self.banks, self.pes, strict=True)]
        self.constraints += self.pe_numbers
        # Each invariant's hypothesis instances, by its name; all of them, without the step's guard.
        self.held: dict[str, list[z3.BoolRef]] = {} if initial else self._hypotheses()
        self.invariant_hypotheses = [h for terms in self.held.values() for h in terms]
        self.guard: list[z3.BoolRef] = []
        self.own: list[z3.BoolRef] = []
        self.written_ids: list[z3.ExprRef] = []
        self.after_shared, self.after_banks, self.assertions = self._step()

    def add_canonical(self, params: list[s.Param], skip: set[int | None]) -> list[z3.BoolRef]:
        """Enough canonical values of each parameter's type (but those at `skip`) for one
        instance of a step with these parameters; the type constraints of the new ones."""
        constraints: list[z3.BoolRef] = []
        counts: dict[str, int] = {}
        for index, param in enumerate(params):
            if index in skip:
                continue
            key = str(param.ty)
            counts[key] = counts.get(key, 0) + 1
            values = self.canonical.setdefault(key, [])
            while len(values) < counts[key]:
                value = fresh(f"I.{key}#{len(values)}", param.ty)  # type: ignore[arg-type]
                constraints += domain(value, param.ty)  # type: ignore[arg-type]
                values.append(value)
        return constraints

    def _ty(self, name: str) -> Type:
        return self.program.globals[name].ty

    def _fresh_args(self, step: Step | None, tag: str) -> list[SymValue]:
        """Arguments named by type and position among that type's (`T.KVM.VcpuId#0`), so that
        every transition's queries share the names, and the hypotheses built from them are the
        same terms, evaluated once (`Model.hypothesis_cache`)."""
        if step is None:
            return []
        values = []
        seen: dict[str, int] = {}
        for param in step.params:
            assert param.ty is not None
            key = str(param.ty)
            value = fresh(f"{tag}.{key}#{seen.get(key, 0)}", param.ty)
            seen[key] = seen.get(key, 0) + 1
            self.constraints.extend(domain(value, param.ty))
            values.append(value)
        return values

    def _bank_of(self, pe: SymValue) -> int:
        return next(i for i, known in enumerate(self.pes) if known is pe)

    def _evaluate(self, name: str, args: list[SymValue], shared: dict[str, SymValue],
                  bank: dict[str, SymValue], infeasible: Callable[[z3.BoolRef], bool] | None = None):
        evaluator = SymbolicEvaluator(self.program, {**shared, **bank}, infeasible=infeasible)
        evaluation = evaluator.call(name, args)
        self.unknowns.extend(evaluation.unknowns)
        return evaluation

    def invariant_args(self, inv: Step) -> list[SymValue]:
        """The invariant's goal instance: the canonical values, and the case's invariant PE."""
        taken: dict[str, int] = {}
        args = []
        for index, param in enumerate(inv.params):
            if index == inv.pe_index:
                args.append(self.i_pe)
                continue
            key = str(param.ty)
            args.append(self.canonical[key][taken.get(key, 0)])
            taken[key] = taken.get(key, 0) + 1
        return args

    def _instances(self, step: Step, own: bool = False) -> list[list[SymValue]]:
        """The hypothesis instances of an invariant: every PE of the case, and every value of the
        same type among T's arguments, the invariants' canonical ones and the witnesses' (with
        `own`, T's PE and arguments, and the witnesses of those, only)."""
        pool = self._pool(own)
        for key, value in self._witnessed(pool, own):
            if not any(k == key and str(v) == str(value) for k, v in pool):
                pool.append((key, value))
        return self._choices(step, pool, own)

    def _pool(self, own: bool) -> list[tuple[str, SymValue]]:
        pool: list[tuple[str, SymValue]] = []
        if self.transition is not None:
            pairs = enumerate(zip(self.transition.params, self.t_args, strict=True))
            pool += [(str(p.ty), a) for i, (p, a) in pairs
                     if i != self.transition.pe_index]
        if not own:
            for key, values in self.canonical.items():
                pool += [(key, v) for v in values]
        return pool

    def _choices(self, step: Step, pool: list[tuple[str, SymValue]], own: bool) -> list[list[SymValue]]:
        pes = [self.t_pe] if own and self.t_pe is not None else self.pes
        choices = []
        for index, param in enumerate(step.params):
            if index == step.pe_index:
                choices.append(list(pes))
            else:
                choices.append([a for key, a in pool if key == str(param.ty)])
        return [list(c) for c in product(*choices)]

    def _witnessed(self, pool: list[tuple[str, SymValue]], own: bool) -> list[tuple[str, SymValue]]:
        """Each witness's value in the state before the step, at every instance of its
        parameters among the ids of `pool` and the case's PEs (`witness` in docs/language.md)."""
        found = []
        cache = self.model.witness_cache
        for witness in self.model.witnesses:
            for args in self._choices(witness, pool, own):
                index = self._bank_of(args[witness.pe_index]) if witness.pe_index is not None else 0
                key = (witness.name, tuple(str(a) for a in args), index)
                if key not in cache:
                    evaluation = self._evaluate(witness.name, args, self.shared, self.banks[index])
                    cache[key] = (evaluation.result, evaluation.unknowns)
                value, unknowns = cache[key]
                self.unknowns.extend(unknowns)
                found.append((str(witness.decl.result_ty), value))
        return found

    def _hypotheses(self, own: bool = False) -> dict[str, list[z3.BoolRef]]:
        held: dict[str, list[z3.BoolRef]] = {}
        cache = self.model.hypothesis_cache
        for step in self.model.invariants:
            terms_of_step = held.setdefault(step.name, [])
            for args in self._instances(step, own):
                index = self._bank_of(args[step.pe_index]) if step.pe_index is not None else 0
                key = (step.name, tuple(str(a) for a in args), index)
                if key not in cache:
                    evaluation = self._evaluate(step.name, args, self.shared, self.banks[index])
                    cache[key] = ([to_z3(evaluation.result, Bool()), *(c for _, c in evaluation.assertions)],
                                  evaluation.unknowns)
                terms, unknowns = cache[key]
                terms_of_step += terms
                self.unknowns.extend(unknowns)
        return held

    def _step(self) -> tuple[dict[str, SymValue], list[dict[str, SymValue]], list[z3.BoolRef]]:
        if self.transition is None:
            return self.shared, self.banks, []
        index = self._bank_of(self.t_pe) if self.t_pe is not None else 0
        cache = self.model.step_cache
        if self.transition.name not in cache:
            cache[self.transition.name] = self._evaluate_step(index)
        step: EvaluatedStep = cache[self.transition.name]
        # A disabled step changes nothing, so it keeps every invariant: assume the guard passes.
        self.guard = step.enabled
        own = self._hypotheses(own=True)
        self.own = [h for name in sorted(step.pruned_by) for h in own[name]]
        self.unknowns += step.unknowns
        self.written_ids = step.written_ids
        banks = list(self.banks)
        banks[index] = {n: step.after[n] for n in self.model.banked}
        return {n: step.after[n] for n in self.model.shared}, banks, step.assertions

    def _evaluate_step(self, index: int) -> EvaluatedStep:
        """The step, evaluated once for every case of its obligations: on T's own PE bank and the
        shared state, with paths pruned under the hypotheses about T's own PE and arguments (the
        ones every case assumes)."""
        assert self.transition is not None
        start = len(self.unknowns)
        enabled = self._evaluate(self.transition.enabled_name, self.t_args, self.shared, self.banks[index])
        guard = [to_z3(enabled.result, Bool()), *(c for _, c in enabled.assertions)]
        domains = [c for p, a in zip(self.transition.params, self.t_args, strict=True)
                   for c in domain(a, p.ty)]  # type: ignore[arg-type]
        oracle = _PathOracle([*domains, *guard], self._hypotheses(own=True))
        step = self._evaluate(self.transition.body_name, self.t_args, self.shared, self.banks[index], oracle)
        unknowns = self.unknowns[start:]
        del self.unknowns[start:]
        return EvaluatedStep(guard, step.globals, [c for _, c in step.assertions],
                             _written_ids(step.accesses), unknowns, frozenset(oracle.used))

    # ---- the queries ------------------------------------------------------------------

    def _solver(self, timeout_s: float, assumed: frozenset[str] | None = None, seed: int = 0) -> z3.Solver:
        """A solver holding the case's constraints, the step's guard and the hypotheses of the
        invariants `assumed` (all of them when None)."""
        solver = _tactic(seed).solver()
        solver.set("timeout", int(timeout_s * 1000))
        solver.add(*self.constraints)
        for name, terms in self.held.items():
            if assumed is None or name in assumed:
                solver.add(*terms)
        if assumed is not None:
            solver.add(*self.own)
        solver.add(*self.guard)
        return solver

    def premise(self, timeout_s: float) -> tuple[str, str, Counterexample | None]:
        """Whether the case's hypotheses and the step's guard can hold together (PROVED when they
        can): were they unsatisfiable, every goal would follow from them."""
        terms = [*self.constraints, *self.invariant_hypotheses, *self.guard]
        answer, reason = self.model.known_models.satisfiable(terms, timeout_s)
        if answer == z3.unsat:
            return VACUOUS, "the hypotheses (invariants, preconditions, type ranges) cannot hold together", \
                None
        if answer == z3.unknown:
            return UNKNOWN, f"solver: {reason}", None
        return PROVED, "", None

    def goals(self, name: str | None) -> tuple[list[z3.BoolRef], list[SymValue]]:
        if name is None:
            return self.assertions, []
        inv = self.model.invariant(name)
        args = self.invariant_args(inv)
        bank = self.after_banks[self._bank_of(args[inv.pe_index])] if inv.pe_index is not None \
            else self.after_banks[0]
        check = self._evaluate(name, args, self.after_shared, bank)
        return [to_z3(check.result, Bool()), *(c for _, c in check.assertions)], args  # type: ignore[list-item]

    def alias_cases(self, name: str | None, args: list[SymValue]) -> list[list[z3.BoolRef]]:
        """The cases of an obligation by aliasing: each of the invariant's own ids either is one
        the step names (an argument of its type, or the id part of a map key it writes, such as
        the running vCPU `HTPIDR<7:0>` of a guest's step) or differs from all of them. Split
        this way, each case's maps are read at keys the solver can tell equal or apart at once
        (after `KVM.RunVcpu(v)`, vCPU `w` is either `v`, and sees what was loaded, or another
        vCPU, untouched): it decides in a fraction of a second what it could not within a minute
        as one query."""
        if name is None or self.transition is None:
            return [[]]
        return self.aliasing(self.model.invariant(name), args)

    def aliasing(self, inv: Step, args: list[SymValue], skip: int | None = None) -> list[list[z3.BoolRef]]:
        """`alias_cases` for any step's arguments (an invariant's, or an observation's, whose
        secret, at `skip`, is not an id of the step's)."""
        assert self.transition is not None
        named: dict[str, list[z3.ExprRef]] = {}
        for index, (param, arg) in enumerate(zip(self.transition.params, self.t_args, strict=True)):
            if index != self.transition.pe_index:
                named.setdefault(str(param.ty), []).append(arg)  # type: ignore[arg-type]
        choices: list[list[list[z3.BoolRef]]] = []
        for index, (param, arg) in enumerate(zip(inv.params, args, strict=True)):
            if index in (inv.pe_index, skip) or not isinstance(arg, z3.ExprRef):
                continue
            same = list(named.get(str(param.ty), []))
            width = arg.size()  # type: ignore[union-attr]
            same += [k for k in self.written_ids if k.size() == width  # type: ignore[attr-defined]
                     and not any(z3.eq(k, known) for known in same)]
            if not same:
                continue
            options = [[arg == other] for other in same]  # type: ignore[operator]
            options.append([arg != other for other in same])  # type: ignore[operator]
            choices.append(options)
        return [[c for part in combination for c in part] for combination in product(*choices)]

    def check(self, name: str | None, timeout_s: float) -> tuple[str, str, Counterexample | None]:
        goals, args = self.goals(name)
        if not goals:
            return PROVED, "", None
        if name is not None and self._is_hypothesis(name, goals):
            return PROVED, UNCHANGED, None
        assumed = self.model.invariant(name).assumed if name is not None else None
        undecided = None
        for case in self.alias_cases(name, args):
            for seed, share in enumerate(ATTEMPTS):
                solver = self._solver(timeout_s * share, assumed, seed)
                solver.add(*_same_location(self.unknowns), *case)
                if assumed is not None:
                    solver.add(*self.assertions)
                solver.add(z3.Not(z3.And(*goals)))
                answer = solver.check()
                if answer != z3.unknown:
                    break
            if answer == z3.unsat:
                continue
            if answer == z3.unknown:
                undecided = undecided or (UNKNOWN, f"solver: {solver.reason_unknown()}", None)
                continue
            cex = _replay(self, name, args, solver.model())
            if not cex.replayed:
                undecided = (UNKNOWN, "the concrete replay did not confirm the solver's counterexample", cex)
                continue
            return REFUTED, self._unassumed_broken(assumed, solver.model()), cex
        return undecided or (PROVED, "", None)

    def _is_hypothesis(self, name: str, goals: list[z3.BoolRef]) -> bool:
        """Whether every goal is, term for term, one of the invariant's own hypotheses (which
        every obligation of it assumes). So it is when the step leaves unchanged all the invariant
        reads at the goal's instance: evaluated over the same terms, the invariant gives the same
        term after the step as before it (Z3 shares equal terms), and the goal needs no query."""
        assumed = {term.get_id() for term in self.held.get(name, [])}  # none in the initial state
        return all(goal.get_id() in assumed for goal in goals)

    def _unassumed_broken(self, assumed: frozenset[str] | None, model: z3.ModelRef) -> str:
        """For a counterexample found under an `assuming` list: the invariants left out of it that
        the state before the step breaks, which, if that state is unreachable, are the ones to
        add."""
        if assumed is None:
            return ""
        broken = [name for name, terms in self.held.items() if name not in assumed
                  and not all(z3.is_true(model.eval(t, model_completion=True)) for t in terms)]
        if not broken:
            return "(the state before the step keeps every invariant at the ids of the query)"
        return f"(the state before the step breaks {', '.join(broken)}, which the assuming list leaves out)"


class _PathOracle:
    """Which of a step's paths the hypotheses rule out. A path condition that cannot hold
    together with them is dropped while the step is evaluated, so the state after the step has no
    arm for it: sound, since the obligation assumes the hypotheses, and the terms left are the
    ones the proof is about (the HVC that enters the lowvisor from the host, say, without the
    guest-exit path the vector would take if VTTBR held a guest's VMID). A query the solver does
    not answer quickly keeps the path. A path one of the last few satisfying states already
    takes is kept without asking (the solver is asked about half the paths).

    The invariants' hypotheses are tracked by invariant, and `used` gathers those a ruled-out
    path needed (from the solver's unsat cores): an obligation that assumes only some invariants
    (`assuming`) must still assume these, or its counterexample could take a path the evaluated
    step does not have."""

    MODELS = 8

    def __init__(self, assumptions: list[z3.BoolRef], tracked: dict[str, list[z3.BoolRef]],
                 timeout_ms: int = 2000) -> None:
        self.solver = z3.Solver()
        self.solver.set("timeout", timeout_ms)
        self.solver.add(*assumptions)
        self.labels: dict[str, str] = {}
        for name, terms in tracked.items():
            label = z3.Bool(f"oracle:{name}")
            self.solver.add(z3.Implies(label, z3.And(*terms)))
            self.labels[str(label)] = name
        self.used: set[str] = set()
        # By node id, holding the node: an id is only unique while its node is alive.
        self.cache: dict[int, tuple[z3.BoolRef, bool]] = {}
        self.models: list[z3.ModelRef] = []

    def __call__(self, guard: z3.BoolRef) -> bool:
        key = guard.get_id()
        if key not in self.cache:
            self.cache[key] = (guard, self._ruled_out(guard))
        return self.cache[key][1]

    def _ruled_out(self, guard: z3.BoolRef) -> bool:
        if any(z3.is_true(m.eval(guard, model_completion=True)) for m in self.models):
            return False
        self.solver.push()
        self.solver.add(guard)
        answer = self.solver.check(*(z3.Bool(label) for label in self.labels))
        if answer == z3.sat:
            self.models = [self.solver.model(), *self.models[: self.MODELS - 1]]
        elif answer == z3.unsat:
            self.used |= {self.labels[str(label)] for label in self.solver.unsat_core()}
        self.solver.pop()
        return answer == z3.unsat


# The shares of an obligation's time its query gets, one try per share, each with the next random
# seed: the solver's time on the memory queries is heavy-tailed (one obligation took 10 s with one
# seed and no answer in 120 s with another), and a few shorter tries with other seeds settle what
# one long try may not. An answer, proved or refuted, is final; only `unknown` is tried again.
ATTEMPTS = (0.5, 0.25, 0.25)


def _written_ids(accesses: list[MemoryAccess]) -> list[z3.ExprRef]:
    """The symbolic parts of the keys a step writes maps under (`v` of `KVM_VcpuCtx[v : i]`),
    each once."""
    found: list[z3.ExprRef] = []
    for access in accesses:
        if not access.write:
            continue
        for part in key_terms(access.key):
            if not z3.is_bv_value(part) and not any(z3.eq(part, known) for known in found):
                found.append(part)
    return found


def _tactic(seed: int = 0) -> z3.Tactic:
    """How a model obligation is solved. Most of a query is equations between the state before a
    step and after it (and between a saved context and its ghost): substituting them away first
    (`solve-eqs`, after constant propagation) leaves the SMT core a far smaller problem; without
    it Z3 times out on the world switch. `seed` is the SMT core's random seed (see `ATTEMPTS`)."""
    core = z3.With("smt", random_seed=seed)
    return z3.Then("simplify", "propagate-values", "solve-eqs", "elim-uncnstr", core)


def _same_location(unknowns: list[tuple[str, z3.ExprRef]]) -> list[z3.BoolRef]:
    """One value per UNKNOWN location, as the concrete oracle gives."""
    first: dict[str, z3.ExprRef] = {}
    equal = []
    for loc, const in unknowns:
        if loc in first:
            if not z3.eq(first[loc], const):
                equal.append(first[loc] == const)
        else:
            first[loc] = const
    return equal


# ---- replay -----------------------------------------------------------------------------


def _replay(world: _World, name: str | None, i_args_terms: list[SymValue],
            model: z3.ModelRef) -> Counterexample:
    """Run the obligation's step on the solver's state with the compiled model."""
    m = world.model
    pe_values = [model_value(model, pe, m.pe_type) for pe in world.pes]
    machine, maps = load_machine(world, model, world.shared, world.banks)
    state = machine.state
    before = {pe: dict(machine.bank(pe)) for pe in pe_values}
    shared_before = {n: getattr(state, n) for n in m.shared if not isinstance(getattr(state, n), dict)}
    t = world.transition
    t_args = [model_value(model, a, p.ty) for a, p in zip(world.t_args, t.params, strict=True)] if t else []
    inv = m.invariant(name) if name else None
    i_args = [model_value(model, a, p.ty) for a, p in zip(i_args_terms, inv.params, strict=True)] \
        if inv else []
    outcome, confirmed = _run(world, name, machine, t_args, i_args)
    params = {}
    for step, args in ((t, t_args), (inv, i_args)):
        if step is not None:
            for p, a in zip(step.params, args, strict=True):
                shown = m.spec.decode(a, p.ty) if isinstance(p.ty, Enum) else show_value(a)
                params[f"{step.name}.{p.name}"] = shown
    banks = {pe: {n: v for n, v in regs.items() if isinstance(v, int) and not isinstance(v, bool) and v}
             for pe, regs in before.items()}
    shared: dict[str, Any] = {n: v for n, v in shared_before.items() if v}
    for label, recorded in maps.items():
        if recorded.read:
            shared[label] = dict(recorded.read)
    return Counterexample(params, banks, shared, dict(state.oracle.chosen), confirmed, outcome)


def load_machine(world: _World, model: z3.ModelRef, shared: dict[str, SymValue],
                 banks: list[dict[str, SymValue]]) -> tuple[Machine, dict[str, RecordingMap]]:
    """A machine in the solver's state (`shared` and the PE banks, as terms of the query), with
    its UNKNOWNs resolved as the solver resolved them; the maps record what is read of them."""
    m = world.model
    pe_values = [model_value(model, pe, m.pe_type) for pe in world.pes]
    machine = Machine.with_oracle(m, max(pe_values, default=0) + 1,
                                  Oracle(0, overrides=_unknown_values(model, world.unknowns)))
    state = machine.state
    maps: dict[str, RecordingMap] = {}
    for n in m.shared:
        setattr(state, n, _concrete(model, shared[n], world._ty(n), maps, n))
    for pe, bank in zip(pe_values, banks, strict=True):
        values = {n: _concrete(model, bank[n], world._ty(n), maps, f"{n}@PE{pe}") for n in m.banked}
        machine.banks[pe].update(values)
        if machine.loaded == pe:
            for n, value in values.items():
                setattr(state, n, value)
    return machine, maps


def _run(world: _World, name: str | None, machine: Machine, t_args: list[Any],
         i_args: list[Any]) -> tuple[str, bool]:
    if world.transition is None:
        holds = machine.holds(name, *i_args)  # type: ignore[arg-type]
        return f"{name} is {str(holds).upper()} initially", not holds
    try:
        machine.run(world.transition.name, *t_args)
    except SpecAssertionError as err:
        return f"{world.transition.name} stops at an assert: {err}", name is None
    if name is None:
        return f"{world.transition.name} completes with every assert holding", False
    holds = machine.holds(name, *i_args)
    return f"{name} is {str(holds).upper()} after {world.transition.name}", not holds


def _concrete(model: z3.ModelRef, term: SymValue, ty: Type, maps: dict[str, RecordingMap], label: str) -> Any:
    if isinstance(ty, Map):
        recorded = RecordingMap({}, fill=map_reader(model, term, ty))
        maps[label] = recorded
        return recorded
    return model_value(model, term, ty)


def _unknown_values(model: z3.ModelRef, unknowns: list[tuple[str, z3.ExprRef]]) -> dict[str, int]:
    values = {}
    for loc, const in unknowns:
        value = model.eval(const, model_completion=True)
        values[loc] = int(z3.is_true(value)) if z3.is_bool(value) else value.as_long()  # type: ignore[attr-defined]
    return values


def show_value(value: Any) -> str:
    """A value as a counterexample shows it: hexadecimal above 9, booleans in capitals."""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int):
        return f"{value:#x}" if value > 9 else str(value)
    return str(value)
