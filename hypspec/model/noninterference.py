"""Prove that what observers see does not depend on a secret: two copies of the model in one query.

A model states it with `observation` declarations (what an observer may see of a state),
`declassified` ones (what every observer is told by design) and at most one `secret` predicate
(whether the step a PE takes is the secret's own), each naming the secret first (in KVM/ARM, the
VM whose context is secret). Two states are *indistinguishable* when every observation is equal
in both, at every value of its other parameters. The proof is by induction over pairs of states,
one obligation per observation and transition, each in two cases:

- both copies take the step, with the same arguments: if both states satisfy every invariant,
  every observation and every declassified value is equal in the two, and the step leaves the
  declassified values equal, then the observation is still equal after it;
- copy one takes the step and copy two waits, because the step's guard fails there or because
  the step is the secret's own (which may be anything in the other run): the same, with copy
  two's state unchanged.

Since the pairs are any two indistinguishable states, this covers runs that did anything inside
the secret, not only runs that differ in its first values. The mirror of the second case (copy
two acts alone) is the same query with the copies' names swapped: every hypothesis is symmetric.

As in `hypspec.model.induction`, hypotheses are used at instances, never quantified: the
observations and declassified values are assumed equal at the values built from the step's
arguments, the ids it writes under and the goal's own, which is sound (fewer hypotheses) and makes
a step that needs more fail with a counterexample, replayed on two concrete machines. A narrow
bit-string parameter (a word index) is used at every value, so a goal is one conjunction over
the words.

The second copy is the first with every state variable renamed (Z3's substitution), so the step is
evaluated once: its terms, its path pruning and its UNKNOWNs (resolved alike in both runs, as
one implementation would) carry over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import z3

from hypspec.concrete.runtime import SpecAssertionError
from hypspec.lang.types import Bits, Bool, Enum, Type
from hypspec.model.induction import (
    InvariantResult,
    Obligation,
    ObligationResult,
    _same_location,
    _tactic,
    _World,
    load_machine,
    show_value,
    summarise,
)
from hypspec.model.program import Model, Step
from hypspec.proof.prover import PROVED, REFUTED, UNKNOWN, VACUOUS
from hypspec.symbolic.evaluator import SymValue, domain, fresh, to_z3
from hypspec.symbolic.model import model_value

NONINTERFERENCE = "noninterference"
# What a proved obligation's detail says when each of its goals is one of its hypotheses.
UNCHANGED = "the step leaves what the observation reads unchanged in both runs: each goal is a hypothesis"
ENUMERATED_WIDTH = 7
# How long a tier of hypotheses is given to settle a goal before the next, larger one is tried,
# and to settle every goal together (when that is quick, it saves a query per word).
TIER_S = 2.0
TOGETHER_S = 0.5
# How long a goal is given, with every word's equalities, to name the words it needs.
WORDS_S = 20.0
# How many goals a tier is tried on before, having settled none, it is passed over.
TIER_TRIAL = 4
# An invariant's hypothesis this small (in distinct terms) is bookkeeping (which vCPU runs where),
# which most goals need; the round trips, which relate every context word, are ten times larger.
SMALL_NODES = 500

Part = tuple[z3.BoolRef, list[z3.BoolRef]]  # a goal and the hypotheses about its own word


def obligations(model: Model, observations: list[str] | None = None) -> list[Obligation]:
    chosen = [o.name for o in model.observations if observations is None or o.name in observations]
    return [Obligation(NONINTERFERENCE, o, t.name) for t in model.transitions for o in chosen]


@dataclass
class PairCounterexample:
    """Two states, indistinguishable before the step, that the step makes an observer tell apart,
    replayed on two machines."""

    params: dict[str, str]
    acts_in_both: bool
    observed: tuple[Any, Any]  # the observation in each run after the step
    differing: dict[str, tuple[Any, Any]]  # state the replays read, where the runs differ
    replayed: bool
    outcome: str

    def render(self, spec: object = None) -> str:
        lines = ["  arguments:"]
        lines += [f"    {name} = {value}" for name, value in self.params.items()]
        acts = "both runs" if self.acts_in_both else "run 1 only (run 2 waits)"
        lines.append(f"  the step acts in {acts}")
        if self.differing:
            lines.append("  where the two runs differ before the step (run 1 / run 2):")
            lines += [f"    {name}: {show_value(a)} / {show_value(b)}"
                      for name, (a, b) in sorted(self.differing.items())]
        one, two = self.observed
        lines.append(f"  observed after the step: {show_value(one)} / {show_value(two)}")
        verdict = "confirmed" if self.replayed else "NOT confirmed (the replay disagrees!)"
        lines.append(f"  concrete replay: {self.outcome}: {verdict}")
        return "\n".join(lines)


@dataclass
class _Copy:
    """One run's terms: the state before the step (its state after is copy one's, renamed, read
    only through the observations), and its hypotheses."""

    shared: dict[str, SymValue]
    banks: list[dict[str, SymValue]]
    hypotheses: list[z3.BoolRef]
    guard: list[z3.BoolRef]


@dataclass
class _Pair:
    """Both copies of one PE case of a transition's obligations."""

    world: _World
    secret: SymValue
    one: _Copy
    two: _Copy
    renaming: list[tuple[z3.ExprRef, z3.ExprRef]]
    constraints: list[z3.BoolRef] = field(default_factory=list)
    # The renaming as the C API takes it, built once: `z3.substitute` re-checks every pair's sorts
    # on each call, which cost more than the solver on the cheaper steps.
    _sources: Any = None
    _targets: Any = None
    # Every observation's obligation of the case assumes the same equalities before the step, by
    # the word they are about (`_agree_before`): built once.
    before: dict[int | None, list[z3.BoolRef]] | None = None
    small: list[z3.BoolRef] | None = None  # `_small_hypotheses`
    # The words whose equalities some goal of the pair needed (`_settle_by_words`).
    needed_words: set[int] = field(default_factory=set)

    def rename(self, value: SymValue) -> SymValue:
        """`value` over copy one, made over copy two."""
        return self._substitute(value, backwards=False)

    def merge(self, value: SymValue) -> SymValue:
        """`value` over either copy, made over copy one: what it is when the copies are equal."""
        return self._substitute(value, backwards=True)

    def _substitute(self, value: SymValue, backwards: bool) -> SymValue:
        if isinstance(value, tuple):
            return tuple(self._substitute(v, backwards) for v in value)
        if isinstance(value, z3.ExprRef):
            count = len(self.renaming)
            if self._sources is None:
                self._sources, self._targets = (z3.Ast * count)(), (z3.Ast * count)()
                for k, (source, target) in enumerate(self.renaming):
                    self._sources[k], self._targets[k] = source.as_ast(), target.as_ast()
            sources, targets = (self._targets, self._sources) if backwards else (self._sources, self._targets)
            ctx = value.ctx
            term = z3.Z3_substitute(ctx.ref(), value.as_ast(), count, sources, targets)
            return z3.z3._to_expr_ref(term, ctx)
        return value


