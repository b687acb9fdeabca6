"""The status pages: the proof table, conformance per category with its judged deviations, and
the model's context beside the paper's Table 1, each from the report it was given or, without
one, a page that says so and how to make one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypspec.conformance.deviations import Deviation
from hypspec.proof.mutants import obligation_subject
from hypspec.site.catalog import Catalog
from hypspec.site.links import markdown_link
from hypspec.site.status import CONFORM_FORMAT, PROVE_FORMAT, SCHEMAS, TABLE1_FORMAT, Report, vector_files

TITLE = "Status"


@dataclass(frozen=True)
class Hashes:
    """What the site was built from, to compare a report's hashes with."""

    spec: str  # the architecture's chapters
    tree: str  # every chapter loaded


@dataclass(frozen=True)
class StatusPage:
    path: str
    title: str
    format: str
    body: Callable[[Report, Catalog, list[Deviation]], list[str]]


def _provenance(report: Report, hashes: Hashes) -> list[str]:
    data = report.data
    head = f"From `{report.path.name}` (`{report.command}`), written {report.written}"
    if "spec_hash" not in data:  # table1's report names no hash: only its date places it
        return [f"{head}.", ""]
    same = data.get("tree_hash", hashes.tree) == hashes.tree and data["spec_hash"] == hashes.spec
    made = ("the chapters this site shows" if same else
            "**other chapters than this site shows** (its hashes differ): it may be out of date")
    return [f"{head}, made from {made}; spec hash `{data['spec_hash'][:12]}`.", ""]


def _proofs(report: Report, catalog: Catalog, _deviations: list[Deviation]) -> list[str]:
    caught = _caught_by(report.data["mutants"])
    lines = ["| property | status | time | mutants caught |", "| --- | --- | --- | --- |"]
    for result in report.data["properties"]:
        name = result["name"]
        shown = _linked(name, catalog)
        mutants = ", ".join(f"`{m}`" for m in caught.get(name, [])) or "none"
        lines.append(f"| {shown} | {result['status']} | {result['seconds']:.2f} s | {mutants} |")
    return [*lines, "", _mutant_summary(report.data["mutants"], catalog)]


