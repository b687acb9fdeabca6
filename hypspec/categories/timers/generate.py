"""The `timers` vector category: scripts that program the generic timers and read them back.

Each vector is a script (`hypspec.categories.script.steps`), run after the file's prelude (the quiesce
steps, stored once in the meta record): Hyp-mode steps that set the access controls (CNTHCTL,
CNTKCTL) and CNTVOFF, then the steps of one *scenario* made from a guest mode (SVC or User) or
from Hyp mode, with what every read must return. The scenarios,
for the virtual timer (CNTV_*, PPI 27), the physical timer (CNTP_*, PPI 30) and the Hyp timer
(CNTHP_*, PPI 26, Hyp mode only):

- ``counter``: read CNTVCT (or CNTPCT): the count minus CNTVOFF, relative to the count;
- ``tval-write``: write TVAL, read CVAL back: the count (virtual count) plus the value;
- ``cval-write``: write CVAL, read TVAL (CVAL minus the count) and CVAL;
- ``istatus``: write CVAL and CTL, read CTL with its ISTATUS bit;
- ``ppi``: write CVAL and CTL, read GICD_ISPENDR0 from Hyp mode to see the timer's PPI
  pending (its level, wired by the board chapter), disable the timer, read it again;
- ``cntfrq``: read CNTFRQ.

**Expected values** come from the spec through `run_script`. The physical count at run time is
not known when the vectors are made; the file's meta states the window assumed for it
(`COUNT_WINDOW`: lo <= count < hi). Every read's expectation is derived by running the script
at several counts in the window: a value that does not change is exact; one that changes by
+1 or -1 per tick (modulo 2^32 or 2^64) is counter-relative; anything else is refused. Each
derived form is then *proved* over the spec's symbolic semantics (`Timer.Read`, `Timer.Write`,
`Timer.*IRQLevel` as Z3 terms), with a separate count for every step, the counts increasing and
inside the window: an exact read returns its value for every such count, a relative read is
the count of one step (the read itself, or the earlier write it depends on) times the sign plus
the offset, and at every GIC access of the script the three timer outputs (the only way the
board's `Board.Read`/`Board.Write` depend on the count) do not change. Values whose outcome is
not stable over the whole window (a compare value the count could reach during the window) are
never chosen: the generator draws again.

The catalogue's vectors are proved one by one (`prove_expectations`). A random vector is not: it
is an instance of a *template* (timer, scenario, mode) with values that satisfy `construction`
(what `random_values` guarantees by construction, e.g. a stable compare value: `stable_cases`),
and each template has a *lemma*, proved once with Z3 over symbolic values satisfying
`construction` (`template_lemma`; see "the template lemma" below for the statement and why it
makes the per-vector proof redundant): per random vector the generator asserts `construction`
on the drawn integers (the same function as the lemma's hypothesis) and checks that the two
concrete samples show the signs the lemma proved. A test checks, for every template, that the
lemma gives the same record as the per-vector proof on the catalogue's and on drawn values.

A script whose guest steps would trap or be UNDEFINED (`Model.TrapDecision` on the instruction
the harness executes, in the state the script's Hyp steps leave) is refused.

Vectors: a fixed *catalogue* of hand-picked values for every scenario and mode, then `N` seeded
*random* vectors over the same scenarios. Coverage is reported as the paths of `Timer.Read`,
`Timer.Write` and the functions they call that the steps take (traced build), over the feasible
paths Z3 finds; the vectors also carry the scenario and mode they exercise (`kind`, `flags`).
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import z3

from hypspec.api import Spec, State, SymbolicCall
from hypspec.categories.script import steps as script
from hypspec.categories.script.steps import Expect, Step, sysreg_read, sysreg_write
from hypspec.categories.traps import case as trap_case
from hypspec.categories.traps.generate import mcr, mcrr, mrc, mrrc
from hypspec.output import MeterFactory, no_meter
from hypspec.vectors.generated import VECTORS_MADE, Emitted, Generated, VectorSink
from hypspec.vectors.paths import Path, feasible_paths, traced_paths
from hypspec.vectors.store import SCHEMA_PATH

#: The physical count assumed at run time: COUNT_WINDOW[0] <= count < COUNT_WINDOW[1]. QEMU's
#: counter starts near 0 at boot and ticks at 62.5 MHz: 2^48 ticks are 52 days.
COUNT_WINDOW = (0, 1 << 48)
#: Counts at which `run_script` is evaluated to derive each read's form (both in the window; the
#: form is then proved for every count in it).
SAMPLE_COUNTS = (0x10, (1 << 48) - 0x11)
U64 = (1 << 64) - 1
GICD_ISPENDR0 = script.GICD_BASE + 0x200
TIMER_GLOBALS = (
    "CNTFRQ", "CNTVOFF", "CNTKCTL", "CNTHCTL", "CNTP_CTL", "CNTP_CVAL", "CNTV_CTL", "CNTV_CVAL",
    "CNTHP_CTL", "CNTHP_CVAL",
)
LEVEL_FUNCTIONS = ("Timer.VirtualIRQLevel", "Timer.PhysicalIRQLevel", "Timer.HypIRQLevel")
COVERED = ("Timer.Read", "Timer.Write")
ENABLE, IMASK, ISTATUS = 1, 2, 4
#: CNTHCTL (ARM DDI 0406C.d §B4.1): PL1PCTEN bit 0, PL1PCEN bit 1. CNTKCTL: PL0PCTEN bit 0,
#: PL0VCTEN bit 1, PL0VTEN bit 8, PL0PTEN bit 9. The event-stream bits are never set: the spec
#: does not model the event stream.
PL1PCTEN, PL1PCEN = 1 << 0, 1 << 1
PL0PCTEN, PL0VCTEN, PL0VTEN, PL0PTEN = 1 << 0, 1 << 1, 1 << 8, 1 << 9


class ScriptRefused(ValueError):
    """A script the generator will not emit: a trapping step, or a read whose value over the
    count window is neither exact nor counter-relative."""


@dataclass(frozen=True)
class Timer:
    name: str  # virtual, physical, hyp
    prefix: str  # CNTV, CNTP, CNTHP
    ppi: int  # INTID on the virt board
    counter: str | None  # the count register it compares with (None: the Hyp timer has none)
    modes: tuple[str, ...]


TIMERS = (
    Timer("virtual", "CNTV", 27, "CNTVCT", ("svc", "usr")),
    Timer("physical", "CNTP", 30, "CNTPCT", ("svc", "usr")),
    Timer("hyp", "CNTHP", 26, None, ("hyp",)),
)
SCENARIOS = ("counter", "tval-write", "cval-write", "istatus", "ppi", "cntfrq")


def scenario_modes() -> list[tuple[Timer, str, str]]:
    """Every (timer, scenario, mode) the generator makes: the coverage denominator of `kind`."""
    return [
        (timer, scenario, mode)
        for timer in TIMERS
        for scenario in SCENARIOS
        if not (scenario in ("counter", "cntfrq") and timer.counter is None)
        for mode in timer.modes
    ]


# ---- building scripts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Values:
    """The free choices of one script."""

    cntvoff: int = 0
    cnthctl_extra: int = 0  # enables added to the required ones (random vectors)
    cntkctl_extra: int = 0
    tval: int = 0  # tval-write: the 32-bit value written
    cval: int = 0  # cval-write, istatus, ppi
    ctl: int = ENABLE  # istatus, ppi


def _controls(timer: Timer, scenario: str, mode: str, values: Values) -> tuple[int, int]:
    """CNTHCTL and CNTKCTL: the enables the scenario's accesses need, plus the free extra ones."""
    cnthctl, cntkctl = values.cnthctl_extra, values.cntkctl_extra
    counter = scenario in ("counter", "cntfrq")
    if timer.name == "physical":
        # PL1PCEN is set even for a CNTPCT read: QEMU 7.2 gates a User-mode CNTPCT read by that
        # bit instead of PL1PCTEN (conformance-anchors §4.4), a disagreement of the trap
        # category that this one does not test.
        cnthctl |= PL1PCEN | (PL1PCTEN if scenario == "counter" else 0)
    if mode == "usr":
        if timer.name == "virtual":
            cntkctl |= PL0VCTEN if counter else PL0VTEN
        else:
            cntkctl |= PL0PCTEN if counter else PL0PTEN
    return cnthctl, cntkctl