def discharge_noninterference(model: Model, transition: str, observations: list[str] | None = None,
                              timeout_s: float = 20.0,
                              stop_at_refutation: bool = False) -> list[ObligationResult]:
    """The noninterference obligations of one transition, for the named observations (all by
    default)."""
    names = [o.name for o in model.observations if observations is None or o.name in observations]
    results: dict[str, ObligationResult] = {}
    timings = dict.fromkeys(names, 0.0)
    for same_pe in (True, False):
        start = time.perf_counter()
        world = _World(model, transition, same_pe, False)
        if not same_pe and not world.pes_differ:
            continue
        pair = _pair(world)
        shared_cost = (time.perf_counter() - start) / max(len(names), 1)
        for name in names:
            if name in results and results[name].status != PROVED:
                continue
            step = model.observation(name)
            if not same_pe and step.pe_index is None:
                continue
            start = time.perf_counter()
            status, detail, cex = _check(pair, step, timeout_s)
            timings[name] += shared_cost + time.perf_counter() - start
            ob = Obligation(NONINTERFERENCE, name, transition)
            results[name] = ObligationResult(ob, status, timings[name], detail, cex)  # type: ignore[arg-type]
            if stop_at_refutation and status == REFUTED:
                return [results[name]]
    return [results[n] for n in names]


