"""The checks every theme's proof tests make: a property is proved; a mutant is caught, each
refuting property with a counterexample the concrete semantics replayed; every property has a
mutant that breaks it."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from hypspec.api import Spec, proof_tree
from hypspec.proof.mutants import Mutant, MutantResult, check_mutant, read_mutants
from hypspec.proof.prover import PROVED, prove


@cache
def proof_spec() -> Spec:
    """The tree `hypspec prove` loads, loaded once per test process (the `spec_with_proofs`
    fixture, and test modules that parametrize over its properties)."""
    return Spec.load(*proof_tree())


def mutants_of(file_name: str) -> list[Mutant]:
    """The mutants of one file of proofs/mutants/ (`"traps.toml"`)."""
    return [m for m in read_mutants() if m.source.endswith(file_name)]


def assert_proved(spec: Spec, name: str) -> None:
    result = prove(spec, name)
    assert result.status == PROVED, (name, result.detail)


def assert_caught(mutant: Mutant) -> MutantResult:
    """The mutant is caught, and every refutation was replayed concretely; the result, for
    checks of the counterexamples themselves."""
    outcome = check_mutant(mutant)
    assert outcome.caught, [(r.name, r.status, r.detail) for r in outcome.results]
    for result in outcome.results:
        assert result.counterexample is not None and result.counterexample.replayed, result.name
    return outcome


def caught_properties(mutants: Iterable[Mutant]) -> set[str]:
    """The properties some mutant must break."""
    return {name for mutant in mutants for name in mutant.caught_by}