def _setup(timer: Timer, scenario: str, mode: str, values: Values) -> list[Step]:
    cnthctl, cntkctl = _controls(timer, scenario, mode, values)
    return [
        sysreg_write("CNTHCTL", cnthctl),
        sysreg_write("CNTKCTL", cntkctl),
        sysreg_write("CNTVOFF", values.cntvoff),
        sysreg_read("CNTHCTL"),
        sysreg_read("CNTKCTL"),
    ]


def _body(timer: Timer, scenario: str, mode: str, values: Values) -> list[Step]:
    ctl, cval, tval = f"{timer.prefix}_CTL", f"{timer.prefix}_CVAL", f"{timer.prefix}_TVAL"
    if scenario == "counter":
        assert timer.counter is not None
        return [sysreg_read(timer.counter, mode), sysreg_read("CNTVOFF")]
    if scenario == "cntfrq":
        return [sysreg_read("CNTFRQ", mode)]
    if scenario == "tval-write":
        return [sysreg_write(tval, values.tval, mode), sysreg_read(cval, mode)]
    if scenario == "cval-write":
        # The timer is enabled for the TVAL read (ARMv8 makes it UNKNOWN while disabled) and
        # masked, so that its line stays low whatever the count.
        return [
            sysreg_write(ctl, ENABLE | IMASK, mode),
            sysreg_write(cval, values.cval, mode),
            sysreg_read(tval, mode),
            sysreg_read(cval, mode),
            sysreg_write(ctl, 0, mode),
        ]
    if scenario == "istatus":
        return [
            sysreg_write(cval, values.cval, mode),
            sysreg_write(ctl, values.ctl, mode),
            sysreg_read(ctl, mode),
            sysreg_write(ctl, 0, mode),
            sysreg_read(ctl, mode),
        ]
    assert scenario == "ppi"
    return [
        sysreg_write(cval, values.cval, mode),
        sysreg_write(ctl, values.ctl, mode),
        script.mmio_read(GICD_ISPENDR0),
        sysreg_read(ctl, mode),
        sysreg_write(ctl, 0, mode),
        script.mmio_read(GICD_ISPENDR0),
    ]


def build_steps(timer: Timer, scenario: str, mode: str, values: Values) -> list[Step]:
    """The vector's steps without expectations (they run after the file's prelude, the quiesce
    steps): the Hyp setup of the controls and CNTVOFF, then the scenario."""
    return _setup(timer, scenario, mode, values) + _body(timer, scenario, mode, values)


def _read_mask(timer: Timer, step: Step, width: int) -> int:
    if step.target == "mmio":
        return 1 << timer.ppi  # GICD_ISPENDR0: the timer's own PPI
    return (1 << width) - 1


# ---- the symbolic check -----------------------------------------------------------------------