def prove_observation(model: Model, name: str, timeout_s: float = 20.0,
                      stop_at_refutation: bool = False) -> InvariantResult:
    """One observation's obligations, one per transition, summarised."""
    results: list[ObligationResult] = []
    for step in model.transitions:
        results += discharge_noninterference(model, step.name, [name], timeout_s, stop_at_refutation)
        if stop_at_refutation and results[-1].status == REFUTED:
            break
    return summarise(name, results)


# ---- building the pair ------------------------------------------------------------------


def _pair(world: _World) -> _Pair:
    model = world.model
    assert model.secret_type is not None
    secret = fresh("NI.secret", model.secret_type)
    constraints = list(domain(secret, model.secret_type))
    for step in [*model.observations, *model.declassified]:
        constraints += _canonical(world, step)
    renaming: list[tuple[z3.ExprRef, z3.ExprRef]] = []
    shared2 = {n: _renamed(world.shared[n], f"{n}''", world._ty(n), renaming) for n in model.shared}
    banks2 = [{n: _renamed(bank[n], f"{n}@pe{k}''", world._ty(n), renaming) for n in model.banked}
              for k, bank in enumerate(world.banks)]
    one = _Copy(world.shared, world.banks, world.invariant_hypotheses, world.guard)
    pair = _Pair(world, secret, one, one, renaming, constraints)
    pair.constraints += [pair.rename(c) for c in world.pe_numbers]  # type: ignore[misc]
    pair.two = _Copy(shared2, banks2,
                     [pair.rename(h) for h in world.invariant_hypotheses],  # type: ignore[misc]
                     [pair.rename(g) for g in world.guard])  # type: ignore[misc]
    return pair


def _renamed(value: SymValue, name: str, ty: Type, renaming: list[tuple[z3.ExprRef, z3.ExprRef]]) -> SymValue:
    """A fresh copy of a state variable, noting each leaf's renaming."""
    copy = fresh(name, ty)
    _leaves(value, copy, renaming)
    return copy


def _leaves(one: SymValue, two: SymValue, out: list[tuple[z3.ExprRef, z3.ExprRef]]) -> None:
    if isinstance(one, tuple):
        for a, b in zip(one, two, strict=True):  # type: ignore[arg-type]
            _leaves(a, b, out)
    elif isinstance(one, z3.ExprRef):
        out.append((one, two))  # type: ignore[arg-type]


def _canonical(world: _World, step: Step) -> list[z3.BoolRef]:
    """The goal's values for an observation's parameters (beyond the secret, the PE and the
    enumerated ones): the invariants' canonical values where the types meet, so the invariants
    are assumed at them."""
    skip = {0, step.pe_index, *(i for i, p in enumerate(step.params) if _enumerated(p.ty))}
    return world.add_canonical(step.params, skip)


def _goal_args(pair: _Pair, step: Step) -> list[list[SymValue]]:
    """The goal's instances: the secret, the case's invariant PE, the canonical value of each id
    parameter, and every value of a narrow one (a word index), so the goal is one conjunction."""
    taken: dict[str, int] = {}
    choices: list[list[SymValue]] = [[pair.secret]]
    for index, param in enumerate(step.params):
        if index == 0:
            continue
        if index == step.pe_index:
            choices.append([pair.world.i_pe])
        elif _enumerated(param.ty):
            choices.append(_every(param.ty))
        else:
            key = str(param.ty)
            choices.append([pair.world.canonical[key][taken.get(key, 0)]])
            taken[key] = taken.get(key, 0) + 1
    return [list(c) for c in product(*choices)]


def _enumerated(ty: Type | None) -> bool:
    """A narrow bit string (a word index) or an enumeration (a system register) is used at every
    value, in hypotheses and goals alike: a step reads many words, and a goal over a symbolic
    index is a case split the solver cannot take apart (every word of both copies in one term)."""
    return isinstance(ty, Enum) or (isinstance(ty, Bits) and ty.width <= ENUMERATED_WIDTH)


def _every(ty: Type | None) -> list[int]:
    if isinstance(ty, Enum):
        return list(range(len(ty.members)))
    assert isinstance(ty, Bits)
    return list(range(1 << ty.width))


