"""The report of a ``hypspec conform`` run: per category the vectors that agree, disagree or
disagree only in known ways, each disagreement with the deviation that explains it, as text, JSON
(``conform-report.schema.json``) and JUnit XML."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypspec.conformance.compare import Disagreement
from hypspec.conformance.deviations import Deviation
from hypspec.exitcodes import ExitCode
from hypspec.junit import Case, Suite

REPORT_FORMAT = "hypspec-conform/1"
#: The JSON Schema of `hypspec conform --json` (docs/cli.md, "JSON reports").
REPORT_SCHEMA = Path(__file__).with_name("conform-report.schema.json")


@dataclass(frozen=True)
class FileSummary:
    path: Path
    category: str
    count: int
    spec_hash: str


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