class Symbolic:
    """The timer functions as Z3 terms over their arguments and the timer registers, built once;
    a script's steps are chained by substitution, each step with its own count."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.calls: dict[str, SymbolicCall] = {
            name: spec.symbolic(name) for name in ("Timer.Read", "Timer.Write", *LEVEL_FUNCTIONS)
        }
        members = spec.program.functions["Timer.Read"].params[0].ty.members  # type: ignore[union-attr]
        self.members: tuple[str, ...] = tuple(members)
        width = self.calls["Timer.Read"].args[0].size()  # type: ignore[union-attr]
        self.reg_width = width
        reset = spec.state()
        self.reset = {g: z3.BitVecVal(getattr(reset, g), self._width(g)) for g in TIMER_GLOBALS}
        self._cache: dict[tuple[str, str], tuple[dict[str, z3.ExprRef], z3.ExprRef | None]] = {}
        self._occurs: dict[int, set[int]] = {}

    def _width(self, name: str) -> int:
        return self.spec.program.globals[name].ty.width  # type: ignore[attr-defined]

    def _pairs(self, call: SymbolicCall, args: list[z3.ExprRef], state: dict[str, z3.ExprRef]) -> list[tuple]:
        pairs = list(zip(call.args, args, strict=True))
        pairs += [(call.inputs[g], state[g]) for g in TIMER_GLOBALS]
        return pairs

    def _instantiate(self, term: z3.ExprRef, pairs: list[tuple]) -> z3.ExprRef:
        """`term` with the pairs substituted: only those whose constant occurs in it (Python-side
        substitution costs per pair), then simplified."""
        key = term.get_id()
        if key not in self._occurs:
            self._occurs[key] = _constants(term)
        occurs = self._occurs[key]
        used = [(a, b) for a, b in pairs if a.get_id() in occurs]
        return z3.simplify(z3.substitute(term, *used)) if used else term

    def _reg(self, name: str) -> z3.BitVecRef:
        return z3.BitVecVal(self.members.index(f"SysReg_{name}"), self.reg_width)

    def _specialized(self, function: str, reg: str) -> tuple[dict[str, z3.ExprRef], z3.ExprRef | None]:
        """`function` with its register argument fixed: the registers it changes (their new
        terms) and its result, simplified once per register."""
        key = (function, reg)
        if key not in self._cache:
            call = self.calls[function]
            fixed = [(call.args[0], self._reg(reg))]
            changed = {}
            for g in TIMER_GLOBALS:
                term = z3.simplify(z3.substitute(call.evaluation.globals[g], *fixed))  # type: ignore[arg-type]
                if not term.eq(call.inputs[g]):  # type: ignore[union-attr]
                    changed[g] = term
            result = call.evaluation.result
            simplified = None if result is None else z3.simplify(z3.substitute(result, *fixed))  # type: ignore[arg-type]
            self._cache[key] = (changed, simplified)
        return self._cache[key]

    def write(self, state: dict[str, z3.ExprRef], step: Step, count: z3.ExprRef) -> dict[str, z3.ExprRef]:
        call = self.calls["Timer.Write"]
        changed, _ = self._specialized("Timer.Write", step.sysreg)
        value = step.value if z3.is_expr(step.value) else z3.BitVecVal(step.value, 64)  # type: ignore[redundant-expr]
        pairs = self._pairs(call, [call.args[0], value, count], state)[1:]
        after = dict(state)
        for g, term in changed.items():
            after[g] = self._instantiate(term, pairs)
        return after

    def read(self, state: dict[str, z3.ExprRef], step: Step, count: z3.ExprRef) -> z3.BitVecRef:
        call = self.calls["Timer.Read"]
        _, result = self._specialized("Timer.Read", step.sysreg)
        pairs = self._pairs(call, [call.args[0], count], state)[1:]
        return self._instantiate(result, pairs)  # type: ignore[arg-type, return-value]

    def levels(self, state: dict[str, z3.ExprRef], count: z3.ExprRef) -> list[z3.BoolRef]:
        terms = []
        for name in LEVEL_FUNCTIONS:
            call = self.calls[name]
            pairs = self._pairs(call, [count], state)
            terms.append(self._instantiate(call.evaluation.result, pairs))  # type: ignore[arg-type]
        return terms


def _constants(term: z3.ExprRef) -> set[int]:
    """The ids of the uninterpreted constants in a term."""
    found: set[int] = set()
    seen: set[int] = set()
    todo = [term]
    while todo:
        node = todo.pop()
        if node.get_id() in seen:
            continue
        seen.add(node.get_id())
        if z3.is_const(node) and node.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            found.add(node.get_id())
        todo.extend(node.children())
    return found


@cache
def _symbolic(spec: Spec) -> Symbolic:
    return Symbolic(spec)


@cache
def _quiesced_terms(spec: Spec) -> tuple[tuple[str, z3.ExprRef], ...]:
    """The timer registers after reset and the quiesce steps, checked to be count-independent
    constants with every timer output low at each of the quiesce's GIC accesses."""
    sym = _symbolic(spec)
    state = dict(sym.reset)
    for index, step in enumerate(script.quiesce_steps()):
        count = z3.BitVec(f"quiesce!{index}", 64)
        if step.target == "sysreg" and step.op == "write":
            state = sym.write(state, step, count)
        elif step.target == "mmio" and not all(z3.is_false(level) for level in sym.levels(state, count)):
            raise ScriptRefused(f"quiesce step {index}: a timer output may be high at a GIC access")
    for name, term in state.items():
        if not z3.is_bv_value(term):
            raise ScriptRefused(f"the quiesce steps leave {name} depending on the count: {term}")
    return tuple(state.items())


@dataclass
class Form:
    """What a read returns as a function of the count: exact, or sign * count + offset."""

    sign: int
    value: int
    width: int


def _derive(samples: list[int], counts: tuple[int, ...], width: int) -> Form | None:
    mod = (1 << width) - 1
    for sign in (0, 1, -1):
        offsets = {(v - sign * c) & mod for v, c in zip(samples, counts, strict=True)}
        if len(offsets) == 1:
            return Form(sign, offsets.pop(), width)
    return None


def _prove(solver: z3.Solver, claim: z3.BoolRef) -> bool:
    """Whether `claim` holds under the solver's constraints (a claim that simplifies to TRUE
    needs no solver). Checked under an assumption, so the solver keeps no trace of it."""
    claim = z3.simplify(claim)
    if z3.is_true(claim):
        return True
    guard = z3.FreshBool("claim")
    solver.add(z3.Implies(guard, z3.Not(claim)))
    answer = solver.check(guard)
    if answer == z3.unknown:
        raise ScriptRefused(f"the solver could not decide: {solver.reason_unknown()}")
    return answer == z3.unsat


