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
from collections.abc import Iterator
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
class Machine:
    model: Model
    pes: int = 2
    seed: int = 0
    seen: dict[str, set[int]] = field(default_factory=dict)  # values given, by type name

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

    # ---- steps -----------------------------------------------------------------------

    def run(self, name: str, *args: Any) -> None:
        step = self.model.transition(name)
        self._note(step, args)
        state = self.on(args[step.pe_index]) if step.pe_index is not None else self.state
        self._compiled.function(name)(state, *args)

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

    def violations(self, names: list[str] | None = None) -> list[Violation]:
        """Every instance of every invariant (or of those named) that does not hold now."""
        chosen = [step for step in self.model.invariants if names is None or step.name in names]
        found = []
        witnessed = self.witnessed()
        for _, state, group in self.by_pe([(step, self.instances(step, witnessed)) for step in chosen]):
            for step, instances in group:
                holds = self._compiled.function(step.name)
                found += [Violation(step.name, args) for args in instances if not holds(state, *args)]
        return found

    def by_pe(self, work: list[tuple[Step, list[tuple[Any, ...]]]]
              ) -> Iterator[tuple[int | None, State, list[tuple[Step, list[tuple[Any, ...]]]]]]:
        """Instances of steps (invariants, observations) by the PE they name (None for steps that
        name none), each group with the state, that PE's bank put in place as the group comes up
        (a group is used before the next is drawn): a caller evaluating thousands of instances
        after every step switches banks once per PE rather than once per instance, and calls the
        compiled functions directly."""
        groups: dict[int | None, dict[str, tuple[Step, list[tuple[Any, ...]]]]] = {}
        for step, instances in work:
            for args in instances:
                pe = args[step.pe_index] if step.pe_index is not None else None
                groups.setdefault(pe, {}).setdefault(step.name, (step, []))[1].append(args)
        for pe, group in groups.items():
            yield pe, (self.state if pe is None else self.on(pe)), list(group.values())

    def instances(self, step: Step, witnessed: dict[str, set[int]] | None = None) -> list[tuple[Any, ...]]:
        return list(product(*(self.values(step, i, p, witnessed) for i, p in enumerate(step.params))))

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

    def witnessed(self) -> dict[str, set[int]]:
        """Every value each witness holds now, by its type, at every instance of its parameters
        among the values given so far: computed once for all the instances of a check."""
        found: dict[str, set[int]] = {}
        for witness in self.model.witnesses:
            func = self._compiled.function(witness.name)
            values = found.setdefault(_type_key(witness.decl.result_ty), set())
            choices = [self.values(witness, i, p) for i, p in enumerate(witness.params)]
            for args in product(*choices):
                pe = witness.pe_index
                values.add(func(self.on(args[pe]) if pe is not None else self.state, *args))
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
