"""The reports the status pages are made from: the JSON that `hypspec prove --json`,
`hypspec conform --json` and `hypspec table1 --json` wrote, each held to its schema. Proving
everything takes many minutes, so the site never runs the tools itself: it shows the reports it
is given (`hypspec docs --status FILE...`), with when they were written and which spec they
were made from."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypspec.conformance.conform import REPORT_FORMAT as CONFORM_FORMAT
from hypspec.conformance.conform import REPORT_SCHEMA as CONFORM_SCHEMA
from hypspec.model.table1 import REPORT_FORMAT as TABLE1_FORMAT
from hypspec.model.table1 import REPORT_SCHEMA as TABLE1_SCHEMA
from hypspec.proof.report import FORMAT as PROVE_FORMAT
from hypspec.proof.report import SCHEMA as PROVE_SCHEMA
from hypspec.site.definitions import SiteError

# Each report the site reads, by the `format` it names, with its schema and the command that
# writes it.
SCHEMAS = {PROVE_FORMAT: (PROVE_SCHEMA, "hypspec prove --json"),
           CONFORM_FORMAT: (CONFORM_SCHEMA, "hypspec conform --json"),
           TABLE1_FORMAT: (TABLE1_SCHEMA, "hypspec table1 --json")}


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
    """Every report, by format; all are read and checked before anything is written."""
    found: dict[str, Report] = {}
    for path in paths:
        report = read_report(path)
        if report.format in found:
            raise StatusError(f"{path}: a second {report.command} report (the first was "
                              f"{found[report.format].path}); give one of each")
        found[report.format] = report
    return found


def read_report(path: Path) -> Report:
    try:
        text = path.read_text(encoding="utf-8")
        written = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC)
    except (OSError, UnicodeDecodeError) as err:
        raise StatusError(f"{path}: cannot read: {err}") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise StatusError(f"{path}:{err.lineno}:{err.colno}: not JSON: {err.msg}") from err
    kind = data.get("format") if isinstance(data, dict) else None
    if kind not in SCHEMAS:
        known = ", ".join(f"{f} ({command})" for f, (_, command) in SCHEMAS.items())
        raise StatusError(f"{path}: not a report the status pages read: its format is {kind!r}, "
                          f"expected one of {known}")
    _validate(path, data, SCHEMAS[kind][0])
    return Report(path, kind, data, written.strftime("%Y-%m-%d %H:%M UTC"))


def _validate(path: Path, data: object, schema_path: Path) -> None:
    import jsonschema  # only when a report is given

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the top level"
        raise StatusError(f"{path}: does not match {schema_path.name} at {where}: {error.message}")
