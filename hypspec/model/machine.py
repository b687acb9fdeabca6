"""The concrete semantics of a model: several processing elements, one bank of architectural
state each, stepped by the compiled spec.

The architecture chapters describe one PE: `HCR` is *the* HCR. A machine keeps one copy of every
global that is not `shared` per PE and, before a transition runs on PE `pe`, puts that PE's bank
in place, so the chapters keep reading as one PE's rules. Shared globals (physical memory, the
hypervisor's own data) are one copy for all.

Invariants are checked at every instance a run can distinguish: every PE, every member of an
enumeration, every value of a narrow bit string, and, for wider ids, every value some transition
was given (an id no step has named holds no state of its own).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from hypspec.api import State
from hypspec.concrete.runtime import Oracle
from hypspec.lang import syntax as s
from hypspec.lang.types import Bits, Bool, Enum, Type
from hypspec.model.program import PE_NUMBER, Model, ModelError, Step

# Bit strings this narrow are checked at every value.
ENUMERATED_BITS = 5


@dataclass(frozen=True)
class Violation:
    invariant: str
    args: tuple[Any, ...]

    def render(self, model: Model) -> str:
        step = model.invariant(self.invariant)
        pairs = zip(step.params, self.args, strict=True)
        shown = ", ".join(f"{p.name}={_show(model, a, p.ty)}" for p, a in pairs)
        return f"{self.invariant}({shown})"


@dataclass
class Outcomes:
    """What is known of a check's instances that name one PE."""

    by_args: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # The parameter choices whose every instance is known, when they were last all checked.
    covered: tuple[tuple[Any, ...], ...] | None = None


class Checked:
    """Instances of checks (invariants, observations, witnesses) whose outcome is known for the
    state as it now is, each forgotten when a step may have changed a global it reads.

    A run evaluates thousands of instances after every step, and a step touches few globals: with
    each transition's write set and each check's read set (`hypspec.model.footprint`), only the
    instances a step may have changed are evaluated again. Outcomes are kept by the PE an instance
    names: a step on PE 1 leaves PE 0's registers alone, so it leaves PE 0's instances known unless
    it writes a shared global they read. A machine tells the checks it is `watched_by` of every
    step it runs (`Machine.run`); a check that reads the oracle, or that names no PE and reads a
    PE's registers (it reads whichever bank is in place), is never kept."""

    def __init__(self, model: Model) -> None:
        self.footprints = model.footprints
        self.banked = frozenset(model.banked)
        self.known: dict[str, dict[int | None, Outcomes]] = {}

    def keeps(self, step: Step) -> bool:
        footprint = self.footprints[step.name]
        return not footprint.unknown and (step.pe_index is not None or not footprint.reads & self.banked)

    def outcomes(self, step: Step, pe: int | None) -> Outcomes:
        """What is known of a check's instances that name PE `pe` (a table to add to)."""
        by_pe = self.known.setdefault(step.name, {})
        if pe not in by_pe:
            by_pe[pe] = Outcomes()
        return by_pe[pe]

    def forget(self, transition: Step, pe: int | None) -> None:
        """Forget what `transition`, run on PE `pe` (None: the bank in place), may have changed."""
        written = self.footprints[transition.name].writes
        for name, by_pe in self.known.items():
            changed = written & self.footprints[name].reads
            if not changed:
                continue
            if pe is None or changed - self.banked:
                by_pe.clear()
            else:
                by_pe.pop(pe, None)


# The values each parameter of a check takes, one list per parameter.
Choices = list[list[Any]]
# What `Machine.sweep` hands its consumer for one check on one PE.
Pending = tuple[Step, int | None, State, list[tuple[Any, ...]], dict[tuple[Any, ...], Any]]


