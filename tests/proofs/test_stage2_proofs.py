"""What a stage 2 proof reports: refutations replayed with the table memory they read, vacuity
and `unknown` as failures, and `prove --json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import z3

from hypspec.api import SPEC_DIR, Spec
from hypspec.cli import main
from hypspec.proof import prover
from hypspec.proof.prover import REFUTED, UNKNOWN, VACUOUS, prove
from tests.helpers.proofs import assert_caught, mutants_of

PROPERTIES = ["Stage2.OffsetPreserved", "Stage2.Containment"]  # the two `prove --json` reports
STAGE2_MUTANTS = mutants_of("stage2.toml")


@pytest.mark.parametrize("mutant", STAGE2_MUTANTS, ids=lambda m: m.name)
def test_a_refuted_translation_property_shows_the_tables_it_read(mutant, spec_with_proofs: Spec) -> None:
    """Beyond being caught (tests/proofs/test_every_property.py): a stage 2 counterexample shows
    the configuration and the table memory the replay read."""
    outcome = assert_caught(mutant)
    for result in outcome.results:
        cex = result.counterexample
        assert cex is not None
        assert cex.memory, "a refuted translation property reads some table memory"
        text = cex.render(spec_with_proofs)
        assert "VTCR = 0x" in text and "memory read by the replay" in text
        assert "FALSE (confirmed)" in text


def _chapter(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "extra.md"
    path.write_text(f"# Extra\n\n### `Extra.P`\n\n*Source:* test. *Status:* Model-only.\n\n"
                    f"```spec\n{body}\n```\n")
    return path


def test_a_false_property_is_refuted_and_replayed(tmp_path: Path) -> None:
    spec = Spec.load(SPEC_DIR, _chapter(tmp_path, (
        "property Extra.P(bits(40) ipa)\n"
        "    r = AArch32.SecondStageTranslate(ipa, AccType_NORMAL, FALSE);\n"
        "    return IsFault(r.fault);")))
    result = prove(spec, "Extra.P")
    assert result.status == REFUTED
    assert result.counterexample is not None and result.counterexample.replayed


def test_a_replay_that_stops_at_an_assert_is_unknown_not_a_crash(tmp_path: Path) -> None:
    """The symbolic semantics leaves a read past an array's end unconstrained; the replay stops
    there. The result says so rather than raising or claiming a refutation."""
    spec = Spec.load(SPEC_DIR, _chapter(tmp_path, (
        "property Extra.P(bits(5) i)\n"
        "    return UInt(i) < 31 || _R[UInt(i)] == Zeros(32);")))
    result = prove(spec, "Extra.P")
    assert result.status == UNKNOWN and not result.ok
    assert "stopped at an assert" in result.detail and "outside 0..30" in result.detail
    assert result.counterexample is not None and result.counterexample.params == {"i": 31}


def test_an_unsatisfiable_hypothesis_is_a_vacuous_failure(tmp_path: Path) -> None:
    spec = Spec.load(SPEC_DIR, _chapter(tmp_path, (
        "property Extra.P(bits(8) x)\n"
        "    return (x == '00000000' && x == '00000001') --> FALSE;")))
    result = prove(spec, "Extra.P")
    assert result.status == VACUOUS and not result.ok


def test_contradictory_preconditions_are_a_vacuous_failure(tmp_path: Path) -> None:
    spec = Spec.load(SPEC_DIR, _chapter(tmp_path, (
        "property Extra.P(bits(8) x)\n"
        "    assert x == '00000000';\n"
        "    assert x == '00000001';\n"
        "    return TRUE;")))
    assert prove(spec, "Extra.P").status == VACUOUS


def test_solver_unknown_is_a_failure(spec_with_proofs: Spec, monkeypatch) -> None:
    class GivesUp(z3.Solver):
        def check(self, *assumptions):
            return z3.unknown

    monkeypatch.setattr(prover, "_solver", lambda timeout_s: GivesUp())
    result = prove(spec_with_proofs, "Stage2.OffsetPreserved")
    assert result.status == UNKNOWN and not result.ok


def test_prove_json_reports_status_and_time(capsys) -> None:
    assert main(["prove", "--json", *PROPERTIES]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in report["properties"]] == PROPERTIES
    assert all(p["status"] == "proved" and p["seconds"] > 0 for p in report["properties"])


def test_prove_unknown_property_name_is_an_error(capsys) -> None:
    assert main(["prove", "No.Such"]) == 2
    assert "unknown property 'No.Such'" in capsys.readouterr().err