def _window_solver(counts: list[z3.BitVecRef], *, blast: bool = False) -> z3.Solver:
    """A solver that knows the counts increase step by step and stay inside the window. `blast`:
    one that bit-blasts every query to SAT from scratch (five times quicker on the lemmas, whose
    queries are few and large)."""
    lo, hi = COUNT_WINDOW
    if blast:
        solver = z3.Then("simplify", "propagate-values", "solve-eqs", "bit-blast", "sat").solver()
    else:
        solver = z3.SolverFor("QF_BV")
        solver.set("random_seed", 0)
    if counts:
        solver.add(z3.UGE(counts[0], lo), z3.ULT(counts[-1], hi))
        solver.add(*[z3.ULE(a, b) for a, b in itertools.pairwise(counts)])
    return solver


def _prove_read(
    solver: z3.Solver, value: z3.BitVecRef, form: Form, anchors: list[z3.BitVecRef]
) -> int | None:
    """The index into `anchors` of the count the read follows (0 for an exact read), or None."""
    offset = z3.BitVecVal(form.value, form.width)
    if form.sign == 0:
        return 0 if _prove(solver, value == offset) else None
    for index, anchor in enumerate(anchors):
        if _prove(solver, value == z3.Extract(form.width - 1, 0, anchor) * form.sign + offset):
            return index
    return None


def prove_expectations(
    spec: Spec, steps: list[Step], forms: dict[int, Form], levels_at: dict[int, tuple[bool, ...]]
) -> dict[int, int]:
    """Prove each read's form over every increasing choice of per-step counts in the window.

    `forms` maps the index of each sysreg read to its derived form; `levels_at` the index of every
    step (they run after the prelude, the quiesce steps) to the timer outputs just before it (at a
    sample count): they must not depend on the count, since the board brings the GIC's lines up
    to date from them at an access (`Board.UpdateLines`). Returns, for each counter-relative read,
    the index of the step whose count it follows (the read itself or an earlier write). Raises
    `ScriptRefused` for a claim that does not hold.
    """
    sym = _symbolic(spec)
    state = dict(_quiesced_terms(spec))
    start = 0
    counts = {k: z3.BitVec(f"count!{k}", 64) for k in range(start, len(steps))}
    solver = _window_solver(list(counts.values()))
    followed: dict[int, int] = {}
    written: list[int] = []  # the sysreg writes so far, latest first
    for k in range(start, len(steps)):
        step, count = steps[k], counts[k]
        for term, expected in zip(sym.levels(state, count), levels_at[k], strict=True):
            if not _prove(solver, term == z3.BoolVal(expected)):
                raise ScriptRefused(f"step {k}: a timer output before this step depends on the count")
        if step.target == "mmio":
            continue
        if step.op == "write":
            state = sym.write(state, step, count)
            written.insert(0, k)
        else:
            form = forms[k]
            value = z3.Extract(form.width - 1, 0, sym.read(state, step, count))
            candidates = [k, *written]
            found = _prove_read(solver, value, form, [counts[c] for c in candidates])
            if found is None:
                how = "exact" if form.sign == 0 else "counter-relative"
                raise ScriptRefused(f"step {k} ({step.sysreg}): the value is not {how} over the count window")
            if form.sign:
                followed[k] = candidates[found]
    return followed


# ---- the template lemma: random vectors without a proof each ---------------------------------
#
# A random vector is a template (timer, scenario, mode: `build_steps`) filled with values the
# generator draws (`random_values`). Rather than proving each random vector's expectations over
# the window as `prove_expectations` does (a few Z3 queries per vector), one lemma per template is
# proved once, over symbolic values:
#
#   for every choice of values satisfying `construction` and every increasing choice of per-step
#   counts c inside the window, (1) the three timer outputs before each step are those at the
#   reference counts r (every step at COUNT_WINDOW[0]), and (2) each system register read k
#   satisfies  read_k(v, c) - s_k * c[a_k] = read_k(v, r) - s_k * r[a_k]  (mod 2^w_k)
#   for its sign s_k (0 exact, +1/-1 counter-relative) and some anchor a_k (the read, or an
#   earlier write).
#
# So every read of an instance is exact or counter-relative with the sign the lemma names, and its
# offset does not depend on the counts: the offset the concrete run (`run_script`) gives at any
# count in the window is the one for every count, and the outputs the board sees at every GIC
# access are count-free, so the GIC reads are exact (as `prove_expectations` argues per vector).
# Per vector it remains to assert `construction` on the drawn values (integers, the same function
# as the lemma's hypothesis over Z3 terms) and to check that the two concrete samples give the
# lemma's signs. The claims are those the per-vector proof makes, for every point of the space of
# which a vector is one point. What the per-vector proof did besides is compare, at that point,
# the symbolic semantics with the concrete offset; here the concrete semantics gives the offset
# and the symbolic one the lemma, as for every other generator, whose agreement the differential
# tests check (tests/semantics), and the two samples check the form. The hypothesis is proved
# case by case (`construction_cases`), on a solver that bit-blasts (five times quicker here than
# the incremental one). The catalogue keeps the per-vector proof, and a test checks that both
# ways give the same records.


def _is_term(*values: Any) -> bool:
    return any(isinstance(v, z3.ExprRef) for v in values)


def _ule(a: Any, b: Any) -> Any:
    return z3.ULE(a, b) if _is_term(a, b) else a & U64 <= b & U64


def _ult(a: Any, b: Any) -> Any:
    return z3.ULT(a, b) if _is_term(a, b) else a & U64 < b & U64


def _all(*parts: Any) -> Any:
    return z3.And(*parts) if _is_term(*parts) else all(parts)


