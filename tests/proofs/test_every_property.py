"""Discovery, not lists: every property the architecture's proof chapters state is proved, every
mutant of proofs/mutants/ is caught with a replayed counterexample, and no property goes without a
mutant that breaks it.

The properties are found in the loaded tree (every `property` declaration of proofs/ outside the
hypervisor model, whose properties and mutants tests/model checks), the mutants in their
directory, so a property or a mutant someone adds is under test without anyone adding it here.
"""

from __future__ import annotations

import pytest

from hypspec.api import Spec
from hypspec.proof.mutants import read_mutants
from tests.helpers.proofs import assert_caught, assert_proved, caught_properties, proof_spec

MODEL_PREFIX = "KVM."
MUTANTS = read_mutants()


def architecture_properties(spec: Spec) -> list[str]:
    functions = spec.program.functions.items()
    return sorted(name for name, f in functions if f.is_property and not name.startswith(MODEL_PREFIX))


PROPERTIES = architecture_properties(proof_spec())


def test_properties_and_mutants_are_found() -> None:
    """The discovery itself: every theme of proofs/ contributes, and so does every mutant file."""
    themes = {name.split(".")[0] for name in PROPERTIES}
    assert {"Stage2", "Aborts", "Modes", "Traps", "A32", "VGIC", "Timers", "Distributor", "Board",
            "SysRegs", "TLB"} <= themes
    files = {m.source.rsplit("/", 1)[-1] for m in MUTANTS}
    assert files == {"aborts.toml", "board.toml", "distributor.toml", "gic.toml", "modes.toml", "stage2.toml",
                     "system-registers.toml", "timers.toml", "tlb.toml", "traps.toml"}


@pytest.mark.parametrize("name", PROPERTIES)
def test_property_is_proved(spec_with_proofs: Spec, name: str) -> None:
    """Proof times are measured by `make bench`, not asserted here."""
    assert_proved(spec_with_proofs, name)


def test_every_property_has_a_mutant_that_breaks_it() -> None:
    assert set(PROPERTIES) <= caught_properties(MUTANTS)


def test_every_mutant_names_only_properties_that_exist() -> None:
    assert caught_properties(MUTANTS) <= set(PROPERTIES)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught_with_a_replayed_counterexample(mutant) -> None:
    assert_caught(mutant)
