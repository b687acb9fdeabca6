"""What a step can write and a check can read, and the checks a concrete run evaluates again
after a step: only those the step may have changed, with the same outcome as evaluating all."""

from __future__ import annotations

import random
from typing import Any

import pytest

from hypspec.api import MODEL_DIR
from hypspec.model.explore import Twin, observation_choices
from hypspec.model.machine import Checked, Machine
from hypspec.model.program import Model, Step, load_model
from hypspec.model.scenarios import pes_needed, read_scenarios
from hypspec.model.strategies import for_param


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


def test_a_transition_writes_what_it_and_its_callees_assign(model: Model) -> None:
    assert model.footprints["KVM.SetIrqLine"].writes == {"KVM_VcpuIrqLines", "KVM_VcpuKick"}
    # The trap configuration is installed by the lowvisor's functions that entry calls.
    assert {"HCR", "HSTR", "VTTBR", "KVM_VcpuCtx"} <= model.footprints["KVM.RunVcpu"].writes


def test_a_check_reads_what_it_and_its_callees_name(model: Model) -> None:
    reads = model.footprints["KVM.NoLeak.PEConfig"].reads
    assert {"HCR", "HCPTR", "HTPIDR", "KVM_VcpuVM"} <= reads  # the last two in KVM.NoLeak.Runs
    assert "KVM_VcpuCtx" not in reads
    assert not model.footprints["KVM.NoLeak.PEConfig"].writes


def _booted(model: Model) -> tuple[Machine, Checked]:
    machine, checked = Machine(model, 2), Checked(model)
    machine.watched_by.append(checked)
    for pe in (0, 1):
        machine.run("KVM.BootPE", pe)
    assert not machine.violations(checked=checked)
    return machine, checked


def test_a_step_forgets_only_the_instances_whose_reads_it_may_change(model: Model) -> None:
    machine, checked = _booted(model)
    hyp, trap = model.invariant("KVM.Inv.HypIntegrity"), model.invariant("KVM.Inv.TrapConfiguration")
    assert all(checked.outcomes(check, pe).by_args for check in (hyp, trap) for pe in (0, 1))
    machine.run("KVM.HostChangeMode", 1, 0b10011)  # PE 1's CPSR, which only HypIntegrity reads
    assert not checked.outcomes(hyp, 1).by_args
    assert checked.outcomes(hyp, 0).by_args and checked.outcomes(trap, 1).by_args
    memslots = model.invariant("KVM.Inv.Memslots")
    assert checked.outcomes(memslots, None).by_args
    machine.run("KVM.CreateVM", 0, 3, 0x10, 0)  # KVM_VMValid, shared, which the slots' invariant reads
    assert not checked.outcomes(memslots, None).by_args
    assert not machine.violations(checked=checked)
    assert checked.outcomes(memslots, None).by_args


# How many kept values of each check and PE are evaluated again after each step.
SAMPLE = 64


def _kept_values_are_current(machine: Machine, checked: Checked, checks: list[Step],
                             rng: random.Random) -> None:
    """Kept values from earlier steps (a sample of each check's) are the values now; then every
    instance's value is kept."""
    compiled = machine.model.spec.compiled
    for check in checks:
        function = compiled.function(check.name)
        for pe, outcomes in checked.known.get(check.name, {}).items():
            state = machine.state if pe is None else machine.on(pe)
            kept = list(outcomes.by_args.items())
            for args, value in rng.sample(kept, min(SAMPLE, len(kept))):
                assert function(state, *args) == value, f"{check.name}{args} changed unnoticed"
    witnessed = machine.witnessed()
    observations = {check.name for check in machine.model.observations}

    def choices(check: Step) -> list[list[Any]]:
        if check.name in observations:  # as a run checks them: for the secret its twin varies
            return observation_choices(machine, check, Twin.SECRET, witnessed)
        return machine.choices(check, witnessed)

    for check, _, state, instances, known in machine.sweep(checks, choices, checked):
        function = compiled.function(check.name)
        for args in instances:
            known[args] = function(state, *args)


def test_what_a_run_keeps_is_what_it_would_evaluate_again(model: Model) -> None:
    """Some scenarios' steps, then random ones: after every step, every invariant, observation
    and witness value kept from the steps before is what evaluating it now gives."""
    rng = random.Random(1)
    samplers = {t.name: [for_param(p, 2, i == t.pe_index) for i, p in enumerate(t.params)]
                for t in model.transitions}
    checks = [*model.invariants, *model.observations, *model.witnesses]
    scenarios = read_scenarios(model, MODEL_DIR)
    for scenario in scenarios:
        machine, checked = Machine(model, max(2, pes_needed([scenario]))), Checked(model)
        machine.watched_by.append(checked)
        walk = list(scenario.steps)
        for _ in range(20):
            step = rng.choice(model.transitions)
            walk.append((step, tuple(draw(rng) for draw in samplers[step.name])))
        for step, args in walk:
            if machine.enabled(step.name, *args):
                machine.run(step.name, *args)
                _kept_values_are_current(machine, checked, checks, rng)