def _instances(pair: _Pair, step: Step) -> list[list[SymValue]]:
    """An observation's hypothesis instances: the secret, every PE of the case, and every value of
    each parameter's type among the transition's arguments and the canonical ones."""
    world = pair.world
    pool: list[tuple[str, SymValue]] = []
    assert world.transition is not None
    for index, (param, arg) in enumerate(zip(world.transition.params, world.t_args, strict=True)):
        if index != world.transition.pe_index:
            pool.append((str(param.ty), arg))
    for key, values in world.canonical.items():
        pool += [(key, v) for v in values if not any(v is known for _, known in pool)]
    # and the ids the step writes under (the running vCPU of a guest's step, `HTPIDR<7:0>`)
    widths = {key: values[0].size() for key, values in world.canonical.items()  # type: ignore[union-attr]
              if values and isinstance(values[0], z3.BitVecRef)}
    pool += [(key, k) for k in world.written_ids for key, width in widths.items() if k.size() == width]
    choices: list[list[SymValue]] = [[pair.secret]]
    for index, param in enumerate(step.params):
        if index == 0:
            continue
        if index == step.pe_index:
            choices.append(list(world.pes))
        elif _enumerated(param.ty):
            choices.append(_every(param.ty))
        else:
            choices.append([a for key, a in pool if key == str(param.ty)])
    return [list(c) for c in product(*choices)]


def _observe(pair: _Pair, step: Step, args: list[SymValue],
             after: bool) -> tuple[z3.ExprRef, list[z3.BoolRef]]:
    """The observation in copy one (before or after the step) and the asserts it reaches."""
    world = pair.world
    index = world._bank_of(args[step.pe_index]) if step.pe_index is not None else 0
    key = ("observed", step.name, tuple(str(a) for a in args), index)
    cache = world.model.hypothesis_cache
    if after or key not in cache:
        shared = world.after_shared if after else world.shared
        bank = (world.after_banks if after else world.banks)[index]
        evaluation = world._evaluate(step.name, args, shared, bank)
        found = (to_z3(evaluation.result, step.decl.result_ty), [c for _, c in evaluation.assertions])  # type: ignore[arg-type]
        if after:
            return found
        cache[key] = (found, evaluation.unknowns)
    found, unknowns = cache[key]
    world.unknowns.extend(unknowns)
    return found


def _equal(pair: _Pair, step: Step, args: list[SymValue], after: bool,
           second_acts: bool = True) -> tuple[z3.BoolRef, list[z3.BoolRef]]:
    """The observation equal in both copies, and the asserts it reaches in each. Copy two's value is
    copy one's renamed; after a step that copy two does not take, it is its value before."""
    one, asserts = _observe(pair, step, args, after)
    if after and not second_acts:
        before, before_asserts = _observe(pair, step, args, False)
        two, asserts_two = pair.rename(before), [pair.rename(a) for a in before_asserts]
    else:
        two, asserts_two = pair.rename(one), [pair.rename(a) for a in asserts]
    return one == two, [*asserts, *asserts_two]  # type: ignore[return-value]


# ---- the queries ------------------------------------------------------------------------