def _any(*parts: Any) -> Any:
    return z3.Or(*parts) if _is_term(*parts) else any(parts)


def _fits(value: Any, mask: int) -> Any:
    return value & (~mask & U64) == 0


def stable_cases(timer: Timer, cntvoff: Any, cval: Any) -> list[Any]:
    """The ways the timer's condition (counter >= CVAL) can have one value over the whole window:
    CVAL is 0 (every counter value is >= 0), or the counter does not wrap over the window and CVAL
    is at most its first value (met) or above its last (not met). What `stable_cval` chooses; over
    integers bools, over Z3 terms formulas."""
    lo, hi = COUNT_WINDOW
    offset = cntvoff if timer.name == "virtual" else 0
    first, last = (lo - offset) & U64, (hi - 1 - offset) & U64
    nowrap = _ule(first, last)
    return [cval == 0, _all(nowrap, _ule(cval, first)), _all(nowrap, _ult(last, cval))]


def stable(timer: Timer, cntvoff: Any, cval: Any) -> Any:
    """Whether some case of `stable_cases` holds."""
    return _any(*stable_cases(timer, cntvoff, cval))


def construction_cases(timer: Timer, scenario: str, values: Values) -> list[Any]:
    """What `random_values` guarantees of the values it draws (and the catalogue's satisfy), as a
    disjunction: the extra enables among the defined ones, a 32-bit TVAL, CTL among ENABLE and
    IMASK, and for `istatus` and `ppi` a stable compare value (one case per way)."""
    parts = [
        _fits(values.cnthctl_extra, PL1PCTEN | PL1PCEN),
        _fits(values.cntkctl_extra, PL0PCTEN | PL0VCTEN | PL0VTEN | PL0PTEN),
        _fits(values.tval, 0xFFFF_FFFF),
        _fits(values.ctl, ENABLE | IMASK),
    ]
    if scenario in ("istatus", "ppi"):
        return [_all(*parts, case) for case in stable_cases(timer, values.cntvoff, values.cval)]
    return [_all(*parts)]


def construction(timer: Timer, scenario: str, values: Values) -> Any:
    """Some case of `construction_cases`: the lemma's hypothesis over Z3 terms (proved case by
    case); over integers, asserted per random vector."""
    return _any(*construction_cases(timer, scenario, values))


def _symbolic_values() -> Values:
    names = ("cntvoff", "cnthctl_extra", "cntkctl_extra", "tval", "cval", "ctl")
    return Values(**{name: z3.BitVec(f"value!{name}", 64) for name in names})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Lemma:
    """A proved template: for each system register read (by step index), its sign and width."""

    timer: Timer
    scenario: str
    mode: str
    reads: tuple[tuple[int, int, int], ...]  # (index, sign, width)


def _template_signs(spec: Spec, timer: Timer, scenario: str, mode: str) -> dict[int, Form]:
    """The form of each system register read of the template, derived on the catalogue's first
    values (which must satisfy `construction`): the sign the lemma is then proved with."""
    sample = CATALOGUE[scenario][0]
    if construction(timer, scenario, sample) is not True:
        raise ScriptRefused(f"the catalogue's first {scenario} values do not satisfy the construction")
    steps = build_steps(timer, scenario, mode, sample)
    runs = [script.run_script(spec, steps, count) for count in SAMPLE_COUNTS]
    forms = {}
    for index, step in enumerate(steps):
        if step.op == "read" and step.target == "sysreg":
            width = _width(spec, step)
            form = _derive([int(run[index]) for run in runs], SAMPLE_COUNTS, width)  # type: ignore[arg-type]
            if form is None:
                raise ScriptRefused(f"{timer.name}-{scenario}/{mode} step {index}: not exact nor relative")
            forms[index] = form
    return forms


_LEMMAS: dict[tuple[str, str, str, str], Lemma] = {}


def template_lemma(spec: Spec, timer: Timer, scenario: str, mode: str) -> Lemma:
    """The lemma of a template (see above), proved with Z3 once per spec and template; raises
    `ScriptRefused` if a claim does not hold."""
    key = (spec.digest, timer.name, scenario, mode)
    if key not in _LEMMAS:
        _LEMMAS[key] = _prove_lemma(spec, timer, scenario, mode)
    return _LEMMAS[key]


def template_lemmas(spec: Spec) -> list[Lemma]:
    """The lemma of every template the generator makes (`scenario_modes`), each proved once."""
    return [template_lemma(spec, timer, scenario, mode) for timer, scenario, mode in scenario_modes()]


def _prove_lemma(spec: Spec, timer: Timer, scenario: str, mode: str) -> Lemma:
    signs = _template_signs(spec, timer, scenario, mode)
    values = _symbolic_values()
    for case in construction_cases(timer, scenario, values):
        _prove_case(spec, timer, scenario, mode, values, case, signs)
    return Lemma(timer, scenario, mode, tuple((k, f.sign, f.width) for k, f in sorted(signs.items())))


def _prove_case(
    spec: Spec, timer: Timer, scenario: str, mode: str, values: Values, case: z3.BoolRef,
    signs: dict[int, Form],
) -> None:
    """The lemma's claims under one case of the hypothesis."""
    steps = build_steps(timer, scenario, mode, values)
    sym = _symbolic(spec)
    counts = [z3.BitVec(f"count!{k}", 64) for k in range(len(steps))]
    solver = _window_solver(counts, blast=True)
    solver.add(case)
    reference = z3.BitVecVal(COUNT_WINDOW[0], 64)
    state = dict(_quiesced_terms(spec))
    ref_state = dict(state)
    written: list[int] = []
    where = f"{timer.name}-{scenario}/{mode}"
    for k, step in enumerate(steps):
        for term, ref in zip(sym.levels(state, counts[k]), sym.levels(ref_state, reference), strict=True):
            if not _prove(solver, term == ref):
                raise ScriptRefused(f"{where} step {k}: a timer output before it depends on the count")
        if step.target == "mmio":
            continue
        if step.op == "write":
            state = sym.write(state, step, counts[k])
            ref_state = sym.write(ref_state, step, reference)
            written.insert(0, k)
            continue
        form = signs[k]
        value = z3.Extract(form.width - 1, 0, sym.read(state, step, counts[k]))
        ref_value = z3.Extract(form.width - 1, 0, sym.read(ref_state, step, reference))
        if not any(
            _prove(solver, value - _scaled(counts[a], form) == ref_value - _scaled(reference, form))
            for a in ([k] if form.sign == 0 else [k, *written])
        ):
            raise ScriptRefused(f"{where} step {k} ({step.sysreg}): not {form.sign:+d}-relative in window")


