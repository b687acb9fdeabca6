"""``hypspec conform``: run spec-generated vectors on the QEMU harnesses and compare the results.

A vector (see :mod:`hypspec.vectors.store` and ``hypspec/vectors/schema.json``) says what the
spec predicts for one operation or script.  Its file's category (``meta.category``,
:mod:`hypspec.categories.registry`) names the harness it runs on; the harness turns it into a
case, runs the cases on QEMU and compares what QEMU did with what the spec said, field by field
(each harness's ``conform`` module says which fields: ``hypspec/categories/stage2/conform.py``,
``traps/conform.py``, ``script/conform.py``).  This module only orchestrates: it reads the
files, hands each category's vectors to its harness, matches the disagreements with the known
deviations and reports.  A file of a category no package defines is a user's label for Stage 2
vectors, run as stage2's and reported under its label.

A disagreement is *known* when an entry of the deviations file (``known_deviations.toml``)
matches its category and field, and the vector carries the entry's ``flag`` and every one of its
``flags`` (those it names).  Exit status (:mod:`hypspec.exitcodes`): 0 when every disagreement
is known, 1 when one is not, 2 for bad input (vector file, deviations file, unrunnable vector), 3
when the tools are missing or the harness itself failed, 130 when interrupted.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypspec.categories.category import Category, Harness, LoadedVector
from hypspec.categories.registry import DEFAULT, categories, category, harnesses
from hypspec.conformance.compare import Disagreement, vector_error
from hypspec.conformance.defaults import DEFAULT_BATCH, DEFAULT_DEVIATIONS, DEFAULT_JOBS
from hypspec.conformance.errors import ConformanceInputError
from hypspec.conformance.toolchain import find_toolchain
from hypspec.exitcodes import ExitCode
from hypspec.files import staged_directory
from hypspec.interrupt import Interrupted
from hypspec.junit import Case, Suite
from hypspec.output import MeterFactory, no_meter
from hypspec.vectors.store import read_vectors

REPORT_FORMAT = "hypspec-conform/1"
#: The JSON Schema of `hypspec conform --json` (docs/cli.md, "JSON reports").
REPORT_SCHEMA = Path(__file__).with_name("conform-report.schema.json")
#: Field names a disagreement (and a deviation entry) can carry; ``memory`` stands for
#: ``memory[<pa>]``, ``read`` (script vectors) for ``read[<step>]``.
FIELDS = tuple(dict.fromkeys(name for harness in harnesses() for name in harness.fields))


# --- Disagreements and known deviations ----------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    """An explained disagreement between the spec and an implementation."""

    id: str
    category: str
    fields: tuple[str, ...]
    flag: str | None
    reason: str
    citation: str
    right: str  # "spec" or "implementation"
    flags: tuple[str, ...] = ()  # every one must be a flag of the vector, as must ``flag``
    differs_in: int | None = None  # script reads: every differing bit must be one of these

    def matches(self, disagreement: Disagreement) -> bool:
        required = (*self.flags, *([self.flag] if self.flag is not None else []))
        within = self.differs_in is None or (
            disagreement.xor is not None and disagreement.xor & ~self.differs_in == 0
        )
        return (
            disagreement.category == self.category
            and disagreement.base_field in self.fields
            and all(flag in disagreement.flags for flag in required)
            and within
        )


class DeviationsFileError(ConformanceInputError):
    """The known-deviations file is not valid TOML or an entry is malformed."""


_DEVIATION_KEYS = {"id", "category", "fields", "flag", "flags", "differs_in", "reason", "citation", "right"}


_DEVIATION_REQUIRED = _DEVIATION_KEYS - {"flag", "flags", "differs_in"}


_HEX = re.compile(r"0x[0-9a-f]+")


_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


_CATEGORY = re.compile(r"[a-z0-9]+")


_FLAG = re.compile(r"[A-Z0-9_]+")


_SECTION = re.compile(r"\b[A-D]\d+(\.\d+)*\b")


_GIC_SECTION = re.compile(r"§\d+(\.\d+)*")


def _entry_error(path: Path, index: int, entry: dict[str, Any], message: str) -> DeviationsFileError:
    name = f" (id {entry['id']!r})" if isinstance(entry.get("id"), str) else ""
    return DeviationsFileError(f"{path}: [[deviation]] entry {index}{name}: {message}")


def _nonempty_string(entry: dict[str, Any], key: str) -> str | None:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        return f"'{key}' must be a non-empty string, not {value!r}"
    return None


def _entry_problem(entry: dict[str, Any]) -> str | None:
    """What is wrong with one ``[[deviation]]`` table, or None."""
    unknown = sorted(set(entry) - _DEVIATION_KEYS)
    if unknown:
        return f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_DEVIATION_KEYS))})"
    missing = sorted(_DEVIATION_REQUIRED - set(entry))
    if missing:
        return f"missing key {missing[0]!r} (required: {', '.join(sorted(_DEVIATION_REQUIRED))})"
    for key in ("id", "category", "reason", "citation"):
        if problem := _nonempty_string(entry, key):
            return problem
    if not _ID.fullmatch(entry["id"]):
        return f"'id' {entry['id']!r} must match [a-z0-9][a-z0-9-]*"
    if not _CATEGORY.fullmatch(entry["category"]):
        return f"'category' {entry['category']!r} must match [a-z0-9]+ (a vector file's meta.category)"
    fields = entry["fields"]
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        return f"'fields' must be a non-empty list of field names, not {fields!r}"
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        return f"'fields' has {bad[0]!r}, which is not a compared field (one of: {', '.join(FIELDS)})"
    flag = entry.get("flag")
    if flag is not None and not (isinstance(flag, str) and _FLAG.fullmatch(flag)):
        return f"'flag' {flag!r} must be a vector flag, matching [A-Z0-9_]+"
    flags = entry.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) and _FLAG.fullmatch(f) for f in flags):
        return f"'flags' {flags!r} must be a list of vector flags, each matching [A-Z0-9_]+"
    citation = entry["citation"]
    arm_arm = "DDI 0406C.d" in citation and _SECTION.search(citation)
    gic = "IHI 0048B" in citation and _GIC_SECTION.search(citation)
    if not (arm_arm or gic):
        return (
            f"'citation' {citation!r} must cite the section that decides the question, as "
            "'ARM DDI 0406C.d §B3.13.6' or, for the GIC, 'ARM IHI 0048B.b §5.3.3' (it must "
            "contain 'DDI 0406C.d' and a section, or 'IHI 0048B' and a § section)"
        )
    differs_in = entry.get("differs_in")
    if differs_in is not None and not (isinstance(differs_in, str) and _HEX.fullmatch(differs_in)):
        return f"'differs_in' {differs_in!r} must be a lowercase hex string such as \"0x1c00\""
    if entry["right"] not in ("spec", "implementation"):
        return f'\'right\' must be "spec" or "implementation", not {entry["right"]!r}'
    return None


def load_deviations(path: Path = DEFAULT_DEVIATIONS) -> list[Deviation]:
    """Read and validate a known-deviations file; errors name the file and the entry (1-based)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DeviationsFileError(f"{path}: cannot read the deviations file: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise DeviationsFileError(f"{path}: not valid TOML: {err}") from err
    extra = sorted(set(data) - {"deviation"})
    if extra:
        raise DeviationsFileError(
            f"{path}: unknown top-level key {extra[0]!r}: the file holds only [[deviation]] entries"
        )
    entries = data.get("deviation", [])
    if not isinstance(entries, list):
        raise DeviationsFileError(f"{path}: 'deviation' must be an array of tables: [[deviation]]")
    deviations: list[Deviation] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise DeviationsFileError(f"{path}: [[deviation]] entry {index} is not a table")
        problem = _entry_problem(entry)
        if problem is None and entry["id"] in seen:
            problem = f"id {entry['id']!r} is used by an earlier entry"
        if problem is not None:
            raise _entry_error(path, index, entry, problem)
        seen.add(entry["id"])
        deviations.append(
            Deviation(
                id=entry["id"],
                category=entry["category"],
                fields=tuple(entry["fields"]),
                flag=entry.get("flag"),
                reason=entry["reason"],
                citation=entry["citation"],
                right=entry["right"],
                flags=tuple(entry.get("flags", [])),
                differs_in=int(entry["differs_in"], 16) if "differs_in" in entry else None,
            )
        )
    return deviations


def match_deviation(disagreement: Disagreement, deviations: Sequence[Deviation]) -> Deviation | None:
    """The first deviation that explains ``disagreement``, or None."""
    return next((d for d in deviations if d.matches(disagreement)), None)



# --- Loading a run's vectors ---------------------------------------------------------------------


@dataclass(frozen=True)
class FileSummary:
    path: Path
    category: str
    count: int
    spec_hash: str


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


# --- The run and its report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A disagreement, where its vector came from, and the deviation that explains it (if any)."""

    disagreement: Disagreement
    file: Path
    deviation: Deviation | None


@dataclass
class CategoryCounts:
    """Vectors of a category: ``agree`` + ``disagree`` + ``known`` == ``vectors``.

    ``disagree`` counts vectors with at least one unknown disagreement, ``known`` vectors whose
    disagreements are all known; ``agreement`` is the percentage that agree outright, and
    ``judged`` the percentage left once the judged deviations are set apart (agree or known).
    """

    vectors: int = 0
    agree: int = 0
    disagree: int = 0
    known: int = 0

    @property
    def agreement(self) -> float:
        return 100.0 * self.agree / self.vectors if self.vectors else 100.0

    @property
    def judged(self) -> float:
        return 100.0 * (self.agree + self.known) / self.vectors if self.vectors else 100.0

    def add(self, findings: Sequence[Finding]) -> None:
        self.vectors += 1
        if not findings:
            self.agree += 1
        elif any(f.deviation is None for f in findings):
            self.disagree += 1
        else:
            self.known += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "vectors": self.vectors,
            "agree": self.agree,
            "disagree": self.disagree,
            "known": self.known,
            "agreement_percent": round(self.agreement, 2),
            "judged_agreement_percent": round(self.judged, 2),
        }


