"""Mutants: broken copies of the spec or of a model that a property must catch.

A proof counts only once it has been seen to fail: each mutant file patches one chapter in a
temporary copy of the tree, and every property or invariant it names must then be refuted
with a counterexample that the concrete semantics replays. Mutants of the architecture live
in `proofs/mutants/`, mutants of the KVM/ARM model in `models/mutants/`. A model's *variants*
(`models/kvm_arm/variants.toml`, such as the faithful Linux 3.10) are read the same way: each
names the properties it is known to break, its findings.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypspec.model.program import Model

from hypspec.api import MODEL_DIR, MODELS_DIR, PROOFS_DIR, ROOT, Spec, proof_tree
from hypspec.arguments import DEFAULT_TIMEOUT_S
from hypspec.lang.diagnostics import Diagnostic, SpecError
from hypspec.lang.syntax import Loc
from hypspec.names import UnknownNameError, unknown_name
from hypspec.proof.prover import REFUTED, ProofResult, prove

MUTANTS_DIR = PROOFS_DIR / "mutants"
MODEL_MUTANTS_DIR = MODELS_DIR / "mutants"
VARIANTS_FILE = MODEL_DIR / "variants.toml"


@dataclass(frozen=True)
class Mutant:
    name: str
    bug_class: str
    file: str  # relative to the repository root
    find: str
    replace: str
    caught_by: list[str]
    source: str  # the mutant file, for error messages


@dataclass
class MutantResult:
    mutant: Mutant
    results: list[ProofResult]

    @property
    def caught(self) -> bool:
        return bool(self.results) and all(r.status == REFUTED for r in self.results)


_FIELDS = {"name", "bug_class", "file", "find", "replace", "caught_by"}


def read_mutants(directory: Path = MUTANTS_DIR) -> list[Mutant]:
    return [m for path in sorted(directory.glob("*.toml")) for m in read_mutant_file(path)]


def read_all_mutants() -> list[Mutant]:
    """The architecture's mutants, then the models'."""
    return read_mutants(MUTANTS_DIR) + read_mutants(MODEL_MUTANTS_DIR)


def read_mutant_file(path: Path, table: str = "mutant") -> list[Mutant]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise SpecError([Diagnostic(Loc(str(path), 1, 1), f"malformed mutant file: {err}")]) from err
    mutants = []
    for index, entry in enumerate(data.get(table, []), start=1):
        missing = _FIELDS - set(entry)
        if missing:
            message = f"{table} #{index} lacks {sorted(missing)}"
            raise SpecError([Diagnostic(Loc(str(path), 1, 1), message)])
        unknown = set(entry) - _FIELDS
        if unknown:
            message = f"{table} #{index} has unknown key(s) {sorted(unknown)}"
            raise SpecError([Diagnostic(Loc(str(path), 1, 1), message)])
        mutants.append(Mutant(**{k: entry[k] for k in _FIELDS}, source=str(path)))
    return mutants


def obligation_subject(entry: str) -> str:
    """The definition a `caught_by` entry is about: the property, invariant or observation it
    names, or the one whose obligation it names (`INV after TRANSITION`, `INV initially`), or the
    transition of a safety obligation (`TRANSITION keeps its asserts`)."""
    subject, after, _ = entry.partition(" after ")
    if after:
        return subject
    return entry.removesuffix(" initially").removesuffix(" keeps its asserts")


def mutants_naming(mutants: list[Mutant], names: list[str]) -> list[Mutant]:
    """The mutants that must be refuted by one of `names` or by an obligation of one of them: what
    `hypspec prove NAME... --mutants` checks, so that naming a property checks its own mutants
    and not every mutant of the tree."""
    wanted = set(names)
    return [m for m in mutants if any(obligation_subject(entry) in wanted for entry in m.caught_by)]


def read_variants(path: Path = VARIANTS_FILE) -> list[Mutant]:
    return read_mutant_file(path, "variant") if path.is_file() else []


def variant(name: str) -> list[Mutant]:
    """The patches of one variant (its entries with that name), applied together."""
    patches = [v for v in read_variants() if v.name == name]
    if not patches:
        known = sorted({v.name for v in read_variants()})
        raise UnknownNameError(unknown_name("model variant", name, known,
                                            f"; the variants are: {', '.join(known) or 'none'}"))
    return patches


# What a patched tree holds by default: the text the engine loads.
LOADED_TREES = ("spec", "models", "proofs")


@contextmanager
def patched_tree(*patches: Mutant, trees: tuple[str, ...] = LOADED_TREES) -> Iterator[Path]:
    """A temporary copy of `trees` (directories or files of the repository) with the patches
    applied; its root."""
    with tempfile.TemporaryDirectory(prefix="hypspec-mutant-") as tmp:
        root = Path(tmp)
        for tree in trees:
            if (ROOT / tree).is_dir():
                shutil.copytree(ROOT / tree, root / tree, ignore=shutil.ignore_patterns("__pycache__"))
            elif (ROOT / tree).is_file():
                shutil.copy2(ROOT / tree, root / tree)
        for patch in patches:
            target = root / patch.file
            text = target.read_text(encoding="utf-8")
            if text.count(patch.find) != 1:
                message = (f"{patch.name}: the text to replace occurs "
                           f"{text.count(patch.find)} times in {patch.file}, not once")
                raise SpecError([Diagnostic(Loc(patch.source, 1, 1), message)])
            target.write_text(text.replace(patch.find, patch.replace), encoding="utf-8")
        yield root


def check_mutant(mutant: Mutant, timeout_s: float | None = None) -> MutantResult:
    """Every property or invariant the mutant names is refuted, with a replayed counterexample.
    Each is given `timeout_s` of solver time, or by default what a property or the model's
    obligations are given (`hypspec prove --timeout`)."""
    from hypspec.model.program import Model

    with patched_tree(mutant) as root:
        spec = Spec.load(*proof_tree(root))
        results: list[ProofResult] = []
        model = Model(spec) if spec.program.transitions else None
        for name in mutant.caught_by:
            results.append(_refute(spec, model, name, timeout_s))
    return MutantResult(mutant, results)


def _refute(spec: Spec, model: Model | None, name: str, given_s: float | None) -> Any:
    """Try to refute one named obligation: a property, an invariant as a whole, or one
    obligation of it (`INV after TRANSITION`, `INV initially`, `TRANSITION keeps its asserts`)."""
    from hypspec.model.induction import discharge_transition, refute_invariant, summarise
    from hypspec.model.noninterference import discharge_noninterference, prove_observation

    if model is not None:
        timeout_s = given_s or model.obligation_timeout_s
        if name in spec.program.invariants:
            return refute_invariant(model, name, timeout_s)
        if name in spec.program.observations:
            return prove_observation(model, name, timeout_s, stop_at_refutation=True)
        invariant, after, transition = name.partition(" after ")
        if after and invariant in spec.program.invariants:
            model.transition(transition)
            return summarise(name, discharge_transition(model, transition, [invariant], timeout_s))
        if after and invariant in spec.program.observations:
            model.transition(transition)
            return summarise(name, discharge_noninterference(model, transition, [invariant], timeout_s,
                                                             stop_at_refutation=True))
        if name.endswith(" initially") and name.removesuffix(" initially") in spec.program.invariants:
            invariant = name.removesuffix(" initially")
            return summarise(name, discharge_transition(model, None, [invariant], timeout_s))
        if name.endswith(" keeps its asserts"):
            transition = name.removesuffix(" keeps its asserts")
            model.transition(transition)
            return summarise(name, discharge_transition(model, transition, [], timeout_s, safety=True))
    return prove(spec, name, given_s or DEFAULT_TIMEOUT_S)
