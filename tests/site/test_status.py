"""The status pages, made from reports the real commands write in the test, and the refusal of a
report the pages cannot use: a precise message, exit 2, and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hypspec.api import Spec, spec_hash
from hypspec.cli import main
from hypspec.conformance.deviations import load_deviations
from hypspec.paths import ROOT, proof_tree
from hypspec.site.catalog import Catalog, make_catalog
from hypspec.site.mutations import read_all
from hypspec.site.pages import chapter_markdown
from hypspec.site.sources import read_parts
from hypspec.site.status import read_reports
from hypspec.site.status_pages import PAGES, Hashes, Note, definition_notes, status_markdown
from tests.conformance.test_conform import (
    DEVIATION_WRONG_HSR,
    correct_vectors,
    deviations_file,
    write_file,
    wrong_hsr_vector,
)

FAST_PROPERTY = "TLB.FillTouchesOnlyItsEntry"  # well under a second
# Its three mutants are refuted in seconds; one of them is also refuted by two other properties.
MUTATED_PROPERTY = "TLB.LocalByVMID"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _report(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, *argv: str) -> Path:
    code, out, _ = _run(capsys, *argv, "--json")
    assert code == 0
    path = tmp_path / name
    path.write_text(out, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def site() -> tuple[Catalog, Hashes]:
    spec = Spec.load(*proof_tree(ROOT))
    catalog = make_catalog(spec.program, read_parts(ROOT), read_all(ROOT))
    return catalog, Hashes(spec_hash(ROOT), spec.digest)


def _page(path: str, reports: list[Path], site: tuple[Catalog, Hashes]) -> str:
    page = next(p for p in PAGES if p.path == path)
    return status_markdown(page, read_reports(reports), site[0], load_deviations(), site[1])


def test_the_proof_table_shows_a_real_prove_report(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   site: tuple[Catalog, Hashes]) -> None:
    path = _report(tmp_path, capsys, "prove.json", "prove", FAST_PROPERTY)
    result = json.loads(path.read_text())["properties"][0]
    text = _page("status/proofs.md", [path], site)
    row = next(line for line in text.splitlines() if FAST_PROPERTY in line)
    assert f"| {result['status']} | {result['seconds']:.2f} s |" in row
    assert "(../proofs/tlb.md#TLB.FillTouchesOnlyItsEntry)" in row  # linked to its definition
    assert "made from the chapters this site shows" in text
    assert "without `--mutants`" in text


def test_the_proof_table_shows_the_mutants_a_real_report_caught(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], site: tuple[Catalog, Hashes]) -> None:
    path = _report(tmp_path, capsys, "prove.json", "prove", MUTATED_PROPERTY, "--mutants")
    mutants = json.loads(path.read_text())["mutants"]
    refuted = [m["name"] for m in mutants
               if any(r["name"] == MUTATED_PROPERTY and r["status"] == "refuted" for r in m["results"])]
    # the report checked the tree's mutants that name the property, and it caught every one
    naming = [m.name for m in read_all(ROOT) if MUTATED_PROPERTY in m.caught_by]
    assert refuted == naming and len(naming) > 1
    text = _page("status/proofs.md", [path], site)
    row = next(line for line in text.splitlines() if line.startswith(f"| [`{MUTATED_PROPERTY}`]"))
    assert row.endswith(f"| {', '.join(f'`{name}`' for name in refuted)} |")
    assert f"{len(mutants)} of this tree's {len(read_all(ROOT))} mutants run" in text
    assert f", {len(refuted)} caught." in text


def test_a_model_mutant_is_caught_by_its_invariants_row(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], site: tuple[Catalog, Hashes]) -> None:
    """A model mutant is refuted by an obligation (`INV after TRANSITION`); the table's row is
    the invariant's. The model's proofs take minutes, so the report is a real one with a model
    mutant's result written into it."""
    path = _report(tmp_path, capsys, "prove.json", "prove", FAST_PROPERTY)
    data = json.loads(path.read_text())
    invariant = next(iter(site[0].program.invariants))
    data["properties"].append({**data["properties"][0], "name": invariant})
    obligation = {"name": f"{invariant} after KVM.RunVcpu", "status": "refuted", "seconds": 1.0, "detail": ""}
    data["mutants"] = [{"name": "model-mutant", "bug_class": "logic", "caught": True,
                        "results": [obligation], "stateful": "caught after 3 steps"}]
    path.write_text(json.dumps(data))
    text = _page("status/proofs.md", [path], site)
    row = next(line for line in text.splitlines() if line.startswith(f"| [`{invariant}`]"))
    assert row.endswith("| `model-mutant` |")
    assert next(line for line in text.splitlines() if FAST_PROPERTY in line).endswith("| none |")


def _section(catalog: Catalog, name: str, notes: dict[str, list[Note]]) -> str:
    """The Markdown of a definition's section, from its heading to the next, with the notes."""
    page = catalog.definitions[name].page
    lines = chapter_markdown(page, catalog, (), notes).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and f"{{#{name}}}" in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return "\n".join(lines[start:end])


def test_a_property_shows_its_last_proof(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         site: tuple[Catalog, Hashes]) -> None:
    path = _report(tmp_path, capsys, "prove.json", "prove", FAST_PROPERTY)
    result = json.loads(path.read_text())["properties"][0]
    reports = read_reports([path])
    section = _section(site[0], FAST_PROPERTY, definition_notes(reports, site[0], site[1]))
    line = next(line for line in section.splitlines() if line.startswith("**Last proof:**"))
    assert f"{result['status']} in {result['seconds']:.2f} s" in line
    assert reports["hypspec-prove/1"].written in line and "(../status/proofs.md)" in line
    assert "other chapters" not in line