def _scaled(count: z3.BitVecRef, form: Form) -> z3.BitVecRef:
    """sign * count, in the read's width."""
    return z3.Extract(form.width - 1, 0, count) * form.sign


# ---- the concrete pass: traps and path coverage -----------------------------------------------


def _instruction(spec: Spec, step: Step) -> int:
    """The MRC/MCR/MRRC/MCRR word the harness executes for a sysreg step (Rt = r0, Rt2 = r1)."""
    encoding = script.sysreg_encoding(spec, step.sysreg)
    read = step.op == "read"
    if encoding.is64:
        return (mrrc if read else mcrr)(15, encoding.opc1, encoding.crm)
    return (mrc if read else mcr)(15, encoding.opc1, encoding.crn, encoding.crm, encoding.opc2)


@cache
def _members(spec: Spec) -> tuple[str, ...]:
    return tuple(spec.program.functions["Timer.Read"].params[0].ty.members)  # type: ignore[union-attr]


@cache
def _quiesced_timers(spec: Spec) -> State:
    """Reset, then the quiesce's system register writes: the state the timer functions read
    (they read and write only the timer registers, so the GIC's part of the state is left out)."""
    state = spec.state()
    write = spec.compiled.function("Timer.Write")
    for step in script.quiesce_steps():
        if step.target == "sysreg" and step.op == "write":
            write(state, _members(spec).index(f"SysReg_{step.sysreg}"), step.value, 0)
    return state


def _timer_state(spec: Spec) -> State:
    """A copy of `_quiesced_timers` to run timer steps on (shallow: the timer registers are
    integers, rebound on the copy; no timer function touches a map)."""
    return copy.copy(_quiesced_timers(spec))


_OUTCOMES: dict[tuple[Any, ...], str] = {}


def _trap_outcome(spec: Spec, el: str, sysreg: str, op: str, cnthctl: int, cntkctl: int) -> str:
    """`Model.TrapDecision`'s outcome for the access, from the reset state with the guest's CPSR
    and these two controls: a function of exactly these arguments, so memoized."""
    key = (spec.digest, el, sysreg, op, cnthctl, cntkctl)
    found = _OUTCOMES.get(key)
    if found is None:
        step = sysreg_read(sysreg, el) if op == "read" else sysreg_write(sysreg, 0, el)
        decision = spec.state(CPSR=trap_case.GUEST_CPSR[el], CNTHCTL=cnthctl, CNTKCTL=cntkctl)
        result = spec.call("Model.TrapDecision", _instruction(spec, step), state=decision)
        found = _OUTCOMES[key] = result["outcome"]
    return found


def concrete_pass(spec: Spec, steps: list[Step], count: int) -> list[Path]:
    """Run the sysreg steps on the traced build; refuse a guest step that would not execute.

    The trap decision sees the CNTHCTL and CNTKCTL the script's Hyp steps have written (every
    other control at its reset value: the timer registers are governed by those two alone).
    """
    state = _timer_state(spec)
    members = _members(spec)
    paths: list[Path] = []
    for index, step in enumerate(steps):
        if step.target != "sysreg":
            if step.el != "hyp":
                raise ScriptRefused(f"step {index}: a GIC access is made from Hyp mode only here")
            continue
        if step.el in trap_case.GUEST_CPSR:
            outcome = _trap_outcome(spec, step.el, step.sysreg, step.op, state.CNTHCTL, state.CNTKCTL)
            if outcome != "TrapOutcome_Execute":
                raise ScriptRefused(f"step {index}: {step.op} of {step.sysreg} from {step.el}: {outcome}")
        member = members.index(f"SysReg_{step.sysreg}")
        if step.op == "read":
            _, taken = traced_paths(spec, "Timer.Read", state, [member, count])
        else:
            _, taken = traced_paths(spec, "Timer.Write", state, [member, step.value, count])
        paths += taken
    return paths


# ---- one vector -------------------------------------------------------------------------------


def _width(spec: Spec, step: Step) -> int:
    return 32 if step.target == "mmio" else script.sysreg_encoding(spec, step.sysreg).width


def _levels(spec: Spec, steps: list[Step], count: int) -> dict[int, tuple[bool, ...]]:
    """The timer outputs before each step (after the prelude), every step at `count`."""
    state = _timer_state(spec)
    members = _members(spec)
    write = spec.compiled.function("Timer.Write")
    levels = [spec.compiled.function(name) for name in LEVEL_FUNCTIONS]
    found: dict[int, tuple[bool, ...]] = {}
    for index in range(len(steps)):
        step = steps[index]
        found[index] = tuple(bool(f(state, count)) for f in levels)
        if step.target == "sysreg" and step.op == "write":
            write(state, members.index(f"SysReg_{step.sysreg}"), step.value, count)
    return found


