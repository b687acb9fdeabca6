"""The reports the status pages are made from: the JSON that `hypspec prove --json`,
`hypspec conform --json` and `hypspec table1 --json` wrote, and the vector files of
`hypspec vectors` (their `meta` record: the path coverage), each held to its schema. Proving
everything takes many minutes, so the site never runs the tools itself: it shows the reports it
is given (`hypspec docs --status FILE...`), with when they were written and which spec they
were made from."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypspec.conformance.report import REPORT_FORMAT as CONFORM_FORMAT
from hypspec.conformance.report import REPORT_SCHEMA as CONFORM_SCHEMA
from hypspec.model.table1 import REPORT_FORMAT as TABLE1_FORMAT
from hypspec.model.table1 import REPORT_SCHEMA as TABLE1_SCHEMA
from hypspec.proof.report import FORMAT as PROVE_FORMAT
from hypspec.proof.report import SCHEMA as PROVE_SCHEMA
from hypspec.site.definitions import SiteError
from hypspec.vectors.store import FORMAT as VECTORS_FORMAT
from hypspec.vectors.store import SCHEMA_PATH as VECTORS_SCHEMA

# Each report the site reads, by the `format` it names, with its schema and the command that
# writes it.
SCHEMAS = {PROVE_FORMAT: (PROVE_SCHEMA, "hypspec prove --json"),
           CONFORM_FORMAT: (CONFORM_SCHEMA, "hypspec conform --json"),
           TABLE1_FORMAT: (TABLE1_SCHEMA, "hypspec table1 --json"),
           VECTORS_FORMAT: (VECTORS_SCHEMA, "hypspec vectors")}


class StatusError(SiteError):
    """A report given with --status cannot be used; the message names the file and the fault."""


@dataclass(frozen=True)
class Report:
    path: Path
    format: str
    data: dict[str, Any]
    written: str  # the file's modification time, UTC, to the minute

    @property
    def command(self) -> str:
        return SCHEMAS[self.format][1]


def read_reports(paths: list[Path]) -> dict[str, Report]:
    """Every report, by format (a vector file by format and category: one file per category);
    all are read and checked before anything is written."""
    found: dict[str, Report] = {}
    for path in paths:
        report = read_report(path)
        key = report_key(report)
        if key in found:
            what = f"{report.data['category']} vector file" if report.format == VECTORS_FORMAT \
                else f"{report.command} report"
            raise StatusError(f"{path}: a second {what} (the first was {found[key].path}); give one of each")
        found[key] = report
    return found


def report_key(report: Report) -> str:
    if report.format == VECTORS_FORMAT:
        return f"{VECTORS_FORMAT} {report.data['category']}"
    return report.format


def vector_files(reports: dict[str, Report]) -> list[Report]:
    """The vector files given, by category."""
    return sorted((r for r in reports.values() if r.format == VECTORS_FORMAT),
                  key=lambda r: r.data["category"])


def read_report(path: Path) -> Report:
    if path.suffix == ".jsonl":
        return _read_vector_meta(path)
    data, written = _read_json(path, first_line_only=False)
    kind = data.get("format") if isinstance(data, dict) else None
    if kind not in SCHEMAS or kind == VECTORS_FORMAT:  # a vector file is JSON Lines, named .jsonl
        known = ", ".join(f"{f} ({command})" for f, (_, command) in SCHEMAS.items() if f != VECTORS_FORMAT)
        raise StatusError(f"{path}: not a report the status pages read: its format is {kind!r}, "
                          f"expected one of {known}, or a vector file (.jsonl)")
    _validate(path, data, SCHEMAS[kind][0])
    return Report(path, kind, data, written)


def _read_vector_meta(path: Path) -> Report:
    """A vector file's first record, its `meta` (the category, the spec hash, the coverage): the
    vectors after it are `conform`'s to read, so a file of many megabytes costs one line here."""
    record, written = _read_json(path, first_line_only=True)
    _validate(path, record, VECTORS_SCHEMA, "meta")
    return Report(path, VECTORS_FORMAT, record["meta"], written)


def _read_json(path: Path, first_line_only: bool) -> tuple[Any, str]:
    """The file's JSON (or its first line's), and when it was written (UTC, to the minute)."""
    try:
        with path.open(encoding="utf-8") as file:
            text = file.readline() if first_line_only else file.read()
        written = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC)
    except (OSError, UnicodeDecodeError) as err:
        raise StatusError(f"{path}: cannot read: {err}") from err
    try:
        return json.loads(text), written.strftime("%Y-%m-%d %H:%M UTC")
    except json.JSONDecodeError as err:
        raise StatusError(f"{path}:{err.lineno}:{err.colno}: not JSON: {err.msg}") from err


def _validate(path: Path, data: object, schema_path: Path, definition: str | None = None) -> None:
    """`data` against the schema, or against one of its `$defs` (a vector file's meta record)."""
    import jsonschema  # only when a report is given

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the top level"
        raise StatusError(f"{path}: does not match {schema_path.name} at {where}: {error.message}")
