"""The KVM/ARM model's proofs (proofs/kvm-world-switch.md): every obligation of every invariant
proved by induction, every transition's safety obligation, every transition's noninterference
obligation (two copies of the model), completeness; every mutant refuted
where its `caught_by` says, with a counterexample the compiled model replays; and each Linux 3.10
finding still refuted on its own."""

from __future__ import annotations

import tomllib

import pytest

from hypspec.api import MODEL_DIR
from hypspec.arguments import DEFAULT_TIMEOUT_S
from hypspec.cli import main
from hypspec.model import induction
from hypspec.model.induction import InvariantResult, discharge_transition
from hypspec.model.noninterference import discharge_noninterference
from hypspec.model.program import Model, load_model
from hypspec.proof.mutants import MODEL_MUTANTS_DIR, check_mutant, read_mutants, read_variants
from hypspec.proof.prover import PROVED, prove

MUTANTS = read_mutants(MODEL_MUTANTS_DIR)
# Each obligation is given the solver time the model's manifest budgets, as `hypspec prove` gives
# it (split over its tries, `induction.ATTEMPTS`). The slowest (whether a guest's exit leaks a
# context word: `KVM.NoLeak.VcpuWord after KVM.GuestCP15Access` took 229 s and `after
# KVM.HandleCall` 182 s with four processes on two cores) take a minute or two on an idle
# machine; `make bench` tracks them. An answer not found in time is still a failure.
TIMEOUT_S = load_model().obligation_timeout_s


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


def test_the_model_budgets_its_obligations_in_its_manifest(model: Model) -> None:
    """The budget the prover gives each obligation by default is the manifest's, not the
    prover's default for a property."""
    manifest = tomllib.loads((MODEL_DIR / "manifest.toml").read_text(encoding="utf-8"))
    assert model.obligation_timeout_s == manifest["obligation_timeout_s"] != DEFAULT_TIMEOUT_S


def test_prove_gives_the_model_its_budget_unless_told(monkeypatch, capsys) -> None:
    """`hypspec prove` gives a model's invariant the manifest's budget, and `--timeout` wins."""
    given: list[float] = []

    def prove_invariant(model: Model, name: str, timeout_s: float) -> InvariantResult:
        given.append(timeout_s)
        return InvariantResult(name, "proved", 0.0)

    monkeypatch.setattr(induction, "prove_invariant", prove_invariant)
    main(["prove", "KVM.Inv.HypIntegrity", "--json"])
    main(["prove", "KVM.Inv.HypIntegrity", "--json", "--timeout", "7"])
    capsys.readouterr()
    assert given == [load_model().obligation_timeout_s, 7.0]


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
    outcome = check_mutant(mutant)
    assert outcome.caught, [(r.name, r.status, r.detail) for r in outcome.results]
    for result in outcome.results:
        assert result.counterexample is not None and result.counterexample.replayed, result.name


@pytest.mark.parametrize("finding", read_variants(), ids=lambda v: v.find.split()[2])
def test_each_linux_3_10_finding_is_refuted_on_its_own(finding) -> None:
    """Each patch of the faithful variant, applied alone, breaks what it names."""
    outcome = check_mutant(finding)
    assert outcome.caught, [(r.name, r.status, r.detail) for r in outcome.results]
    assert all(r.counterexample is not None and r.counterexample.replayed for r in outcome.results)