def test_a_function_shows_the_path_coverage_of_its_vectors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], site: tuple[Catalog, Hashes]) -> None:
    code, _, _ = _run(capsys, "-q", "vectors", "timers", "--random", "1", "--out", str(tmp_path))
    assert code == 0
    path = tmp_path / "timers.jsonl"
    meta = json.loads(path.read_text().splitlines()[0])["meta"]
    covered = {n: c for n, c in meta["coverage"]["by_function"].items() if n in site[0].definitions}
    assert covered  # the timers vectors cover functions of spec/11
    notes = definition_notes(read_reports([path]), site[0], site[1])
    # the least covered function, so that "hit" and "feasible" are told apart where they differ
    name, (hit, feasible) = min(covered.items(), key=lambda item: item[1][0] - item[1][1])
    section = _section(site[0], name, notes)
    assert (f"**Vector coverage:** {hit} of its {feasible} feasible paths hit by the timers vectors "
            f"(`timers.jsonl`, {meta['count']} vectors") in section
    assert set(notes) == set(covered)  # and nothing under a definition the file does not cover


def test_a_bad_vector_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "timers.jsonl"
    path.write_text(json.dumps({"meta": {"format": "hypspec-vectors/1", "category": "timers"}}) + "\n")
    out = tmp_path / "site"
    code, stdout, err = _run(capsys, "docs", "--out", str(out), "--status", str(path))
    assert code == 2 and stdout == "" and "Traceback" not in err
    assert err.startswith(f"hypspec docs: error: {path}: does not match schema.json at meta: ")
    assert not out.exists()


def test_the_context_page_shows_every_row_of_table1(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     site: tuple[Catalog, Hashes]) -> None:
    path = _report(tmp_path, capsys, "table1.json", "table1")
    text = _page("status/table1.md", [path], site)
    for row in json.loads(path.read_text())["rows"]:
        assert f"| {row['state']} | {row['model']} | {row['paper']} |" in text


def test_the_conformance_page_shows_a_real_conform_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], site: tuple[Catalog, Hashes]) -> None:
    # the conformance tests' vectors, run on QEMU: one disagrees on purpose, and a deviations file
    # explains it, so the report has a judged deviation to show with its citation
    vectors = write_file(tmp_path / "stage2.jsonl", [*correct_vectors(), wrong_hsr_vector()],
                         Spec.load().digest)
    known = deviations_file(tmp_path / "known.toml", DEVIATION_WRONG_HSR)
    path = _report(tmp_path, capsys, "conform.json", "conform", str(vectors), "--deviations", str(known))
    counts = json.loads(path.read_text())["categories"]["stage2"]
    assert (counts["vectors"], counts["known"]) == (len(correct_vectors()) + 1, 1)
    page = next(p for p in PAGES if p.path == "status/conformance.md")
    text = status_markdown(page, read_reports([path]), site[0], load_deviations(known), site[1])
    assert (f"| stage2 | {counts['vectors']} | {counts['agree']} | 1 | 0 | "
            f"{counts['agreement_percent']:.1f} % | 100.0 % |") in text
    deviation = next(line for line in text.splitlines() if line.startswith("- `test-wrong-hsr`"))
    assert "(stage2, HSR; 1 disagreements; right: implementation)" in deviation
    assert "the vector claims a level-3 Permission fault for a level-2 block, on purpose" in deviation
    assert "*Citation:* ARM DDI 0406C.d §B3.13.6 and Table B3-24: DFSC encodes the lookup level" in deviation
    assert "made from the chapters this site shows" in text
    # the site's own deviations file does not have the test's entry: the page says so
    shipped = status_markdown(page, read_reports([path]), site[0], load_deviations(), site[1])
    assert "- `test-wrong-hsr`: 1 disagreements (not in this tree's deviations file)" in shipped


def test_a_page_without_its_report_says_so(site: tuple[Catalog, Hashes]) -> None:
    for page in PAGES:
        text = status_markdown(page, {}, site[0], load_deviations(), site[1])
        assert "report was given to this build" in text and "|" not in text


def test_a_report_of_other_chapters_is_marked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              site: tuple[Catalog, Hashes]) -> None:
    path = _report(tmp_path, capsys, "prove.json", "prove", FAST_PROPERTY)
    data = json.loads(path.read_text())
    data["tree_hash"] = "0" * 64
    path.write_text(json.dumps(data))
    assert "other chapters than this site shows" in _page("status/proofs.md", [path], site)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda text: text[:-5], ": not JSON: "),
    (lambda text: text.replace('"hypspec-prove/1"', '"hypspec-prove/9"'), "its format is 'hypspec-prove/9'"),
    (lambda text: text.replace('"proved"', '"maybe"'), "does not match prove-report.schema.json at "
                                                       "properties/0/status"),
])
def test_a_bad_report_is_refused_before_anything_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], damage, message: str) -> None:
    path = _report(tmp_path, capsys, "prove.json", "prove", FAST_PROPERTY)
    path.write_text(damage(path.read_text()))
    out = tmp_path / "site"
    code, stdout, err = _run(capsys, "docs", "--out", str(out), "--status", str(path))
    assert code == 2 and stdout == ""
    assert err.startswith(f"hypspec docs: error: {path}") and message in err
    assert "Traceback" not in err
    assert not out.exists() and not (tmp_path / "site-src").exists()


def test_a_missing_report_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.json"
    code, _, err = _run(capsys, "docs", "--out", str(tmp_path / "site"), "--status", str(missing))
    assert code == 2 and f"{missing}: cannot read" in err
