"""Random operation sequences on the compiled model, with every invariant checked after every step.

`state_machine(model)` turns a model into a Hypothesis rule-based state machine: one rule per
transition (arguments drawn by `hypspec.model.strategies`) and, after every step, the model's
invariants at every instance the machine can tell apart. The stateful test runs it; so does
`hypspec explore`, for longer campaigns against any model directory. A failure shrinks to a
short list of model operations, printed as the transitions and their arguments.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import core as hypothesis_core
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from hypspec.api import MODEL_DIR, Spec, proof_tree
from hypspec.arguments import DEFAULT_PES
from hypspec.concrete.runtime import SpecAssertionError
from hypspec.lang.types import Bits, Enum
from hypspec.model.machine import Checked, Machine, Violation
from hypspec.model.noninterference import ENUMERATED_WIDTH
from hypspec.model.program import Model, ModelError, Step, load_model
from hypspec.model.scenarios import Scenario, pes_needed, read_scenarios
from hypspec.model.strategies import for_param, preferred_members, reuse
from hypspec.proof.mutants import Mutant, patched_tree


class InvariantViolated(AssertionError):
    """An invariant does not hold after a step (the message names it and its instance)."""


class LeakFound(InvariantViolated):
    """Two runs that agree on everything declassified disagree on an observation."""


# A step as a run took it: the transition, its arguments, and the twin's arguments.
Action = tuple[Step, tuple[Any, ...], tuple[Any, ...]]


@dataclass
class Campaign:
    """What a campaign did: steps taken, time; and the current run's steps."""

    steps: int = 0
    seconds: float = 0.0
    trace: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


# The bits of a run's seed.
SEED_BITS = 24


def _seeds(bits: int) -> st.SearchStrategy[int]:
    """Seeds drawn bit by bit. Hypothesis mixes constants it finds in the project's loaded modules
    into its integer, bytes and string draws, so an integer seed would differ with what the process
    had imported before (a campaign under pytest-xdist is not the campaign `hypspec explore` runs);
    booleans are never mixed, so a campaign's seed gives the same campaign in any process."""
    return st.lists(st.booleans(), min_size=bits, max_size=bits).map(
        lambda flags: sum(1 << k for k, flag in enumerate(flags) if flag))


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
# Swarm testing: the share of transitions a run keeps, and how many members of each enumeration
# with preferred members (the system registers that hold state) it draws from; a layout's named
# values (`strategies.preferred_members`) are all drawn from in every run.
SWARM_KEEP = 0.85
SWARM_MEMBERS = 8