def _check(pair: _Pair, step: Step, timeout_s: float) -> tuple[str, str, PairCounterexample | None]:
    world, model = pair.world, pair.world.model
    before = _agree_before(pair)
    instances = _goal_args(pair, step)
    undecided: tuple[str, str, PairCounterexample | None] | None = None
    unchanged = True
    for second_acts in (True, False):
        declassified: list[z3.BoolRef] = []
        for observed in model.declassified:
            for args in _instances(pair, observed):
                equal, asserts = _equal(pair, observed, args, after=True, second_acts=second_acts)
                declassified += [equal, *asserts]
        goals = [_equal(pair, step, args, after=True, second_acts=second_acts) for args in instances]
        # Copy two waits: its guard fails, or the step is the secret's own (which may do anything,
        # or nothing, in the other run).
        two_guard = pair.two.guard if second_acts else \
            [z3.Or(z3.Not(z3.And(*pair.two.guard)), _secret_acts(pair))]
        base = [*world.constraints, *pair.constraints, *_same_location(world.unknowns), *before.get(None, []),
                *pair.one.guard, *two_guard, *declassified, *(a for _, asserts in goals for a in asserts)]
        small = _small_hypotheses(pair)
        words = {word: terms for word, terms in before.items() if word is not None}
        tiers = [base, [*base, *small]]
        every_word = [c for terms in words.values() for c in terms]
        premise = [*base, *pair.one.hypotheses, *pair.two.hypotheses, *every_word]
        if second_acts:
            status = _satisfiable(pair, premise, timeout_s)
            if status is not None:
                return status
        # A goal that is, term for term, an equality the premise assumes before the step (the
        # step left all the observation reads there unchanged, in both runs) needs no query.
        assumed = {term.get_id() for term in [*before.get(None, []), *every_word]}
        open_goals = [(args, equal) for args, (equal, _) in zip(instances, goals, strict=True)
                      if equal.get_id() not in assumed]
        unchanged = unchanged and not open_goals
        if not open_goals:
            continue
        for case in world.aliasing(step, instances[0], skip=0):
            parts = [(equal, before.get(_word(step, args), [])) for args, equal in open_goals]
            answer, found = _decide(pair, [[*tier, *case] for tier in tiers], words, [*premise, *case], parts,
                                    timeout_s)
            if answer == z3.unknown:
                undecided = undecided or (UNKNOWN, "solver: timeout", None)
            if found is None:
                continue
            failing = next(args for args, equal in open_goals
                           if z3.is_false(found.eval(equal, model_completion=True)))
            cex = _replay(pair, step, failing, second_acts, found)
            if not cex.replayed:
                undecided = (UNKNOWN, "the concrete replay did not confirm the solver's counterexample", cex)
                continue
            return REFUTED, "", cex
    return undecided or (PROVED, UNCHANGED if unchanged else "", None)


def _agree_before(pair: _Pair) -> dict[int | None, list[z3.BoolRef]]:
    """The hypotheses that the observations and declassified values agree before the step, by the
    word they are about (None for one without a word index): a goal about one word is first asked
    with only its own word's (`_decide`)."""
    if pair.before is None:
        pair.before = {}
        for observed in [*pair.world.model.observations, *pair.world.model.declassified]:
            for args in _instances(pair, observed):
                equal, asserts = _equal(pair, observed, args, after=False)
                pair.before.setdefault(_word(observed, args), []).extend([equal, *asserts])
    return pair.before


def _word(step: Step, args: list[SymValue]) -> int | None:
    """The word index an observation instance is about, if it has one."""
    for index, param in enumerate(step.params):
        if index != step.pe_index and _enumerated(param.ty) and isinstance(args[index], int):
            return args[index]  # type: ignore[return-value]
    return None


def _secret_acts(pair: _Pair) -> z3.BoolRef:
    """Whether, in copy one, the step is the secret's own (the model's `secret` predicate at the
    step's PE); false when the model declares none or the step runs on no PE."""
    world = pair.world
    if not world.model.secrets or world.t_pe is None:
        return z3.BoolVal(False)
    step = world.model.secrets[0]
    bank = world.banks[world._bank_of(world.t_pe)]
    check = world._evaluate(step.name, [pair.secret, world.t_pe], world.shared, bank)
    return to_z3(check.result, Bool())  # type: ignore[return-value]


def _decide(pair: _Pair, tiers: list[list[z3.BoolRef]], words: dict[int, list[z3.BoolRef]],
            premise: list[z3.BoolRef], parts: list[Part],
            timeout_s: float) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """Whether every goal follows from the premise: unsat (they do), sat with a model where one
    fails, or unknown. Each part is a goal and the hypotheses about its own word. Most goals
    follow from far less than the premise: the step and the equalities before it about the same
    word, without the invariants, or with only the small ones, or with those and the equalities
    of a few other words (the control words the step's path depends on, such as the guest's
    CPSR) but not the round trips. So the goals are first asked all together of the smallest
    tier, briefly, then one by one of each tier in turn (`_settle`), then of the word tier
    (`_settle_by_words`), and only those none settles are asked of the whole premise. Dropping
    hypotheses is sound, and a counterexample always comes from the whole premise."""
    relevant = [h for _, own in parts for h in own]
    answer, _ = _ask([*tiers[0], *relevant], z3.And(*(goal for goal, _ in parts)), TOGETHER_S, plain=True)
    if answer == z3.unsat:
        return z3.unsat, None
    open_parts = list(parts)
    for tier in tiers:
        open_parts = _settle(tier, open_parts)
    open_parts = _settle_by_words(pair, tiers[-1], words, open_parts)
    result = z3.unsat
    for goal, _ in open_parts:
        answer, found = _ask(premise, goal, timeout_s)
        if answer == z3.sat:
            return answer, found
        if answer == z3.unknown:
            result = z3.unknown
    return result, None