@dataclass
class ConformReport:
    files: list[FileSummary]
    categories: dict[str, CategoryCounts]
    findings: list[Finding]
    deviations: list[Deviation]
    images: list[Path] = field(default_factory=list)
    spec_hash: str = ""  # the hash of the spec's chapters now (`hypspec.api.spec_hash`)

    @property
    def unknown(self) -> list[Finding]:
        return [f for f in self.findings if f.deviation is None]

    @property
    def known(self) -> list[Finding]:
        return [f for f in self.findings if f.deviation is not None]

    @property
    def exit_code(self) -> int:
        return ExitCode.FAILED if self.unknown else ExitCode.OK

    @property
    def total(self) -> CategoryCounts:
        counts = CategoryCounts()
        for c in self.categories.values():
            counts.vectors += c.vectors
            counts.agree += c.agree
            counts.disagree += c.disagree
            counts.known += c.known
        return counts

    def by_field(self) -> list[tuple[str, str, int, int]]:
        """(category, field, known, unknown), sorted."""
        known: Counter[tuple[str, str]] = Counter()
        unknown: Counter[tuple[str, str]] = Counter()
        for f in self.findings:
            key = (f.disagreement.category, f.disagreement.base_field)
            (unknown if f.deviation is None else known)[key] += 1
        keys = sorted(set(known) | set(unknown))
        return [(cat, name, known[(cat, name)], unknown[(cat, name)]) for cat, name in keys]

    def by_deviation(self) -> list[tuple[str, int]]:
        """(deviation, the disagreements it explains), for every deviation of a category that ran,
        in the deviations file's order."""
        explained = Counter(f.deviation.id for f in self.known if f.deviation is not None)
        return [(d.id, explained[d.id]) for d in self.deviations if d.category in self.categories]

    @property
    def unused_deviations(self) -> list[str]:
        """The deviations of the categories that ran that explained nothing: a category that did
        not run cannot have used its deviations."""
        return [name for name, count in self.by_deviation() if count == 0]

    @property
    def stale_files(self) -> list[FileSummary]:
        """The vector files made from another text of the spec than the one loaded now: their
        expected values may no longer be the spec's."""
        return [s for s in self.files if self.spec_hash and s.spec_hash != self.spec_hash]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "files": [
                {"path": str(s.path), "category": s.category, "count": s.count, "spec_hash": s.spec_hash}
                for s in self.files
            ],
            "categories": {name: c.as_json() for name, c in sorted(self.categories.items())},
            "total": self.total.as_json(),
            "fields": [
                {"category": c, "field": n, "disagreements": k + u, "known": k, "unknown": u}
                for c, n, k, u in self.by_field()
            ],
            "disagreements": [_finding_json(f) for f in self.findings],
            "unknown": len(self.unknown),
            "known": len(self.known),
            "deviations": [{"id": name, "disagreements": count} for name, count in self.by_deviation()],
            "unused_deviations": self.unused_deviations,
            "spec_hash": self.spec_hash,
            "stale_files": [str(s.path) for s in self.stale_files],
            "images": [str(p) for p in self.images],
            "exit_code": self.exit_code,
        }

    def render(self, verbose: bool = False) -> str:
        """The report as text; `verbose` lists each known disagreement, not only their count."""
        return "\n".join(_render(self, verbose)) + "\n"