def _caught_by(mutants: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each property, invariant or observation → the mutants it refuted. A model mutant is refuted
    by an obligation (`INV after TRANSITION`), and the table has a row for the invariant."""
    caught: dict[str, list[str]] = {}
    for mutant in mutants:
        for result in mutant["results"]:
            if result["status"] == "refuted":
                found = caught.setdefault(obligation_subject(result["name"]), [])
                if mutant["name"] not in found:
                    found.append(mutant["name"])
    return caught


def _mutant_summary(mutants: list[dict[str, Any]], catalog: Catalog) -> str:
    """How many mutants ran, of how many the tree has (`prove NAME... --mutants` runs only those
    naming what it proves), and which survived."""
    if not mutants:
        return "No mutants were run (the report was made without `--mutants`)."
    total = len(catalog.mutations.every)
    survived = [m["name"] for m in mutants if not m["caught"]]
    ran = (f"{len(mutants)} mutants run" if len(mutants) == total else
           f"{len(mutants)} of this tree's {total} mutants run (those naming the properties proved)")
    return (f"{ran}, {len(mutants) - len(survived)} caught"
            + (f"; survived: {', '.join(f'`{m}`' for m in survived)}" if survived else "") + ".")


def _linked(name: str, catalog: Catalog) -> str:
    """A property or model result by name: a link to its definition when it has one (a model's
    safety group or obligation is named after what it checks, not after a definition)."""
    definition = catalog.definitions.get(name)
    return markdown_link(name, "status/proofs.md", definition) if definition else f"`{name}`"


def _conformance(report: Report, _catalog: Catalog, deviations: list[Deviation]) -> list[str]:
    lines = ["| category | vectors | agree | known deviations | unexplained | agreement | judged |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    # `disagree` counts the vectors with a disagreement no deviation explains; `known` the others
    for category, counts in sorted(report.data["categories"].items()):
        lines.append(f"| {category} | {counts['vectors']} | {counts['agree']} | {counts['known']} | "
                     f"{counts['disagree']} | {counts['agreement_percent']:.1f} % | "
                     f"{counts['judged_agreement_percent']:.1f} % |")
    by_id = {d.id: d for d in deviations}
    lines += ["", "## Judged deviations", ""]
    used = [d for d in report.data["deviations"] if d["disagreements"]]
    if not used:
        lines.append("No disagreement in this run was explained by a judged deviation.")
    for entry in used:
        deviation = by_id.get(entry["id"])
        if deviation is None:  # a report made with another deviations file
            lines.append(f"- `{entry['id']}`: {entry['disagreements']} disagreements (not in this tree's "
                         f"deviations file)")
            continue
        lines.append(f"- `{deviation.id}` ({deviation.category}, {', '.join(deviation.fields)}; "
                     f"{entry['disagreements']} disagreements; right: {deviation.right}): "
                     f"{deviation.reason} *Citation:* {deviation.citation}")
    return lines


def _table1(report: Report, _catalog: Catalog, _deviations: list[Deviation]) -> list[str]:
    lines = ["| state | model | paper | counted | note |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {row['state']} | {row['model']} | {row['paper']} | {row['counted']} | "
              f"{_cell(row['note'])} |" for row in report.data["rows"]]
    missing = report.data["writable_not_switched"]
    lines += ["", "Registers a guest can write that the switch does not move: "
              + (", ".join(f"`{name}`" for name in missing) if missing else "none") + "."]
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


PAGES = (StatusPage("status/proofs.md", "Proofs", PROVE_FORMAT, _proofs),
         StatusPage("status/conformance.md", "Conformance", CONFORM_FORMAT, _conformance),
         StatusPage("status/table1.md", "Context against Table 1", TABLE1_FORMAT, _table1))


def status_markdown(page: StatusPage, reports: dict[str, Report], catalog: Catalog,
                    deviations: list[Deviation], hashes: Hashes) -> str:
    lines = [f"# {page.title}", ""]
    report = reports.get(page.format)
    if report is None:
        command = SCHEMAS[page.format][1]
        lines += [f"No `{command}` report was given to this build, so this page shows nothing. "
                  f"Build with `{command.split(' --')[0]} ... --json > FILE` and "
                  f"`hypspec docs --status FILE`.", ""]
    else:
        lines += _provenance(report, hashes) + page.body(report, catalog, deviations)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Note:
    """A line a report adds under a definition: its last proof, its vectors' path coverage."""

    label: str
    text: str  # Markdown
    page: str | None = None  # the status page that says more, linked from the note


def definition_notes(reports: dict[str, Report], catalog: Catalog, hashes: Hashes) -> dict[str, list[Note]]:
    """What the reports say about each definition: a property's or invariant's last proof (from
    the prove report) and a function's path coverage (from each vector file's meta record)."""
    notes: dict[str, list[Note]] = {}
    prove = reports.get(PROVE_FORMAT)
    if prove is not None:
        for result in prove.data["properties"]:
            if result["name"] in catalog.definitions:
                text = (f"{result['status']} in {result['seconds']:.2f} s, by the report written "
                        f"{prove.written}{_stale(prove, hashes)}")
                notes.setdefault(result["name"], []).append(Note("Last proof", text, "status/proofs.md"))
    for vectors in vector_files(reports):
        meta = vectors.data
        for name, (hit, feasible) in sorted(meta["coverage"]["by_function"].items()):
            if name in catalog.definitions:  # the others are a category's scenarios, not functions
                text = (f"{hit} of its {feasible} feasible paths hit by the {meta['category']} vectors "
                        f"(`{vectors.path.name}`, {meta['count']} vectors, written "
                        f"{vectors.written}{_stale(vectors, hashes)})")
                notes.setdefault(name, []).append(Note("Vector coverage", text))
    return notes


def _stale(report: Report, hashes: Hashes) -> str:
    return "" if report.data["spec_hash"] == hashes.spec else ", from other chapters than these"