def _settle(tier: list[z3.BoolRef], parts: list[Part]) -> list[Part]:
    """The parts a tier does not settle, each asked on its own (a disjunction of several goals
    is far harder than the goals one by one) of one incremental solver holding the tier. A tier
    that settles none of the first few goals is not asked about the rest: a goal it cannot settle
    costs a satisfying model of two runs."""
    solver = _solver(TIER_S, tier, plain=True)
    left, settled = [], 0
    for index, (goal, own) in enumerate(parts):
        if index >= TIER_TRIAL and not settled:
            return left + parts[index:]
        if _refuted_negation(solver, [*own, z3.Not(goal)]):
            settled += 1
        else:
            left.append((goal, own))
    return left


def _settle_by_words(pair: _Pair, tier: list[z3.BoolRef], words: dict[int, list[z3.BoolRef]],
                     parts: list[Part]) -> list[Part]:
    """The parts the tier does not settle with the equalities of the words the pair's goals have
    needed so far. A goal that needs more is asked once with every word's equalities, each behind
    an assumption: the unsatisfiable core names the words it needs, which join the tier for the
    rest of the pair's goals."""
    left = []
    solver: z3.Solver | None = None
    for goal, own in parts:
        if solver is None:
            needed = [h for word in sorted(pair.needed_words) for h in words[word]]
            solver = _solver(TIER_S, [*tier, *needed], plain=True)
        if _refuted_negation(solver, [*own, z3.Not(goal)]):
            continue
        more = _needed_words(tier, words, own, goal)
        if more is None:
            left.append((goal, own))
        else:
            pair.needed_words |= more
            solver = None
    return left


def _refuted_negation(solver: z3.Solver, negation: list[z3.BoolRef]) -> bool:
    """Whether the solver's assertions rule out `negation`, asked in a scope of its own so that the
    solver serves the next goal."""
    solver.push()
    solver.add(*negation)
    answer = solver.check()
    solver.pop()
    return answer == z3.unsat


def _needed_words(tier: list[z3.BoolRef], words: dict[int, list[z3.BoolRef]], own: list[z3.BoolRef],
                  goal: z3.BoolRef) -> set[int] | None:
    """The words whose equalities, with the tier's, settle the goal; None if all of them do not."""
    solver = _solver(WORDS_S, [*tier, *own, z3.Not(goal)], plain=True)
    switches = {word: z3.Bool(f"NI.word{word}") for word in words}
    for word, switch in switches.items():
        solver.add(z3.Implies(switch, z3.And(*words[word])))
    if solver.check(*switches.values()) != z3.unsat:
        return None
    core = {literal.get_id() for literal in solver.unsat_core()}
    return {word for word, switch in switches.items() if switch.get_id() in core}


def _small_hypotheses(pair: _Pair) -> list[z3.BoolRef]:
    """The invariants' hypotheses in both copies that are small enough for the second tier."""
    if pair.small is None:
        pair.small = [h for h in [*pair.one.hypotheses, *pair.two.hypotheses] if _nodes(h) <= SMALL_NODES]
    return pair.small


def _nodes(term: z3.ExprRef) -> int:
    """The number of distinct terms in `term`."""
    seen: set[int] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        if node.get_id() not in seen:
            seen.add(node.get_id())
            stack.extend(node.children())
    return len(seen)


def _ask(premise: list[z3.BoolRef], goal: z3.BoolRef, timeout_s: float,
         plain: bool = False) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """Whether `goal` follows from `premise`, and a model where it fails. A `plain` query goes to
    Z3's SMT core set for arrays and bit vectors (`_solver`): on a tier's small premise it
    answers in a fifth of the time the preprocessing pipeline takes (`_tactic`), which pays off
    only on the whole premise."""
    solver = _solver(timeout_s, [*premise, z3.Not(goal)], plain)
    answer = solver.check()
    return answer, solver.model() if answer == z3.sat else None