def expected_steps(
    spec: Spec, timer: Timer, steps: list[Step], lemma: Lemma | None = None
) -> tuple[list[Step], list[str]]:
    """`steps` (a vector's own, run after the quiesce steps) with the spec's expectation on every
    read, and the vector's flags. The forms are proved for every count in the window: by
    `prove_expectations` on these steps, or, given the `lemma` of the template the steps are an
    instance of (values satisfying `construction`: the caller's to assert), by the lemma, whose
    signs the samples must show."""
    runs = [script.run_script(spec, steps, count) for count in SAMPLE_COUNTS]
    forms: dict[int, Form] = {}
    for index in range(len(steps)):
        step = steps[index]
        if step.op != "read":
            continue
        width = _width(spec, step)
        samples = [int(run[index]) for run in runs]  # type: ignore[arg-type]
        if step.target == "mmio":
            mask = _read_mask(timer, step, width)
            samples = [v & mask for v in samples]
        form = _derive(samples, SAMPLE_COUNTS, width)
        if form is None or (step.target == "mmio" and form.sign != 0):
            raise ScriptRefused(f"step {index}: the value is neither exact nor counter-relative")
        forms[index] = form
    if lemma is None:
        prove_expectations(spec, steps, {k: f for k, f in forms.items() if steps[k].target == "sysreg"},
                           _levels(spec, steps, SAMPLE_COUNTS[0]))
    else:
        _check_lemma(lemma, steps, forms)
    out = list(steps)
    flags: set[str] = set()
    for index, form in forms.items():
        step = steps[index]
        mask = _read_mask(timer, step, form.width)
        out[index] = script.with_expect(step, Expect(form.value & mask, mask, form.sign, form.width))
        flags.add("COUNT_RELATIVE" if form.sign else "EXACT")
    return out, sorted(flags)


def _check_lemma(lemma: Lemma, steps: list[Step], forms: dict[int, Form]) -> None:
    """The concrete samples show the forms the lemma proved (a failure is a bug: the concrete and
    the symbolic semantics disagree, or the steps are not an instance of the template)."""
    got = tuple((k, f.sign, f.width) for k, f in sorted(forms.items()) if steps[k].target == "sysreg")
    if got != lemma.reads:
        raise AssertionError(
            f"{lemma.timer.name}-{lemma.scenario}/{lemma.mode}: the samples give forms {got}, the "
            f"template's lemma proved {lemma.reads}"
        )


def make_vector(
    spec: Spec,
    vector_id: str,
    kind: str,
    timer: Timer,
    scenario: str,
    mode: str,
    values: Values,
    *,
    by_lemma: bool = False,
) -> tuple[dict[str, Any], list[Path]]:
    """One vector. `by_lemma`: its expectations hold over the window by the template's lemma (the
    values are asserted to satisfy `construction`), instead of a proof of this vector's own."""
    lemma = None
    if by_lemma:
        if construction(timer, scenario, values) is not True:
            raise ScriptRefused(f"{values} do not satisfy the construction the template's lemma assumes")
        lemma = template_lemma(spec, timer, scenario, mode)
    steps = build_steps(timer, scenario, mode, values)
    paths = concrete_pass(spec, steps, SAMPLE_COUNTS[0])
    expected, flags = expected_steps(spec, timer, steps, lemma)
    record = {
        "id": vector_id,
        "category": "timers",
        "kind": f"{timer.name}-{scenario}",
        "flags": sorted({*flags, f"MODE_{mode.upper()}", f"SOURCE_{kind.upper()}"}),
        "description": window_note(),
        "paths": sorted({p.key for p in paths}),
        "steps": script.steps_to_json(expected),
    }
    return record, paths


# ---- choosing values --------------------------------------------------------------------------


def _virtual_range(timer: Timer, cntvoff: int) -> tuple[int, int] | None:
    """The counter the timer compares with over the window, as [first, last] when it does not
    wrap (None when it does)."""
    lo, hi = COUNT_WINDOW
    offset = cntvoff if timer.name == "virtual" else 0
    first, last = (lo - offset) & U64, (hi - 1 - offset) & U64
    return (first, last) if first <= last else None


def stable_cval(rng: random.Random, timer: Timer, cntvoff: int, met: bool) -> int | None:
    """A compare value the counter has passed (`met`) or will not reach during the window."""
    span = _virtual_range(timer, cntvoff)
    if span is None:
        return 0 if met else None  # every counter value is >= 0; none is above all of them
    first, last = span
    if met:
        return rng.choice([0, first, rng.randrange(first + 1)])
    if last == U64:
        return None
    return rng.choice([last + 1, U64, rng.randrange(last + 1, U64 + 1)])


def random_cntvoff(rng: random.Random) -> int:
    choice = rng.randrange(5)
    if choice == 0:
        return 0
    if choice == 1:
        return rng.randrange(1 << 32)
    if choice == 2:
        return rng.randrange(1 << 48)
    if choice == 3:
        return (U64 - rng.randrange(1 << 40)) & U64  # "negative": the virtual count runs ahead
    return rng.randrange(1 << 64)


def random_values(rng: random.Random, timer: Timer, scenario: str) -> Values | None:
    cntvoff = random_cntvoff(rng)
    extra_h = rng.choice([0, PL1PCTEN, PL1PCEN, PL1PCTEN | PL1PCEN])
    extra_k = sum(bit for bit in (PL0PCTEN, PL0VCTEN, PL0VTEN, PL0PTEN) if rng.random() < 0.3)
    ctl = rng.choice([ENABLE, ENABLE, ENABLE | IMASK, 0, IMASK])
    cval = 0
    if scenario in ("istatus", "ppi"):
        chosen = stable_cval(rng, timer, cntvoff, rng.random() < 0.5)
        if chosen is None:
            return None
        cval = chosen
    elif scenario == "cval-write":
        cval = rng.randrange(1 << 64)
    return Values(cntvoff, extra_h, extra_k, rng.randrange(1 << 32), cval, ctl)


