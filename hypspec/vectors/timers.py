"""The `timers` vector category: scripts that program the generic timers and read them back.

Each vector is a script (`hypspec.vectors.script`): the quiesce steps, then Hyp-mode steps that
set the access controls (CNTHCTL, CNTKCTL) and CNTVOFF, then the steps of one *scenario* made from
a guest mode (SVC or User) or from Hyp mode, with what every read must return. The scenarios,
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
never chosen: the generator draws again. A script whose guest steps would trap or be UNDEFINED
(`Model.TrapDecision` on the instruction the harness executes, in the state the script's Hyp
steps leave) is refused.

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
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import z3

from hypspec.api import Spec, State, SymbolicCall
from hypspec.conformance import trap_case
from hypspec.vectors import script
from hypspec.vectors.paths import Path, feasible_paths, traced_paths
from hypspec.vectors.script import Expect, Step, sysreg_read, sysreg_write
from hypspec.vectors.store import SCHEMA_PATH
from hypspec.vectors.traps import mcr, mcrr, mrc, mrrc

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


@cache
def quiesce_length() -> int:
    """The number of quiesce steps every vector begins with."""
    return len(script.quiesce_steps())


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


def _prelude(timer: Timer, scenario: str, mode: str, values: Values) -> list[Step]:
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
    """The script without expectations: quiesce, prelude, scenario."""
    prelude = _prelude(timer, scenario, mode, values)
    return script.quiesce_steps() + prelude + _body(timer, scenario, mode, values)


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
        pairs = self._pairs(call, [call.args[0], z3.BitVecVal(step.value, 64), count], state)[1:]
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


def _window_solver(counts: list[z3.BitVecRef]) -> z3.Solver:
    """A solver that knows the counts increase step by step and stay inside the window."""
    lo, hi = COUNT_WINDOW
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
    step after the quiesce to the timer outputs just before it (at a sample count): they must not
    depend on the count, since the board brings the GIC's lines up to date from them at an
    access (`Board.UpdateLines`). Returns, for each
    counter-relative read, the index of the step whose count it follows (the read itself or an
    earlier write). Raises `ScriptRefused` for a claim that does not hold.
    """
    sym = _symbolic(spec)
    state = dict(_quiesced_terms(spec))
    start = quiesce_length()
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
            decision = spec.state(
                CPSR=trap_case.GUEST_CPSR[step.el], CNTHCTL=state.CNTHCTL, CNTKCTL=state.CNTKCTL
            )
            outcome = spec.call("Model.TrapDecision", _instruction(spec, step), state=decision)["outcome"]
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
    """The timer outputs before each step after the quiesce, every step at `count`."""
    state = _timer_state(spec)
    members = _members(spec)
    write = spec.compiled.function("Timer.Write")
    levels = [spec.compiled.function(name) for name in LEVEL_FUNCTIONS]
    found: dict[int, tuple[bool, ...]] = {}
    for index in range(quiesce_length(), len(steps)):
        step = steps[index]
        found[index] = tuple(bool(f(state, count)) for f in levels)
        if step.target == "sysreg" and step.op == "write":
            write(state, members.index(f"SysReg_{step.sysreg}"), step.value, count)
    return found


def expected_steps(spec: Spec, timer: Timer, steps: list[Step]) -> tuple[list[Step], list[str]]:
    """`steps` with the spec's expectation on every read after the quiesce, and the vector's flags."""
    runs = [script.run_script(spec, steps, count) for count in SAMPLE_COUNTS]
    forms: dict[int, Form] = {}
    start = quiesce_length()
    for index in range(start, len(steps)):
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
    prove_expectations(spec, steps, {k: f for k, f in forms.items() if steps[k].target == "sysreg"},
                       _levels(spec, steps, SAMPLE_COUNTS[0]))
    out = list(steps)
    flags: set[str] = set()
    for index, form in forms.items():
        step = steps[index]
        mask = _read_mask(timer, step, form.width)
        out[index] = script.with_expect(step, Expect(form.value & mask, mask, form.sign, form.width))
        flags.add("COUNT_RELATIVE" if form.sign else "EXACT")
    return out, sorted(flags)


def make_vector(
    spec: Spec, vector_id: str, kind: str, timer: Timer, scenario: str, mode: str, values: Values
) -> tuple[dict[str, Any], list[Path]]:
    steps = build_steps(timer, scenario, mode, values)
    paths = concrete_pass(spec, steps, SAMPLE_COUNTS[0])
    expected, flags = expected_steps(spec, timer, steps)
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


@dataclass
class Generated:
    vectors: list[dict[str, Any]]
    feasible: set[Path]
    hit: set[Path]
    not_runnable: dict[Path, list[str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


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
            return make_vector(spec, f"timers-r{number:05d}", "random", timer, scenario, mode, values)
        except ScriptRefused:
            continue
    raise ScriptRefused(f"no stable values for {timer.name}-{scenario} in {mode} after {MAX_DRAWS} draws")


def generate(
    spec: Spec, seed: int, random_count: int, progress: Callable[[str], None] = lambda _: None
) -> Generated:
    progress("enumerating the feasible paths of Timer.Read and Timer.Write")
    paths = feasible(spec)
    vectors: list[dict[str, Any]] = []
    hit: set[Path] = set()
    combos = scenario_modes()
    progress(f"catalogue: {sum(len(CATALOGUE[s]) for _, s, _ in combos)} vectors")
    for timer, scenario, mode in combos:
        for number, values in enumerate(CATALOGUE[scenario], start=1):
            vector_id = f"timers-c-{timer.name}-{scenario}-{mode}-{number}"
            record, taken = make_vector(spec, vector_id, "catalogue", timer, scenario, mode, values)
            vectors.append(record)
            hit.update(taken)
            hit.add(scenario_path(timer, scenario, mode))
    progress(f"{random_count} random vectors")
    rng = random.Random(seed)
    for number in range(1, random_count + 1):
        combo = rng.choice(combos)
        record, taken = _random_vector(spec, rng, number, combo)
        vectors.append(record)
        hit.update(taken)
        hit.add(scenario_path(*combo))
    feasible_set = set(paths) | {scenario_path(*combo) for combo in combos}
    not_runnable = {
        path: ["a write to CNTPCT or CNTVCT is UNDEFINED (read-only: spec/04 Model.SysRegReadOnly)"]
        for path in feasible_set - hit
        if path.function == "Timer.Write" and _writes_counter(spec, paths[path])
    }
    return Generated(vectors, feasible_set, hit & feasible_set, not_runnable, window_meta())


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