def state_machine(model: Model, pes: int = DEFAULT_PES, campaign: Campaign | None = None,
                  on_step: Callable[[], None] | None = None, scenarios: Sequence[Scenario] = (),
                  check_leaks: bool = True) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine over `model` on `pes` processing elements. A run starts from the
    initial state or from one of `scenarios`; its one rule draws a transition and its arguments
    until the transition's guard lets it act (a step that does nothing teaches nothing), runs it,
    and records it; after every step every invariant is checked at every instance the machine
    can tell apart, and, with `check_leaks`, every observation in a second run (`Twin`)."""
    record = campaign if campaign is not None else Campaign()
    preferred = preferred_members(model.spec)
    if scenarios and pes_needed(list(scenarios)) > pes:
        raise ModelError(f"the scenarios need {pes_needed(list(scenarios))} PEs; the machine has {pes}")

    class ModelMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.machine, self.holding = _watched_machine(model, pes)
            self.trace: list[str] = []
            self.actions: list[Action] = []
            self.able: dict[str, int] = {}  # how often each transition could act
            # The second run of the noninterference check: the same steps, except the secret's
            # own, which draw their own arguments (see `Twin`).
            self.twin = Twin(model, pes, self.machine) if model.observations and check_leaks else None

        @initialize(seed=_seeds(SEED_BITS))
        def begin(self, seed: int) -> None:
            # Swarm testing (Groce et al., ISSTA 2012): each run leaves out some transitions and
            # draws its system registers from a few of them, so that a run goes deep where
            # another goes wide: a guest that writes CONTEXTIDR and then exits is likely in a run
            # that writes eight registers, and rare in one that writes any of eighty.
            rng = self.rng = random.Random(seed)
            kept = [t for t in model.transitions if rng.random() < SWARM_KEEP]
            self.transitions = kept or model.transitions
            focus = {name: rng.sample(members, min(SWARM_MEMBERS, len(members)))
                     if name in model.spec.program.enums else members
                     for name, members in preferred.items()}
            self.samplers = {
                t.name: [for_param(p, pes, i == t.pe_index, focus) for i, p in enumerate(t.params)]
                for t in model.transitions
            }
            # Then the scenario's steps, if the run starts from one (0, where a failing run
            # shrinks to, is the initial state).
            start = seed % (len(scenarios) + 1)
            chosen_scenario = scenarios[start - 1] if start else None
            prefix = [] if chosen_scenario is None else \
                list(zip(chosen_scenario.steps, chosen_scenario.others, chosen_scenario.checked, strict=True))
            for (chosen, args), other, checked in prefix:
                self._take(chosen, args, other if self.twin is not None else args)
                if checked:
                    self.invariants_hold()

        @rule()
        def step(self) -> None:
            # Of TRIES candidates, the first CHOICES that can act; of those, the one whose
            # transition this run has found able to act least often: a host step almost always
            # can and a guest step only while a guest runs, so a plain draw would rarely let a
            # guest do anything, and a guest would seldom do two things before its next exit.
            # Guards are evaluated by PE, so the machine switches banks once per PE. The draws
            # continue the run's generator: minimisation replays the steps as taken, so a step
            # needs no seed of its own for Hypothesis to shrink, and each draw it would make
            # costs more than the step's own work.
            rng = self.rng
            drawn = []
            for _ in range(TRIES):
                transition = rng.choice(self.transitions)
                args = (reuse(rng, p, draw(rng), self.machine.seen)
                        for p, draw in zip(transition.params, self.samplers[transition.name], strict=True))
                drawn.append((transition, tuple(args)))
            candidates = self.machine.can_act(drawn)[:CHOICES]
            if not candidates:
                return
            for step, _ in candidates:
                self.able[step.name] = self.able.get(step.name, 0) + 1
            chosen, args = min(candidates, key=lambda c: self.able[c[0].name])
            other = args
            if self.twin is not None and self.twin.secret_acts(self.machine, chosen, args):
                drawn_other = tuple(draw(rng) for draw in self.samplers[chosen.name])
                other = tuple(a if i == chosen.pe_index else o
                              for i, (a, o) in enumerate(zip(args, drawn_other, strict=True)))
            self._take(chosen, args, other)

        def _take(self, chosen: Step, args: tuple[Any, ...], other: tuple[Any, ...]) -> None:
            """Run a step, and in the twin the step with `other`'s arguments (the secret's own
            draws its own); record it."""
            self.trace.append(_describe_action(model, (chosen, args, other)))
            self.actions.append((chosen, args, other))
            record.trace, record.actions = self.trace, self.actions
            try:
                self.machine.run(chosen.name, *args)
            except SpecAssertionError as err:
                raise InvariantViolated(f"{chosen.name} stops at an assert: {err}") from err
            if self.twin is not None:
                self.twin.step(chosen, other, self.machine, len(self.trace), args)
            record.steps += 1
            if on_step is not None:
                on_step()

        @invariant()
        def invariants_hold(self) -> None:
            found = self.machine.violations(checked=self.holding)
            if found:
                raise InvariantViolated(_violation_message(model, found, len(self.trace)))

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

    def __init__(self, model: Model, pes: int, first: Machine) -> None:
        self.model = model
        self.machine = Machine(model, pes)
        self.comparable = True
        # The instances known to agree between the runs, forgotten as a step in either changes
        # what they read.
        self.agreeing = Checked(model)
        self.machine.watched_by.append(self.agreeing)
        first.watched_by.append(self.agreeing)
        # Whether the runs are still one run: the same start and, since, the same steps with the
        # same arguments. A machine is a function of its steps (the oracle's UNKNOWNs are fixed
        # by seed and place), so until the secret's own step draws other arguments the states are
        # equal, and so is everything observed of them: no instance needs comparing.
        self.identical = first.same_state(self.machine)

    def secret_acts(self, machine: Machine, step: Step, args: tuple[Any, ...]) -> bool:
        if not self.comparable or not self.model.secrets or step.pe_index is None:
            return False
        return bool(machine.observe(self.model.secrets[0].name, self.SECRET, args[step.pe_index]))

    def step(self, step: Step, args: tuple[Any, ...], first: Machine, number: int,
             first_args: tuple[Any, ...]) -> None:
        """Take the step the first run took with `first_args`, here with `args` (the same but for
        the secret's own step), and compare the runs."""
        if not self.comparable:
            return
        self.machine.seen = first.seen
        if self.machine.enabled(step.name, *args):
            try:
                self.machine.run(step.name, *args)
            except SpecAssertionError as err:
                raise InvariantViolated(f"run 2: {step.name} stops at an assert: {err}") from err
        self.identical = self.identical and args == first_args
        if self.identical:
            return
        if self._differ(first, self.model.declassified):
            self.comparable = False
            return
        differs = self._differ(first, self.model.observations)
        if differs:
            raise LeakFound(f"after {number} step(s), with secret {self.SECRET}: {differs}")

    def _differ(self, first: Machine, steps: list[Step]) -> str | None:
        compiled = self.model.spec.compiled
        witnessed = first.witnessed(self.agreeing)
        choices = partial(observation_choices, first, secret=self.SECRET, witnessed=witnessed)
        for step, pe, state, instances, known in first.sweep(steps, choices, self.agreeing):
            observe = compiled.function(step.name)
            other = self.machine.state if pe is None else self.machine.on(pe)
            for args in instances:
                one, two = observe(state, *args), observe(other, *args)
                if one != two:
                    pairs = zip(step.params, args, strict=True)
                    shown = ", ".join(f"{p.name}={_number(a)}" for p, a in pairs)
                    return f"{step.name}({shown}) is {_number(one)} in run 1 and {_number(two)} in run 2"
                known[args] = True
        return None


def _number(value: int) -> str:
    return f"{value:#x}" if value > 9 else str(value)


def observation_choices(machine: Machine, step: Step, secret: int,
                        witnessed: dict[str, set[int]]) -> list[list[Any]]:
    """The values an observation's parameters take on a machine: the secret, then what
    `Machine.values` gives (`witnessed` from `Machine.witnessed`), except that a word index is used
    at every value."""
    choices: list[list[Any]] = [[secret]]
    for index, param in enumerate(step.params):
        if index == 0:
            continue
        if isinstance(param.ty, Bits) and index != step.pe_index and param.ty.width <= ENUMERATED_WIDTH:
            choices.append(list(range(1 << param.ty.width)))
        else:
            choices.append(machine.values(step, index, param, witnessed))
    return choices


@dataclass
class Finding:
    message: str
    trace: list[str]


def explore(model: Model, *, seed: int, examples: int, steps: int, pes: int = DEFAULT_PES,
            on_step: Callable[[], None] | None = None, shrink: bool = True,
            scenarios: Sequence[Scenario] = (), check_leaks: bool = True) -> tuple[Campaign, Finding | None]:
    """Run `examples` random sequences of up to `steps` transitions, each from the initial state or
    one of `scenarios`; the failure, if any, with its trace minimised when `shrink` is set."""
    campaign = Campaign()
    machine = state_machine(model, pes, campaign, on_step, scenarios, check_leaks)
    # derandomize is set, not inherited from the loaded profile: with CI set, Hypothesis loads its
    # "ci" profile, whose derandomize would replace the seed below and change every campaign.
    config = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                      database=None, derandomize=False,
                      phases=(Phase.generate,), print_blob=False, report_multiple_bugs=False,
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
        if shrink:
            finding = _minimise(model, pes, list(campaign.actions), isinstance(err, LeakFound)) or finding
    finally:
        hypothesis_core.global_force_seed = previous
    if finding is None:
        finding = _scenario_finding(model, pes, scenarios, check_leaks, campaign, on_step)
    campaign.seconds = time.perf_counter() - start
    return campaign, finding


def _scenario_finding(model: Model, pes: int, scenarios: Sequence[Scenario], leaks: bool,
                      campaign: Campaign, on_step: Callable[[], None] | None) -> Finding | None:
    """After random runs that found nothing, each scenario's own steps, on fresh machines and
    checked as a run that starts from it checks them: what a scenario shows is found whatever the
    campaign's draws were. (A run starts from a scenario its seed picks, and which scenarios a
    campaign's seeds pick changes with every transition and scenario added to the model.)"""
    for scenario in scenarios:
        machine, holding = _watched_machine(model, pes)
        # Two runs of the same steps agree on everything: a twin only for a secret's pair of steps.
        paired = any(other != args for (_, args), other in zip(scenario.steps, scenario.others, strict=True))
        twin = Twin(model, pes, machine) if leaks and model.observations and paired else None
        trace: list[str] = []
        steps = zip(scenario.steps, scenario.others, scenario.checked, strict=True)
        for number, ((step, args), other, checked) in enumerate(steps, start=1):
            trace.append(_describe_action(model, (step, args, other if twin is not None else args)))
            campaign.steps += 1
            if on_step is not None:
                on_step()
            try:
                machine.run(step.name, *args)
                if twin is not None:
                    twin.step(step, other, machine, number, args)
            except SpecAssertionError as err:
                return Finding(f"scenario {scenario.name}: {step.name} stops at an assert: {err}", trace)
            except InvariantViolated as err:
                return Finding(f"scenario {scenario.name}: {err}", trace)
            found = machine.violations(checked=holding) if checked else []
            if found:
                return Finding(f"scenario {scenario.name}: {_violation_message(model, found, number)}", trace)
    return None


# ---- minimising a failing run -------------------------------------------------------------
#
# Hypothesis shrinks a stateful run poorly here: a step's choice depends on the run before it (which
# transitions could act, how often), so deleting an early step changes what every later step
# draws, and most of its attempts fail. The run's steps as taken are replayed instead: delta
# debugging over the list of actions, keeping a shorter list whenever its replay, on fresh
# machines, still breaks the same thing.


def _minimise(model: Model, pes: int, actions: list[Action], leak: bool) -> Finding | None:
    """The shortest failing sub-run found by removing steps, a block at a time and then one by
    one; None if the run as taken does not fail when replayed (it always should)."""
    first = _replay(model, pes, actions, leak)
    if first is None:
        return None
    length, signature, message = first
    current = actions[:length]
    chunk = max(len(current) // 2, 1)
    while True:
        index = 0
        while index < len(current):
            candidate = current[:index] + current[index + chunk:]
            found = _replay(model, pes, candidate, leak) if candidate else None
            if found is not None and found[1] == signature:
                current, message = candidate[:found[0]], found[2]
            else:
                index += chunk
        if chunk == 1:
            break
        chunk //= 2
    return Finding(message, [_describe_action(model, action) for action in current])


def _replay(model: Model, pes: int, actions: list[Action], leak: bool) -> tuple[int, str, str] | None:
    """Run `actions` on a fresh machine (and, for a leak, its twin), checking after every step; the
    number of steps to the first failure, what failed (to compare runs by) and the message."""
    machine, holding = _watched_machine(model, pes)
    twin = Twin(model, pes, machine) if leak else None
    for number, (step, args, other) in enumerate(actions, start=1):
        if not machine.enabled(step.name, *args):
            return None  # without the steps removed, this one could not act: not a run
        try:
            machine.run(step.name, *args)
        except SpecAssertionError as err:
            return number, f"assert in {step.name}", f"{step.name} stops at an assert: {err}"
        if twin is not None:
            try:
                twin.step(step, other, machine, number, args)
            except InvariantViolated as err:
                return number, str(err).split(": ", 1)[-1].split("(")[0], str(err)
        found = machine.violations(checked=holding)
        if found:
            broken = " ".join(sorted({v.invariant for v in found}))
            return number, broken, _violation_message(model, found, number)
    return None


def _watched_machine(model: Model, pes: int) -> tuple[Machine, Checked]:
    """A fresh machine, and the invariant instances known to hold on it (see `Checked`)."""
    machine, holding = Machine(model, pes), Checked(model)
    machine.watched_by.append(holding)
    return machine, holding


def _violation_message(model: Model, found: list[Violation], steps: int) -> str:
    return f"after {steps} step(s): " + "; ".join(v.render(model) for v in found[:4])


def _describe_action(model: Model, action: Action) -> str:
    step, args, other = action
    shown = describe(model, step, args)
    return shown if other == args else f"{shown}  [run 2: {describe(model, step, other)}]"


# The campaign run against each mutant of a model, by the test suite and by `hypspec prove
# --mutants`: the seed, and how many runs of how many steps.
MUTANT_SEED = 1
MUTANT_EXAMPLES = 60
MUTANT_STEPS = 100


def explore_mutant(mutant: Mutant) -> tuple[Campaign, Finding | None]:
    """The mutant campaign against a mutated copy of the model, from the initial state and from
    the faithful model's scenarios (read from the model, not the mutant: a scenario a mutant
    cannot replay is a finding of the campaign, not an error in the file)."""
    with patched_tree(mutant) as root:
        model = Model(Spec.load(*proof_tree(root)))
        return explore(model, seed=MUTANT_SEED, examples=MUTANT_EXAMPLES, steps=MUTANT_STEPS,
                       shrink=False, scenarios=_faithful_scenarios())


@cache
def _faithful_scenarios() -> list[Scenario]:
    return read_scenarios(load_model(), MODEL_DIR)
