"""``hypspec conform``: run spec-generated vectors on the QEMU harnesses and compare the results.

A vector (see :mod:`hypspec.vectors.store` and ``hypspec/vectors/schema.json``) says what the
spec predicts for one operation or script.  Its file's category (``meta.category``,
:mod:`hypspec.categories.registry`) names the harness it runs on; the harness turns it into a
case, runs the cases on QEMU and compares what QEMU did with what the spec said, field by field
(each harness's ``conform`` module says which fields: ``hypspec/categories/stage2/conform.py``,
``traps/conform.py``, ``script/conform.py``).  This module only orchestrates: it reads the
files, hands each category's vectors to its harness, matches the disagreements with the known
deviations (:mod:`hypspec.conformance.deviations`) and makes the report
(:mod:`hypspec.conformance.report`).  A file of a category no package defines is a user's label
for Stage 2 vectors, run as stage2's and reported under its label.

Exit status (:mod:`hypspec.exitcodes`): 0 when every disagreement is known, 1 when one is not,
2 for bad input (vector file, deviations file, unrunnable vector), 3 when the tools are missing
or the harness itself failed, 130 when interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hypspec.categories.category import Category, Harness, LoadedVector
from hypspec.categories.registry import DEFAULT, categories, category, harnesses
from hypspec.conformance.compare import Disagreement, vector_error
from hypspec.conformance.defaults import DEFAULT_BATCH, DEFAULT_DEVIATIONS, DEFAULT_JOBS
from hypspec.conformance.deviations import load_deviations, match_deviation
from hypspec.conformance.errors import ConformanceInputError
from hypspec.conformance.report import CategoryCounts, ConformReport, FileSummary, Finding
from hypspec.conformance.toolchain import find_toolchain
from hypspec.files import staged_directory
from hypspec.interrupt import Interrupted
from hypspec.output import MeterFactory, no_meter
from hypspec.vectors.store import read_vectors

# --- Loading a run's vectors ---------------------------------------------------------------------


def vector_files(paths: Sequence[Path]) -> list[Path]:
    """Every ``*.jsonl`` under the given directories, plus the given files, sorted, once each."""
    files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.jsonl"))
            if not found:
                raise ConformanceInputError(f"{path}: directory holds no *.jsonl vector files")
            files.update(found)
        elif path.is_file():
            files.add(path)
        else:
            raise ConformanceInputError(f"{path}: no such file or directory")
    return sorted(files)



def _check_operation(vector: dict[str, Any], label: str, kind: Category) -> None:
    """A vector must be of the kind its file's category runs: a script, or the category's spec
    operation."""
    if kind.operation is None:
        return
    if "operation" not in vector:
        scripts = [each.name for each in categories() if each.operation is None]
        raise vector_error(
            vector,
            f"a script vector in a file of category {label!r}; script vectors run from files "
            f"of category {' or '.join(repr(name) for name in scripts)}",
        )
    operation, wanted = vector["operation"]["name"], kind.operation
    if operation != wanted:
        elsewhere = "; ".join(
            f"{each.operation} vectors run from files of category {each.name!r}"
            for each in categories()
            if each.operation is not None and each.name != DEFAULT
        )
        raise vector_error(
            vector,
            f"operation {operation} in a file of category {label!r}, whose vectors are {wanted} "
            f"({elsewhere})",
        )


def load_run(
    files: Sequence[Path], progress: Callable[[str], None] | None = None
) -> tuple[list[FileSummary], list[LoadedVector]]:
    """Read, validate and convert every vector; report every unrunnable one at once."""
    summaries: list[FileSummary] = []
    loaded: list[LoadedVector] = []
    problems: list[str] = []
    first_file: dict[str, Path] = {}
    for path in files:
        contents = read_vectors(path)
        meta = contents.meta
        summaries.append(FileSummary(path, meta["category"], len(contents.vectors), meta["spec_hash"]))
        kind = category(meta["category"])
        load = kind.harness.loader(path, meta["category"], meta)
        if progress is not None:
            progress(f"conform: read {path} ({len(contents.vectors)} vectors)")
        for vector in contents.vectors:
            vector_id = vector["id"]
            if vector_id in first_file:
                # Two files of one category (two seeds, each a CATEGORY.jsonl in its own directory)
                # share ids such as random-0001; the run tells the second one apart by its file.
                vector = {**vector, "id": f"{vector_id}@{path}"}
                if vector["id"] in first_file:
                    problems.append(f"{path}: vector {vector_id!r}: the run would name it "
                                    f"{vector['id']!r}, which another vector is called")
                    continue
                vector_id = vector["id"]
            first_file[vector_id] = path
            try:
                _check_operation(vector, meta["category"], kind)
                loaded.append(load(vector))
            except ConformanceInputError as err:
                problems.append(f"{path}: vector {vector_id!r} cannot be run: {err}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ConformanceInputError(
            f"{len(problems)} problem(s) with the vectors; nothing was run:\n  {shown}{more}"
        )
    return summaries, loaded



# --- Images for a board --------------------------------------------------------------------------


def _by_harness(items: Sequence[LoadedVector]) -> list[tuple[Harness, list[LoadedVector]]]:
    """The items of each harness, in harness order, each harness's in the run's order."""
    return [(harness, [item for item in items if category(item.category).harness is harness])
            for harness in harnesses()]


def emit_images(items: Sequence[LoadedVector], out_dir: Path, *, batch: int) -> list[Path]:
    """Write the ELF images and per-image manifests, with each case's expected results.

    Stage 2 cases go to ``stage2_NNN.*`` images, trap cases to ``trap_NNN.*``, script cases to
    ``script_NNN.*``.
    """
    return [elf for harness, mine in _by_harness(items) if mine
            for elf in harness.emit(mine, out_dir, batch)]


def _run(items: Sequence[LoadedVector], *, batch: int, jobs: int, meter: MeterFactory) -> list[Any]:
    """Run the cases a few images at a time so a long run can show its progress, harness by
    harness."""
    step = batch * jobs
    seen: dict[str, Any] = {}
    try:
        with meter("conform: vectors run", len(items)) as run_meter:  # closed before Ctrl-C's message
            for harness, mine in _by_harness(items):
                cases = [item.case for item in mine]
                for first in range(0, len(cases), step):
                    chunk = cases[first : first + step]
                    for observation in harness.run(chunk, batch=batch, jobs=jobs):
                        seen[observation.id] = observation
                    run_meter.advance(len(chunk))
    except KeyboardInterrupt as interrupt:
        raise Interrupted(f"{len(seen)} of {len(items)} vectors had run; no verdict on any") from interrupt
    return [seen[item.case.id] for item in items]


def _disagreements(
    items: Sequence[LoadedVector], observations: Sequence[Any], batch: int
) -> list[list[Disagreement]]:
    """Each item's disagreements, in the run's order, compared by its harness."""
    found: dict[str, list[Disagreement]] = {}
    seen = {item.case.id: observation for item, observation in zip(items, observations, strict=True)}
    for harness, mine in _by_harness(items):
        compared = harness.compare(mine, [seen[item.case.id] for item in mine], batch)
        found.update((item.case.id, each) for item, each in zip(mine, compared, strict=True))
    return [found[item.case.id] for item in items]


def conform(
    paths: Sequence[Path],
    *,
    emit_elf: Path | None = None,
    jobs: int = DEFAULT_JOBS,
    deviations: Path = DEFAULT_DEVIATIONS,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str], None] | None = None,
    meter: MeterFactory = no_meter,
) -> ConformReport:
    """Run every vector of ``paths`` (files or directories of ``*.jsonl``) on QEMU and compare.

    Raises :class:`VectorFileError` for a malformed vector file, :class:`ConformanceInputError`
    for an invalid deviations file or an unrunnable vector (before anything runs),
    :class:`ToolchainMissingError` without QEMU/binutils, and :class:`HarnessRunError` or
    :class:`HarnessBuildError` when the harness itself fails.
    """
    if jobs < 1 or batch < 1:
        raise ConformanceInputError(f"jobs and batch must be at least 1 (got jobs={jobs}, batch={batch})")
    known = load_deviations(deviations)
    files, items = load_run(vector_files(paths), progress)
    if not items:
        # "all vectors agree" about no vectors would be a pass that checked nothing
        named = ", ".join(str(f.path) for f in files)
        raise ConformanceInputError(f"{named}: no vectors to run (the files hold none); nothing was run")
    find_toolchain()
    images = []
    if emit_elf is not None:
        # the images and manifests appear together, or (on an error or Ctrl-C) not at all
        with staged_directory(emit_elf) as scratch:
            images = [emit_elf / image.name for image in emit_images(items, scratch, batch=batch)]
    observations = _run(items, batch=batch, jobs=jobs, meter=meter)
    counts = {s.category: CategoryCounts() for s in files}
    findings: list[Finding] = []
    for item, disagreements in zip(items, _disagreements(items, observations, batch), strict=True):
        found = [Finding(d, item.file, match_deviation(d, known)) for d in disagreements]
        counts[item.category].add(found)
        findings += found
    from hypspec.api import spec_hash

    return ConformReport(files, counts, findings, known, images, spec_hash())
