"""What every subcommand prints where (#13, item 7): `-q` and `-v` before the subcommand, no
colour, `check --json`, and the JUnit XML of `prove --junit` (`conform --junit` is tested with
the QEMU runs in tests/conformance/test_conform.py)."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from hypspec.api import ROOT, SPEC_DIR, Spec, proof_tree
from hypspec.cli import main
from hypspec.exitcodes import ExitCode
from hypspec.model.induction import INITIAL, STEP, InvariantResult, Obligation, ObligationResult
from hypspec.output import shown
from hypspec.proof import report
from hypspec.proof.mutants import Mutant, MutantResult, mutants_naming, read_all_mutants
from hypspec.proof.prover import ProofResult

# Two properties of proofs/ that take a fraction of a second each.
FAST = ["Stage2.Containment", "Stage2.OffsetPreserved"]
# Two properties of proofs/ whose few mutants are refuted in seconds.
MUTATED = ["TLB.InnerShareableByVMID", "Stage2.Containment"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`hypspec ARGV` in-process: its exit code (argparse's included), stdout and stderr."""
    try:
        code = main(list(argv))
    except SystemExit as done:
        code = done.code
    out, err = capsys.readouterr()
    return int(code), out, err


def _timeless(text: str) -> str:
    """A table with its times taken out: two runs of the same proofs differ only there."""
    return re.sub(r"\d+\.\d+ s", "T s", text)


# --- -q and -v -----------------------------------------------------------------------------------


def test_quiet_and_verbose_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "-q", "-v", "check")
    assert code == ExitCode.USAGE and "not allowed with argument" in err


def test_quiet_and_verbose_come_before_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """One place for them, as docs/cli.md says: after the subcommand they are not its options."""
    code, _, err = _run(capsys, "check", "-q")
    assert code == ExitCode.USAGE and "unrecognized arguments: -q" in err


def test_quiet_prove_prints_the_same_table_and_no_progress(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "prove", *FAST)
    assert code == ExitCode.OK and "proving Stage2.Containment ..." in err
    quiet_code, quiet_out, quiet_err = _run(capsys, "-q", "prove", *FAST)
    assert quiet_code == code and quiet_err == ""
    assert _timeless(quiet_out) == _timeless(out)


def test_quiet_keeps_the_error_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "-q", "prove", "Stage2.Containmen")
    assert code == ExitCode.USAGE and out == ""
    assert "unknown property 'Stage2.Containmen' (did you mean 'Stage2.Containment'?)" in err


def test_quiet_explore_and_vectors_say_only_their_result(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    explore = ["explore", "--steps", "3", "--examples", "2"]
    code, out, err = _run(capsys, *explore)
    assert code == ExitCode.OK and err.startswith("exploring: 2 runs")
    code, quiet_out, quiet_err = _run(capsys, "-q", *explore)
    assert code == ExitCode.OK and quiet_err == "" and "OK: every invariant held" in quiet_out
    code, out, err = _run(capsys, "-q", "vectors", "timers", "--random", "1", "--out", str(tmp_path))
    assert code == ExitCode.OK and err == "" and out.startswith("wrote ")


def _model_result() -> InvariantResult:
    """An invariant of the model as `prove` reports it, from two obligations (proving a real one
    takes most of a minute, and only the report is under test here)."""
    first = ObligationResult(Obligation(INITIAL, "KVM.Inv.PEState", None), "proved", 0.5)
    second = ObligationResult(Obligation(STEP, "KVM.Inv.PEState", "KVM.BootPE"), "proved", 1.25)
    return InvariantResult("KVM.Inv.PEState", "proved", 1.75, "2 obligations", None, [first, second])


def test_verbose_prove_shows_each_obligation_of_a_model_result(capsys: pytest.CaptureFixture[str]) -> None:
    run = report._Run(spec=Spec.load(*proof_tree()), results=[_model_result()])
    report._print_table(run, None, detailed=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:4] == ["  KVM.Inv.PEState initially: proved, 0.50 s",
                          "  KVM.Inv.PEState after KVM.BootPE: proved, 1.25 s"]
    report._print_table(run, None)
    assert "initially" not in capsys.readouterr().out
    [entry] = report._as_json(run, None, detailed=True)["properties"]
    assert [ob["name"] for ob in entry["obligations"]] == ["KVM.Inv.PEState initially",
                                                           "KVM.Inv.PEState after KVM.BootPE"]
    [entry] = report._as_json(run, None)["properties"]
    assert "obligations" not in entry


def test_verbose_adds_nothing_to_a_property_of_proofs(capsys: pytest.CaptureFixture[str]) -> None:
    """A property is one query: `-v` has no obligations to show for it."""
    _, out, _ = _run(capsys, "prove", FAST[0])
    _, verbose_out, _ = _run(capsys, "-v", "prove", FAST[0])
    assert _timeless(verbose_out) == _timeless(out)


# --- colour --------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_reaches_only_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    coloured = "\x1b[33mWARNING -  \x1b[0mno such page"
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert shown(coloured, _Terminal()) == coloured
    assert shown(coloured, io.StringIO()) == "WARNING -  no such page"
    monkeypatch.setenv("NO_COLOR", "1")
    assert shown(coloured, _Terminal()) == "WARNING -  no such page"


# Ways Python source writes the escape character that starts an ANSI colour.
ESCAPES = ("\x1b", "\\x1b", "\\033", "\\u001b", "\\N{ESCAPE}")


def test_hypspec_writes_no_colour_of_its_own() -> None:
    """docs/cli.md says nothing hypspec prints is coloured: no source file but the one that strips
    colour from MkDocs's log names the escape character."""
    naming = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "hypspec").rglob("*.py")
                    if any(e in path.read_text(encoding="utf-8") for e in ESCAPES))
    assert naming == ["hypspec/output.py"]


