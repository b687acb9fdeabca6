"""The KVM/ARM model's proofs (proofs/kvm-world-switch.md): every obligation of every invariant
proved by induction, every transition's safety obligation, every transition's noninterference
obligation (two copies of the model), completeness; every mutant refuted
where its `caught_by` says, with a counterexample the compiled model replays; and each Linux 3.10
finding still refuted on its own."""

from __future__ import annotations

import pytest

from hypspec.model.induction import discharge_transition
from hypspec.model.noninterference import discharge_noninterference
from hypspec.model.program import Model, load_model
from hypspec.proof.mutants import MODEL_MUTANTS_DIR, check_mutant, read_mutants, read_variants
from hypspec.proof.prover import PROVED, prove

MUTANTS = read_mutants(MODEL_MUTANTS_DIR)
# Seconds the solver has for one query (split over its tries, `induction.ATTEMPTS`). The slowest
# obligations (the memory part's, after a map or an unmap, and whether a guest's exit leaks a
# context word: `KVM.NoLeak.VcpuWord after KVM.GuestCP15Access` took 229 s and `after
# KVM.HandleCall` 182 s with four processes on two cores) take up to a minute or two on an idle
# machine, split over their cases; `make bench` tracks them. An answer not found in time is
# still a failure.
TIMEOUT_S = 360.0


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


@pytest.mark.parametrize("transition", [None, *(t.name for t in load_model().transitions)],
                         ids=lambda t: t or "initially")
def test_every_obligation_of_the_step_is_proved(model: Model, transition: str | None) -> None:
    """Every invariant holds initially and after the step, and the step keeps its asserts."""
    results = discharge_transition(model, transition, [i.name for i in model.invariants], timeout_s=TIMEOUT_S,
                                   safety=transition is not None)
    assert len(results) == len(model.invariants) + (transition is not None)
    assert [(r.name, r.status, r.detail) for r in results if r.status != PROVED] == []


@pytest.mark.parametrize("transition", [t.name for t in load_model().transitions])
def test_the_step_leaks_nothing(model: Model, transition: str) -> None:
    """From two states that agree outside the secret VM, the step leaves every observation equal."""
    results = discharge_noninterference(model, transition, timeout_s=TIMEOUT_S)
    assert [r.name for r in results] == [f"{o.name} after {transition}" for o in model.observations]
    assert [(r.name, r.status, r.detail) for r in results if r.status != PROVED] == []


def test_completeness_is_proved(model: Model) -> None:
    assert prove(model.spec, "KVM.Completeness").status == PROVED


def test_every_invariant_observation_and_property_has_a_mutant(model: Model) -> None:
    """Every invariant, observation and property is named by a mutant."""
    named = {entry.partition(" after ")[0] for m in MUTANTS for entry in m.caught_by}
    properties = {n for n in model.spec.program.properties if n.startswith("KVM.")}
    observed = {o.name for o in model.observations}
    assert {i.name for i in model.invariants} | properties | observed <= named


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught_with_a_replayed_counterexample(mutant) -> None:
    outcome = check_mutant(mutant, timeout_s=TIMEOUT_S)
    assert outcome.caught, [(r.name, r.status, r.detail) for r in outcome.results]
    for result in outcome.results:
        assert result.counterexample is not None and result.counterexample.replayed, result.name


@pytest.mark.parametrize("finding", read_variants(), ids=lambda v: v.find.split()[2])
def test_each_linux_3_10_finding_is_refuted_on_its_own(finding) -> None:
    """Each patch of the faithful variant, applied alone, breaks what it names."""
    outcome = check_mutant(finding, timeout_s=TIMEOUT_S)
    assert outcome.caught, [(r.name, r.status, r.detail) for r in outcome.results]
    assert all(r.counterexample is not None and r.counterexample.replayed for r in outcome.results)