@dataclass
class Machine:
    model: Model
    pes: int = 2
    seed: int = 0
    seen: dict[str, set[int]] = field(default_factory=dict)  # values given, by type name
    # Checks told of every step this machine runs (see `Checked`).
    watched_by: list[Checked] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 1 <= self.pes <= 1 << self.model.pe_type.width:
            raise ModelError(f"a machine has 1 to {1 << self.model.pe_type.width} PEs, not {self.pes}")
        self.state: State = self.model.spec.state(self.seed)
        reset = {name: getattr(self.state, name) for name in self.model.banked}
        self.banks = [copy.deepcopy(reset) for _ in range(self.pes)]
        if PE_NUMBER in reset:
            for pe, bank in enumerate(self.banks):
                bank[PE_NUMBER] = (bank[PE_NUMBER] & ~0xFF) | pe
        self.loaded = 0
        self._compiled = self.model.spec.compiled
        # What the witnesses hold in the state as it is (`witnessed`), until a step runs.
        self._witnessed: dict[str, set[int]] | None = None

    @classmethod
    def with_oracle(cls, model: Model, pes: int, oracle: Oracle) -> Machine:
        machine = cls(model, pes)
        machine.state.oracle = oracle
        return machine

    # ---- banks -----------------------------------------------------------------------

    def on(self, pe: int) -> State:
        """The state with PE `pe`'s bank in place."""
        if not 0 <= pe < self.pes:
            raise ModelError(f"PE {pe} does not exist (this machine has {self.pes})")
        if pe != self.loaded:
            old, new = self.banks[self.loaded], self.banks[pe]
            for name in self.model.banked:
                old[name] = getattr(self.state, name)
                setattr(self.state, name, new[name])
            self.loaded = pe
        return self.state

    def bank(self, pe: int) -> dict[str, Any]:
        """PE `pe`'s architectural state, as it is now."""
        self.on(pe)
        return {name: getattr(self.state, name) for name in self.model.banked}

    def same_state(self, other: Machine) -> bool:
        """Whether the two machines hold the same state: every PE's bank, every shared global and
        the oracle that chooses their UNKNOWNs."""
        if self.pes != other.pes or _choosing(self.state.oracle) != _choosing(other.state.oracle):
            return False
        if any(self.bank(pe) != other.bank(pe) for pe in range(self.pes)):
            return False
        return all(getattr(self.state, name) == getattr(other.state, name) for name in self.model.shared)

    # ---- steps -----------------------------------------------------------------------

    def run(self, name: str, *args: Any) -> None:
        step = self.model.transition(name)
        self._note(step, args)
        pe = args[step.pe_index] if step.pe_index is not None else None
        for checked in self.watched_by:
            checked.forget(step, pe)
        self._witnessed = None
        self._compiled.function(name)(self.state if pe is None else self.on(pe), *args)

    def enabled(self, name: str, *args: Any) -> bool:
        """Whether the transition's guard lets it act on these arguments now."""
        step = self.model.transition(name)
        state = self.on(args[step.pe_index]) if step.pe_index is not None else self.state
        return bool(self.model.guards.function(step.enabled_name)(state, *args))

    def can_act(self, candidates: list[tuple[Step, tuple[Any, ...]]]) -> list[tuple[Step, tuple[Any, ...]]]:
        """The candidates (transition, arguments) whose guard lets them act now, in their order."""
        work = [(step, [args]) for step, args in candidates]
        acting: set[tuple[str, tuple[Any, ...]]] = set()
        for _, state, group in self.by_pe(work):
            for step, instances in group:
                guard = self.model.guards.function(step.enabled_name)
                acting |= {(step.name, args) for args in instances if guard(state, *args)}
        return [(step, args) for step, args in candidates if (step.name, args) in acting]

    def holds(self, name: str, *args: Any) -> bool:
        step = self.model.invariant(name)
        state = self.on(args[step.pe_index]) if step.pe_index is not None else self.state
        return bool(self._compiled.function(name)(state, *args))

    def observe(self, name: str, *args: Any) -> Any:
        """An observation's value now (`hypspec.model.noninterference`)."""
        step = self.model.observation(name)
        state = self.on(args[step.pe_index]) if step.pe_index is not None else self.state
        return self._compiled.function(name)(state, *args)

    def violations(self, names: list[str] | None = None, checked: Checked | None = None) -> list[Violation]:
        """Every instance of every invariant (or of those named) that does not hold now; with
        `checked`, those known to hold are not evaluated again, and those found to are kept."""
        chosen = [step for step in self.model.invariants if names is None or step.name in names]
        witnessed = self.witnessed(checked)
        found = []
        every = self.sweep(chosen, lambda step: self.choices(step, witnessed), checked)
        for step, _, state, instances, known in every:
            holds = self._compiled.function(step.name)
            for args in instances:
                if holds(state, *args):
                    known[args] = True
                else:
                    found.append(Violation(step.name, args))
        return found

    def sweep(self, steps: list[Step], choices: Callable[[Step], Choices], checked: Checked | None
              ) -> Iterator[Pending]:
        """For each check and each PE (None for a check that names none), the PE, the state with its
        bank in place, the instances not known to `checked` (every instance without it) and the
        table to record outcomes in. PE by PE, so that thousands of instances after every step
        switch banks once per PE. A consumer records every instance it evaluates (or stops); a
        check whose instances are all recorded, with choices that have not changed since, is
        skipped the next time."""
        every = {step.name: choices(step) for step in steps}  # the same on every PE
        for pe in [None, *range(self.pes)]:
            for step in steps:
                if (step.pe_index is None) != (pe is None):
                    continue
                options = list(every[step.name])
                if step.pe_index is not None:
                    options[step.pe_index] = [pe]
                keep = checked is not None and checked.keeps(step)
                outcomes = checked.outcomes(step, pe) if keep else Outcomes()  # type: ignore[union-attr]
                signature = tuple(map(tuple, options))
                if outcomes.covered == signature:
                    continue
                known = outcomes.by_args
                instances = [args for args in product(*options) if args not in known]
                yield step, pe, (self.state if pe is None else self.on(pe)), instances, known
                if all(args in known for args in instances):
                    outcomes.covered = signature

    def by_pe(self, work: list[tuple[Step, list[tuple[Any, ...]]]]
              ) -> Iterator[tuple[int | None, State, list[tuple[Step, list[tuple[Any, ...]]]]]]:
        """Instances of steps by the PE they name (None for steps that name none), each group with
        the state, that PE's bank put in place as the group comes up (a group is used before the
        next is drawn), so that the machine switches banks once per PE."""
        groups: dict[int | None, dict[str, tuple[Step, list[tuple[Any, ...]]]]] = {}
        for step, instances in work:
            for args in instances:
                pe = args[step.pe_index] if step.pe_index is not None else None
                groups.setdefault(pe, {}).setdefault(step.name, (step, []))[1].append(args)
        for pe, group in groups.items():
            yield pe, (self.state if pe is None else self.on(pe)), list(group.values())

    def choices(self, step: Step, witnessed: dict[str, set[int]] | None = None) -> Choices:
        return [self.values(step, i, p, witnessed) for i, p in enumerate(step.params)]

    def values(self, step: Step, index: int, param: s.Param,
               witnessed: dict[str, set[int]] | None = None) -> list[Any]:
        """The values an instance takes for one parameter: every one of a small type; otherwise
        0, those the steps so far were given, and those the model's witnesses hold now
        (`witnessed`, from `Machine.witnessed`), as the prover assumes the invariants at them."""
        ty = param.ty
        if index == step.pe_index:
            return list(range(self.pes))
        if isinstance(ty, Bool):
            return [False, True]
        if isinstance(ty, Enum):
            return list(range(len(ty.members)))
        if isinstance(ty, Bits) and ty.width <= ENUMERATED_BITS:
            return list(range(1 << ty.width))
        key = _type_key(ty)
        return sorted(self.seen.get(key, set()) | {0} | (witnessed or {}).get(key, set()))

    def witnessed(self, checked: Checked | None = None) -> dict[str, set[int]]:
        """Every value each witness holds now, by its type, at every instance of its parameters
        among the values given so far: computed once per state for all the checks (with
        `checked`, only at the instances a step may have changed)."""
        if self._witnessed is None:
            self._witnessed = self._witness(checked)
        return self._witnessed

    def _witness(self, checked: Checked | None) -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        for witness in self.model.witnesses:
            func = self._compiled.function(witness.name)
            values = found.setdefault(_type_key(witness.decl.result_ty), set())
            keep = checked is not None and checked.keeps(witness)
            for pe in [None] if witness.pe_index is None else range(self.pes):
                options = self.choices(witness)
                if witness.pe_index is not None:
                    options[witness.pe_index] = [pe]
                known = checked.outcomes(witness, pe).by_args if keep else {}  # type: ignore[union-attr]
                for args in product(*options):
                    if args not in known:
                        known[args] = func(self.state if pe is None else self.on(pe), *args)
                    values.add(known[args])
        return found

    def _note(self, step: Step, args: tuple[Any, ...]) -> None:
        for index, (param, arg) in enumerate(zip(step.params, args, strict=True)):
            if index != step.pe_index and isinstance(param.ty, Bits) and param.ty.width > ENUMERATED_BITS:
                self.seen.setdefault(_type_key(param.ty), set()).add(arg)


def _type_key(ty: Type | None) -> str:
    return str(ty)


def _show(model: Model, value: Any, ty: Type | None) -> str:
    if isinstance(ty, Enum):
        return ty.members[value]
    if isinstance(value, bool):
        return str(value).upper()
    return f"{value:#x}" if isinstance(value, int) and value > 9 else str(value)


def _choosing(oracle: Oracle) -> tuple[type, dict[str, Any]]:
    """What decides an oracle's choices: its kind and its settings (its seed, the values it is
    told to give, a fill), not the record of what it has chosen so far."""
    return type(oracle), {name: value for name, value in vars(oracle).items() if name != "chosen"}