def _finding_json(finding: Finding) -> dict[str, Any]:
    d = finding.disagreement
    return {
        "vector_id": d.vector_id,
        "file": str(finding.file),
        "category": d.category,
        "field": d.field,
        "expected": d.expected,
        "observed": d.observed,
        "mask": d.mask,
        "flags": list(d.flags),
        "known": finding.deviation is not None,
        "deviation": finding.deviation.id if finding.deviation else None,
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> list[str]:
    """The first ``text_columns`` columns left-aligned, the numbers after them right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i < text_columns else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _count_row(name: str, c: CategoryCounts) -> list[str]:
    return [name, str(c.vectors), str(c.agree), str(c.disagree), str(c.known), f"{c.agreement:.1f}%",
            f"{c.judged:.1f}%"]


def _finding_line(finding: Finding) -> str:
    d = finding.disagreement
    mask = f"  mask {d.mask}" if d.mask is not None else ""
    line = f"  {d.vector_id}  {d.field}: expected {d.expected}, observed {d.observed}{mask}"
    if finding.deviation is not None:
        line += f"  [deviation {finding.deviation.id}]"
    return line


def _render(report: ConformReport, verbose: bool) -> list[str]:
    vectors = sum(s.count for s in report.files)
    hashes = sorted({s.spec_hash[:16] for s in report.files})
    lines = [f"{vectors} vector(s) from {len(report.files)} file(s); spec hash {', '.join(hashes) or '-'}"]
    lines += [f"warning: {s.path} was generated from another text of the spec (hash {s.spec_hash[:16]}, "
              f"the spec's is {report.spec_hash[:16]}): generate it again to test the spec as it is"
              for s in report.stale_files]
    lines.append("")
    header = ["category", "vectors", "agree", "disagree", "known", "agreement%", "judged%"]
    rows = [_count_row(name, c) for name, c in sorted(report.categories.items())]
    lines += _table(header, [*rows, _count_row("total", report.total)])
    fields = report.by_field()
    if fields:
        lines += ["", "disagreements by field:"]
        rows = [[c, n, str(k + u), str(k), str(u)] for c, n, k, u in fields]
        lines += _table(["category", "field", "disagreements", "known", "unknown"], rows, text_columns=2)
    if report.unknown:  # each one is a finding to act on: always listed
        lines += ["", f"unknown disagreements ({len(report.unknown)}):"]
        lines += [_finding_line(f) for f in report.unknown]
    if report.known and verbose:
        lines += ["", f"known disagreements ({len(report.known)}):"]
        lines += [_finding_line(f) for f in report.known]
    elif report.known:  # explained by a deviation: counted, listed on request
        lines += ["", f"known disagreements: {len(report.known)} (`hypspec -v conform` lists each one)"]
    used = [(name, count) for name, count in report.by_deviation() if count]
    if used:
        lines += ["", "known disagreements by deviation:"]
        lines += _table(["deviation", "disagreements"], [[name, str(count)] for name, count in used])
    if report.unused_deviations:
        lines += ["", f"deviations that matched nothing: {', '.join(report.unused_deviations)}"]
    if report.images:
        lines += ["", f"images written: {', '.join(str(p) for p in report.images)}"]
    verdict = (
        f"FAIL: {len(report.unknown)} unknown disagreement(s)"
        if report.unknown
        else f"OK: every disagreement is known ({len(report.known)})"
        if report.known
        else "OK: all vectors agree"
    )
    return [*lines, "", verdict]


def junit_suites(report: ConformReport) -> list[Suite]:
    """`--junit`: a test per vector file, failed when one of its vectors disagrees with the spec
    in a way no deviation explains; the failure's text lists each such disagreement."""
    cases = []
    for summary in report.files:
        unknown = [f for f in report.unknown if f.file == summary.path]
        vectors = len({f.disagreement.vector_id for f in unknown})
        message = f"{len(unknown)} unknown disagreement(s) in {vectors} of {summary.count} vector(s)"
        cases.append(Case(str(summary.path), f"conform.{summary.category}",
                          failure=message if unknown else None,
                          details="\n".join([message, *(_finding_line(f) for f in unknown)])))
    return [Suite("conform", cases)]



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
