"""Random operation sequences on the compiled model, with every invariant checked after every step.

`state_machine(model)` turns a model into a Hypothesis rule-based state machine: one rule per
transition (arguments from `hypspec.model.strategies`) and, after every step, the model's
invariants at every instance the machine can tell apart. The stateful test runs it; so does
`hypspec explore`, for longer campaigns against any model directory. A failure shrinks to a
short list of model operations, printed as the transitions and their arguments.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import core as hypothesis_core
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from hypspec.concrete.runtime import SpecAssertionError
from hypspec.lang.types import Bits, Enum
from hypspec.model.machine import Machine
from hypspec.model.noninterference import ENUMERATED_WIDTH
from hypspec.model.program import Model, Step
from hypspec.model.strategies import for_param, preferred_members


class InvariantViolated(AssertionError):
    """An invariant does not hold after a step (the message names it and its instance)."""


class LeakFound(InvariantViolated):
    """Two runs that agree on everything declassified disagree on an observation."""


@dataclass
class Campaign:
    """What a run did: steps taken, steps that changed nothing (disabled), time."""

    steps: int = 0
    seconds: float = 0.0
    trace: list[str] = field(default_factory=list)


def describe(model: Model, step: Step, args: tuple[Any, ...]) -> str:
    shown = []
    for param, arg in zip(step.params, args, strict=True):
        if isinstance(param.ty, Enum):
            shown.append(param.ty.members[arg])
        elif isinstance(arg, bool):
            shown.append(str(arg).upper())
        else:
            shown.append(f"{arg:#x}" if arg > 9 else str(arg))
    return f"{step.name}({', '.join(shown)})"


# How many draws a step may take to find transitions whose guard lets them act, and how many
# such candidates it compares.
TRIES = 24
CHOICES = 6


def state_machine(model: Model, pes: int = 2, campaign: Campaign | None = None,
                  on_step: Callable[[], None] | None = None) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine over `model` on `pes` processing elements. Its one rule draws a
    transition and its arguments until the transition's guard lets it act (a step that does
    nothing teaches nothing), runs it, and records it; after every step every invariant is
    checked at every instance the machine can tell apart."""
    record = campaign if campaign is not None else Campaign()
    preferred = preferred_members(model.spec)
    strategies = {
        step.name: [for_param(p, pes, i == step.pe_index, preferred) for i, p in enumerate(step.params)]
        for step in model.transitions
    }

    class ModelMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.machine = Machine(model, pes)
            self.trace: list[str] = []
            self.taken: dict[str, int] = {}
            # The second run of the noninterference check: the same steps, except the secret's
            # own, which draw their own arguments (see `Twin`).
            self.twin = Twin(model, pes) if model.observations else None

        @rule(data=st.data())
        def step(self, data: st.DataObject) -> None:
            # Draw candidates until CHOICES of them can act, then take the one whose transition
            # this run has taken least: a host step is almost always possible and a guest step
            # only while a guest runs, so a plain draw would rarely let a guest do anything.
            candidates: list[tuple[Step, tuple[Any, ...]]] = []
            for _ in range(TRIES):
                drawn = data.draw(st.sampled_from(model.transitions), label="transition")
                args = tuple(data.draw(s) for s in strategies[drawn.name])
                if self.machine.enabled(drawn.name, *args):
                    candidates.append((drawn, args))
                    if len(candidates) == CHOICES:
                        break
            if not candidates:
                return
            chosen, args = min(candidates, key=lambda c: self.taken.get(c[0].name, 0))
            self.taken[chosen.name] = self.taken.get(chosen.name, 0) + 1
            self.trace.append(describe(model, chosen, args))
            record.trace = self.trace
            secret_steps = self.twin is not None and self.twin.secret_acts(self.machine, chosen, args)
            try:
                self.machine.run(chosen.name, *args)
            except SpecAssertionError as err:
                raise InvariantViolated(f"{chosen.name} stops at an assert: {err}") from err
            if self.twin is not None:
                other = tuple(data.draw(s) for s in strategies[chosen.name]) if secret_steps else args
                if secret_steps:
                    other = tuple(a if i == chosen.pe_index else o
                                  for i, (a, o) in enumerate(zip(args, other, strict=True)))
                    self.trace[-1] += f"  [run 2: {describe(model, chosen, other)}]"
                self.twin.step(chosen, other, self.machine, len(self.trace))
            record.steps += 1
            if on_step is not None:
                on_step()

        @invariant()
        def invariants_hold(self) -> None:
            found = self.machine.violations()
            if found:
                shown = "; ".join(v.render(model) for v in found[:4])
                raise InvariantViolated(f"after {len(self.trace)} step(s): {shown}")

    ModelMachine.__name__ = ModelMachine.__qualname__ = "ModelMachine"
    return ModelMachine