# --- check --json --------------------------------------------------------------------------------


def test_check_json_names_what_it_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "check", "--json")
    assert code == ExitCode.OK and err == ""
    checked = json.loads(out)
    spec = Spec.load(*proof_tree())
    assert checked["ok"] is True and checked["tree_hash"] == spec.digest
    assert checked["spec_hash"] == Spec.load(SPEC_DIR).digest  # spec/ alone, as vector files record
    assert len(checked["chapters"]) == len(spec.loaded.files)
    # named as diagnostics name them, relative to the working directory
    assert any(c.endswith("spec/05-stage2-translation.md") for c in checked["chapters"])
    assert checked["functions"] == sorted(spec.program.functions)
    assert "AArch32.SecondStageTranslate" in checked["functions"]
    assert "Stage2.Containment" in checked["properties"]
    assert {"HCR", "VTTBR"} <= set(checked["registers"]) and "PhysMem" not in checked["registers"]
    # the same counts as the text output
    _, text, _ = _run(capsys, "check")
    assert f"{len(checked['functions'])} function(s) ({len(checked['properties'])} properties)" in text


def test_check_json_gives_each_error_where_the_text_does(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    chapter = tmp_path / "bad.md"
    chapter.write_text("# Two errors\n\n```spec\nbits(8) F()\n    return 1;\n```\n\n"
                       "## `G`\n\n```spec\nbits(8) G()\n    return H();\n```\n", encoding="utf-8")
    code, out, _ = _run(capsys, "check", "--json", str(chapter))
    assert code == ExitCode.FAILED
    failed = json.loads(out)
    assert failed["ok"] is False and failed["errors"] == len(failed["diagnostics"]) >= 2
    _, _, text = _run(capsys, "check", str(chapter))
    for d in failed["diagnostics"]:
        assert f"{d['file']}:{d['line']}:{d['col']}: error: {d['message']}" in text
    assert {d["line"] for d in failed["diagnostics"]} >= {4, 12}


# --- prove --junit -------------------------------------------------------------------------------


def _junit(path: Path) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.parse(path).getroot()
    cases = {c.get("name", ""): c for suite in root.findall("testsuite") for c in suite.findall("testcase")}
    return root, cases


def test_prove_junit_has_a_test_per_row_failed_as_the_table_says(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The second property is reported refuted (no property of proofs/ fails, and a refutation
    must show as a failure)."""
    real = report.prove

    def prove(spec: Spec, name: str, timeout: float) -> ProofResult:
        result = real(spec, name, timeout)
        return replace(result, status="refuted", detail="as this test says") if name == FAST[1] else result

    monkeypatch.setattr(report, "prove", prove)
    junit = tmp_path / "out" / "prove.xml"
    code, out, _ = _run(capsys, "-q", "prove", *FAST, "--junit", str(junit))
    assert code == ExitCode.FAILED and "1/2 properties proved" in out
    root, cases = _junit(junit)
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    assert [s.get("name") for s in root.findall("testsuite")] == ["properties"]
    assert list(cases) == FAST
    assert cases[FAST[0]].find("failure") is None and float(cases[FAST[0]].get("time", "")) >= 0
    failure = cases[FAST[1]].find("failure")
    assert failure is not None and failure.get("message") == "refuted: as this test says"
    assert [p.name for p in junit.parent.iterdir()] == ["prove.xml"]


def test_prove_junit_fails_a_mutant_that_survives() -> None:
    mutant = Mutant("m.survives", "logic", "spec/x.md", "a", "b", [FAST[0]], "proofs/mutants/m.toml")
    caught = MutantResult(replace(mutant, name="m.caught"), [ProofResult(FAST[0], "refuted", 0.5)])
    survived = MutantResult(mutant, [ProofResult(FAST[0], "proved", 0.25)])
    run = report._Run(spec=Spec.load(*proof_tree()), results=[ProofResult(FAST[0], "proved", 0.1)],
                      mutants=[caught, survived])
    suites = report.junit_suites(run)
    assert [s.name for s in suites] == ["properties", "mutants"]
    [ok, bad] = suites[1].cases
    assert (ok.name, ok.failure) == ("m.caught", None)
    assert (bad.name, bad.failure) == ("m.survives", "SURVIVED the proofs")
    assert f"{FAST[0]}: proved" in bad.details


def test_prove_names_mutants_checks_exactly_the_mutants_naming_them(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`prove NAME... --mutants` checks the mutants whose `caught_by` names one of the names, not
    every mutant of the tree, and its table says how many and why those."""
    every = read_all_mutants()
    naming = {m.name for m in every if set(m.caught_by) & set(MUTATED)}
    assert 0 < len(naming) < len(every)
    code, out, _ = _run(capsys, "-q", "prove", *MUTATED, "--mutants")
    assert code == ExitCode.OK and f"{len(naming)}/{len(naming)} mutants caught by a proof" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("mutant "))
    rows = lines[header + 1 : lines.index("", header)]
    assert {row.split()[0] for row in rows} == naming
    scope = lines[header - 1]
    assert scope.startswith(f"{len(naming)} of the tree's {len(every)} mutants checked")
    assert f"caught_by names {', '.join(MUTATED)}" in scope


def test_a_model_invariant_selects_the_mutants_naming_its_obligations() -> None:
    """A model mutant names an obligation (`INV after TRANSITION`, `INV initially`): naming the
    invariant selects it; a transition's safety, or an obligation of another invariant whose name
    begins the same, does not."""
    def mutant(name: str, entry: str) -> Mutant:
        return Mutant(name, "logic", "models/x.md", "a", "b", [entry], "models/mutants/m.toml")

    mutants = [mutant("after", "KVM.Inv.A after KVM.Run"), mutant("initially", "KVM.Inv.A initially"),
               mutant("safety", "KVM.Run keeps its asserts"), mutant("other", "KVM.Inv.AB after KVM.Run"),
               mutant("whole", "KVM.Inv.A")]
    assert [m.name for m in mutants_naming(mutants, ["KVM.Inv.A"])] == ["after", "initially", "whole"]


def test_no_junit_is_written_when_the_call_is_refused(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    junit = tmp_path / "prove.xml"
    code, _, _ = _run(capsys, "prove", "Stage2.Containmen", "--junit", str(junit))
    assert code == ExitCode.USAGE and not junit.exists()
    code, _, err = _run(capsys, "prove", FAST[0], "--junit", str(tmp_path))
    assert code == ExitCode.USAGE and "is a directory" in err


# --- determinism ---------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["explore", "--steps", "8", "--examples", "4", "--seed", "7", "--json"],
    ["vectors", "stage2", "--seed", "7", "--random", "5", "--out", "{out}", "--json"],
], ids=["explore", "vectors"])
def test_the_same_seed_gives_the_same_json_report(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   argv: list[str]) -> None:
    reports = []
    for run in ("first", "second"):
        out = tmp_path / run
        code, report, _ = _run(capsys, *(a.replace("{out}", str(out)) for a in argv))
        assert code == ExitCode.OK
        reports.append(report.replace(str(out), "OUT"))
    assert reports[0] == reports[1]
    assert "seconds" not in json.loads(reports[0])
