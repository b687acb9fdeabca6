"""Mutants: broken copies of the spec that a property must catch.

A proof counts only once it has been seen to fail: each mutant file in
`proofs/mutants/` patches one chapter in a temporary copy of the tree, and
every property it names must then be refuted with a counterexample that the
concrete semantics replays.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hypspec.api import PROOFS_DIR, ROOT, Spec
from hypspec.lang.diagnostics import Diagnostic, SpecError
from hypspec.lang.syntax import Loc
from hypspec.proof.prover import REFUTED, ProofResult, prove

MUTANTS_DIR = PROOFS_DIR / "mutants"


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
    mutants = []
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise SpecError([Diagnostic(Loc(str(path), 1, 1), f"malformed mutant file: {err}")]) from err
        for index, entry in enumerate(data.get("mutant", []), start=1):
            missing = _FIELDS - set(entry)
            if missing:
                message = f"mutant #{index} lacks {sorted(missing)}"
                raise SpecError([Diagnostic(Loc(str(path), 1, 1), message)])
            mutants.append(Mutant(**{k: entry[k] for k in _FIELDS}, source=str(path)))
    return mutants


def check_mutant(mutant: Mutant, timeout_s: float = 20.0) -> MutantResult:
    with tempfile.TemporaryDirectory(prefix="hypspec-mutant-") as tmp:
        root = Path(tmp)
        for tree in ("spec", "models", "proofs"):
            if (ROOT / tree).is_dir():
                shutil.copytree(ROOT / tree, root / tree)
        target = root / mutant.file
        text = target.read_text(encoding="utf-8")
        if text.count(mutant.find) != 1:
            message = (f"mutant {mutant.name}: the text to replace occurs "
                       f"{text.count(mutant.find)} times in {mutant.file}, not once")
            raise SpecError([Diagnostic(Loc(mutant.source, 1, 1), message)])
        target.write_text(text.replace(mutant.find, mutant.replace), encoding="utf-8")
        spec = Spec.load(root / "spec", root / "proofs")
        results = [prove(spec, name, timeout_s) for name in mutant.caught_by]
    return MutantResult(mutant, results)