class Twin:
    """The second run of a model's noninterference check, executed beside the first.

    Both runs start alike and take the same steps, with one exception: a step the model's `secret`
    predicate says is the secret's own (in KVM/ARM, a step of a vCPU of VM `SECRET`) draws its own
    arguments in the second run, so the secret behaves differently in the two. After every step,
    while the runs agree on every declassified value (the schedule), every observation must agree
    too; once the schedule differs (the secret exited in one run and not in the other) the runs
    are no longer comparable, and the check rests."""

    SECRET = 0

    def __init__(self, model: Model, pes: int) -> None:
        self.model = model
        self.machine = Machine(model, pes)
        self.comparable = True

    def secret_acts(self, machine: Machine, step: Step, args: tuple[Any, ...]) -> bool:
        if not self.comparable or not self.model.secrets or step.pe_index is None:
            return False
        return bool(machine.observe(self.model.secrets[0].name, self.SECRET, args[step.pe_index]))

    def step(self, step: Step, args: tuple[Any, ...], first: Machine, number: int) -> None:
        if not self.comparable:
            return
        self.machine.seen = first.seen
        if self.machine.enabled(step.name, *args):
            try:
                self.machine.run(step.name, *args)
            except SpecAssertionError as err:
                raise InvariantViolated(f"run 2: {step.name} stops at an assert: {err}") from err
        if self._differ(first, self.model.declassified):
            self.comparable = False
            return
        differs = self._differ(first, self.model.observations)
        if differs:
            raise LeakFound(f"after {number} step(s), with secret {self.SECRET}: {differs}")

    def _differ(self, first: Machine, steps: list[Step]) -> str | None:
        for step in steps:
            for args in observation_instances(first, step, self.SECRET):
                one, two = first.observe(step.name, *args), self.machine.observe(step.name, *args)
                if one != two:
                    pairs = zip(step.params, args, strict=True)
                    shown = ", ".join(f"{p.name}={_number(a)}" for p, a in pairs)
                    return f"{step.name}({shown}) is {_number(one)} in run 1 and {_number(two)} in run 2"
        return None


def _number(value: int) -> str:
    return f"{value:#x}" if value > 9 else str(value)


def observation_instances(machine: Machine, step: Step, secret: int) -> list[tuple[Any, ...]]:
    """An observation's instances on a machine: the secret, then what `Machine.instances` gives,
    except that a word index is used at every value."""
    choices: list[list[Any]] = [[secret]]
    for index, param in enumerate(step.params):
        if index == 0:
            continue
        if isinstance(param.ty, Bits) and index != step.pe_index and param.ty.width <= ENUMERATED_WIDTH:
            choices.append(list(range(1 << param.ty.width)))
        else:
            choices.append(machine.values(step, index, param))
    return list(product(*choices))


@dataclass
class Finding:
    message: str
    trace: list[str]


def explore(model: Model, *, seed: int, examples: int, steps: int, pes: int = 2,
            on_step: Callable[[], None] | None = None,
            shrink: bool = True) -> tuple[Campaign, Finding | None]:
    """Run `examples` random sequences of up to `steps` transitions; the shrunk failure, if any."""
    campaign = Campaign()
    machine = state_machine(model, pes, campaign, on_step)
    phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)
    config = settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                      phases=phases, print_blob=False, report_multiple_bugs=False,
                      suppress_health_check=list(HealthCheck))
    start = time.perf_counter()
    finding = None
    # The seed of the whole campaign: Hypothesis's own switch for it (pytest's --hypothesis-seed).
    previous = hypothesis_core.global_force_seed
    hypothesis_core.global_force_seed = seed
    try:
        run_state_machine_as_test(machine, settings=config)
    except InvariantViolated as err:
        finding = Finding(str(err), list(campaign.trace))
    finally:
        hypothesis_core.global_force_seed = previous
    campaign.seconds = time.perf_counter() - start
    return campaign, finding
