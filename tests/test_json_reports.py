"""The `--json` reports of `prove` and `conform` hold to their published schemas
(`hypspec/proof/prove-report.schema.json`, `hypspec/conformance/conform-report.schema.json`),
and the schemas have teeth: a report missing a field, or carrying one they do not describe, fails.
(conform's own report is checked against its schema in tests/conformance/test_conform.py.)"""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest

from hypspec.api import Spec, proof_tree, spec_hash
from hypspec.cli import main
from hypspec.conformance.report import REPORT_FORMAT, REPORT_SCHEMA
from hypspec.model.induction import INITIAL, STEP, InvariantResult, Obligation, ObligationResult
from hypspec.proof import report
from hypspec.proof.mutants import Mutant, MutantResult
from hypspec.proof.prover import ProofResult
from tests.helpers.schemas import assert_matches_schema, schema_errors

PROPERTY = "Stage2.OffsetPreserved"


def _prove_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["prove", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_real_prove_report_holds_to_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    found = _prove_json(capsys, PROPERTY)
    assert_matches_schema(found, report.SCHEMA)
    assert found["spec_hash"] == spec_hash() and found["tree_hash"] == Spec.load(*proof_tree()).digest


def test_every_part_of_a_prove_report_is_described() -> None:
    """Obligations (-v), a counterexample, mutants with a stateful verdict: every optional part."""
    obligations = [ObligationResult(Obligation(INITIAL, "KVM.Inv.PEState", None), "proved", 0.5),
                   ObligationResult(Obligation(STEP, "KVM.Inv.PEState", "KVM.BootPE"), "proved", 1.25)]
    model_level = InvariantResult("KVM.Inv.PEState", "proved", 1.75, "2 obligations", None, obligations)
    mutant = Mutant("m.kept", "logic", "spec/x.md", "a", "b", [PROPERTY], "proofs/mutants/m.toml")
    run = report._Run(spec=Spec.load(*proof_tree()), spec_hash=spec_hash(),
                      results=[ProofResult(PROPERTY, "proved", 0.1), model_level],
                      mutants=[MutantResult(mutant, [ProofResult(PROPERTY, "refuted", 0.5)]),
                               MutantResult(replace(mutant, name="m.model"), [])],
                      explored={"m.model": "caught after 12 steps"})
    assert_matches_schema(report._as_json(run, "linux-3.10", detailed=True), report.SCHEMA)


def test_the_schemas_name_the_formats_the_reports_carry() -> None:
    for schema, stated in ((report.SCHEMA, report.FORMAT), (REPORT_SCHEMA, REPORT_FORMAT)):
        assert json.loads(schema.read_text(encoding="utf-8"))["properties"]["format"]["const"] == stated


@pytest.mark.parametrize("damage", ["drop spec_hash", "add a field", "unknown status", "negative time"])
def test_a_damaged_prove_report_fails_its_schema(capsys: pytest.CaptureFixture[str], damage: str) -> None:
    found = _prove_json(capsys, PROPERTY)
    broken = copy.deepcopy(found)
    if damage == "drop spec_hash":
        del broken["spec_hash"]
    elif damage == "add a field":
        broken["properties"][0]["extra"] = 1
    elif damage == "unknown status":
        broken["properties"][0]["status"] = "probably"
    else:
        broken["properties"][0]["seconds"] = -1
    assert schema_errors(broken, report.SCHEMA)