def _satisfiable(pair: _Pair, premise: list[z3.BoolRef],
                 timeout_s: float) -> tuple[str, str, None] | None:
    """None when the hypotheses of the case where both copies act can hold together, else why not.
    Asked with the copies equal, which satisfies every equality between them (the step and its
    UNKNOWNs are the same in both), so the solver only has to find one run: as fast as the single
    copy's check, and a model of it is a model of the premise. For the same reason a model of
    the single copy's hypotheses that satisfies the premise merged into one copy settles it
    without a query."""
    model = pair.world.model
    # With the copies equal, a model of one copy's hypotheses may already be a model of both.
    if model.known_models.satisfying([pair.merge(term) for term in premise]) is not None:  # type: ignore[misc]
        return None
    same = [one == two for one, two in pair.renaming]
    answer, reason = model.known_pair_models.satisfiable([*premise, *same], timeout_s)
    if answer == z3.unsat:
        return VACUOUS, "the hypotheses (invariants in both runs, equal observations) cannot hold together", \
            None
    if answer == z3.unknown:
        return UNKNOWN, f"solver: {reason}", None
    return None


def _solver(timeout_s: float, assertions: list[z3.BoolRef], plain: bool = False) -> z3.Solver:
    # Told the logic, Z3's core settles a tier's goals in about half the time its default
    # configuration takes.
    solver = z3.SolverFor("QF_ABV") if plain else _tactic().solver()
    solver.set("timeout", int(timeout_s * 1000))
    solver.add(*assertions)
    return solver


# ---- replay -----------------------------------------------------------------------------


def _replay(pair: _Pair, step: Step, goal_args: list[SymValue], second_acts: bool,
            model: z3.ModelRef) -> PairCounterexample:
    """Run the step on two machines in the solver's two states and observe both."""
    world, m = pair.world, pair.world.model
    assert world.transition is not None
    transition = world.transition
    one, maps_one = load_machine(world, model, pair.one.shared, pair.one.banks)
    two, maps_two = load_machine(world, model, pair.two.shared, pair.two.banks)
    pes = [model_value(model, pe, m.pe_type) for pe in world.pes]
    differing = _differences(one, two, pes, m)
    t_args = [model_value(model, a, p.ty) for a, p in zip(world.t_args, transition.params, strict=True)]
    o_args = [a if isinstance(a, int) else model_value(model, a, p.ty)
              for a, p in zip(goal_args, step.params, strict=True)]
    try:
        one.run(transition.name, *t_args)
        if second_acts:
            two.run(transition.name, *t_args)
    except SpecAssertionError as err:
        return PairCounterexample({}, second_acts, (None, None), differing, False,
                                  f"{transition.name} stops at an assert: {err}")
    seen = (one.observe(step.name, *o_args), two.observe(step.name, *o_args))
    for label, recorded in maps_one.items():
        other = maps_two[label]
        for key in sorted({*recorded.read, *other.read}):
            a = recorded.read[key] if key in recorded.read else recorded.fill(key)
            b = other.read[key] if key in other.read else other.fill(key)
            if a != b:
                differing[f"{label}[{key:#x}]"] = (a, b)
    params = {}
    for owner, params_of, values in ((transition, transition.params, t_args), (step, step.params, o_args)):
        for p, a in zip(params_of, values, strict=True):
            params[f"{owner.name}.{p.name}"] = show_value(a)
    outcome = f"{step.name} is {'equal' if seen[0] == seen[1] else 'different'} in the two runs " \
              f"after {transition.name}"
    return PairCounterexample(params, second_acts, seen, differing, seen[0] != seen[1], outcome)


def _differences(one: Any, two: Any, pes: list[int], model: Model) -> dict[str, tuple[Any, Any]]:
    """Registers of the case's PEs and shared scalars that differ between the two machines."""
    found: dict[str, tuple[Any, Any]] = {}
    for pe in pes:
        a, b = one.bank(pe), two.bank(pe)
        for name in model.banked:
            if isinstance(a[name], int) and a[name] != b[name]:
                found[f"{name}@PE{pe}"] = (a[name], b[name])
    for name in model.shared:
        a, b = getattr(one.state, name), getattr(two.state, name)
        if isinstance(a, int) and a != b:
            found[name] = (a, b)
    return found