#: The catalogue: hand-picked values per scenario (the same for every timer and mode). For
#: `istatus` and `ppi`: a compare value the count has passed (0: every count is >= 0), and one
#: it cannot reach in the window (2^63), each enabled, masked, and disabled.
CATALOGUE: dict[str, tuple[Values, ...]] = {
    "counter": (Values(cntvoff=0), Values(cntvoff=0x1000), Values(cntvoff=U64 - 0xFFF)),
    "cntfrq": (Values(),),
    "tval-write": (
        Values(cntvoff=0x100, tval=0x1000),
        Values(cntvoff=0x100, tval=0xFFFF_F000),  # -0x1000: sign-extended
        Values(cntvoff=0, tval=0x7FFF_FFFF),
    ),
    "cval-write": (
        Values(cntvoff=0x10, cval=1 << 50),
        Values(cntvoff=0x10, cval=0x100),
        Values(cntvoff=0, cval=U64),
    ),
    "istatus": (
        Values(cval=0, ctl=ENABLE),
        Values(cval=1 << 63, ctl=ENABLE),
        Values(cval=0, ctl=ENABLE | IMASK),
        Values(cval=0, ctl=0),
    ),
    "ppi": (
        Values(cval=0, ctl=ENABLE),
        Values(cval=0, ctl=ENABLE | IMASK),
        Values(cval=1 << 63, ctl=ENABLE),
        Values(cval=0, ctl=0),
        Values(cntvoff=0x5000, cval=0, ctl=ENABLE),
    ),
}


# ---- the category -----------------------------------------------------------------------------


#: The pseudo-function under which the coverage lists scenario x mode (one "path" each).
SCENARIO_COVERAGE = "timers.scenario"


def scenario_path(timer: Timer, scenario: str, mode: str) -> Path:
    return Path(SCENARIO_COVERAGE, ((f"{timer.name}-{scenario}/{mode}", 0),))


@cache
def feasible(spec: Spec) -> dict[Path, z3.ModelRef]:
    """The feasible paths of Timer.Read and Timer.Write and the functions they call."""
    found: dict[Path, z3.ModelRef] = {}
    for name in COVERED:
        call = _symbolic(spec).calls[name]
        constraints = [*call.constraints, *(c for _, c in call.evaluation.assertions)]
        functions = {i.function for i in call.evaluation.invocations}
        found.update(feasible_paths(call, functions, constraints))
    return found


MAX_DRAWS = 50


def _random_vector(
    spec: Spec, rng: random.Random, number: int, combo: tuple[Timer, str, str]
) -> tuple[dict[str, Any], list[Path]]:
    """A random vector for one scenario and mode: values are drawn until the script is stable."""
    timer, scenario, mode = combo
    for _ in range(MAX_DRAWS):
        values = random_values(rng, timer, scenario)
        if values is None:
            continue
        try:
            return make_vector(spec, f"timers-r{number:05d}", "random", timer, scenario, mode, values,
                               by_lemma=True)
        except ScriptRefused:
            continue
    raise ScriptRefused(f"no stable values for {timer.name}-{scenario} in {mode} after {MAX_DRAWS} draws")


def generate(
    spec: Spec, seed: int, random_count: int, out: VectorSink,
    progress: Callable[[str], None] = lambda _: None, meter: MeterFactory = no_meter,
) -> Generated:
    # no meter for the search: it takes a fraction of a second
    progress("enumerating the feasible paths of Timer.Read and Timer.Write")
    paths = feasible(spec)
    combos = scenario_modes()
    catalogue = sum(len(CATALOGUE[s]) for _, s, _ in combos)
    progress(f"catalogue: {catalogue} vectors; {random_count} random vectors")
    with meter(VECTORS_MADE, catalogue + random_count) as counted:
        made = Emitted(out, counted)
        for timer, scenario, mode in combos:
            for number, values in enumerate(CATALOGUE[scenario], start=1):
                vector_id = f"timers-c-{timer.name}-{scenario}-{mode}-{number}"
                record, taken = make_vector(spec, vector_id, "catalogue", timer, scenario, mode, values)
                made.add(record, [*taken, scenario_path(timer, scenario, mode)])
        # The prelude (the quiesce steps) runs before every vector: the paths its writes take (the
        # only write of CNTFRQ among them) are taken by every vector's run, and count once here.
        made.hit.update(concrete_pass(spec, script.quiesce_steps(), SAMPLE_COUNTS[0]))
        rng = random.Random(seed)
        for number in range(1, random_count + 1):
            combo = rng.choice(combos)
            record, taken = _random_vector(spec, rng, number, combo)
            made.add(record, [*taken, scenario_path(*combo)])
    feasible_set = set(paths) | {scenario_path(*combo) for combo in combos}
    not_runnable = {
        path: ["a write to CNTPCT or CNTVCT is UNDEFINED (read-only: spec/04 Model.SysRegReadOnly)"]
        for path in feasible_set - made.hit
        if path.function == "Timer.Write" and _writes_counter(spec, paths[path])
    }
    return Generated(out, feasible_set, made.hit & feasible_set, not_runnable,
                     {**script.prelude_meta(), **window_meta()})


def window_note() -> str:
    lo, hi = COUNT_WINDOW
    return f"expectations assume the physical count stays in [{lo:#x}, {hi:#x}) during the script"


def window_meta() -> dict[str, Any]:
    """The count window for the file's meta (`count_window`), if the schema declares that field.

    Every vector also states it in its `description`, which the schema accepts today.
    """
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    declared = schema["$defs"]["meta"]["properties"]["meta"]["properties"]
    if "count_window" not in declared:
        return {}
    return {"count_window": {"lo": f"{COUNT_WINDOW[0]:#x}", "hi": f"{COUNT_WINDOW[1]:#x}"}}


def _writes_counter(spec: Spec, model: z3.ModelRef) -> bool:
    call = _symbolic(spec).calls["Timer.Write"]
    reg = model.eval(call.args[0], model_completion=True).as_long()  # type: ignore[union-attr]
    return _members(spec)[reg] in ("SysReg_CNTPCT", "SysReg_CNTVCT")
