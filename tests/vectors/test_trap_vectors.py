"""Trap vectors: schema, determinism, coverage, the catalogue, and agreement with the semantics.

The file is generated twice, in two fresh processes at once (`trap_vector_files`), as a user runs
`hypspec vectors traps`; the conformance test of the same file imports the helper, so the
generation happens once per session.

Every expected value in the worked examples below is derived by hand from ARM DDI 0406C.d: the
HSR layout of §B3.13.6 (EC[31:26], IL[25] = 1 for a 32-bit instruction, ISS[24:0], and for the
trapped-instruction classes CV[24] = 1 with COND[23:20] = 0xE for an AL instruction), the ISS
layouts per class (WFI/WFE: TI[0]; MCR/MRC: Opc2[19:17] Opc1[16:14] CRn[13:10] Rt[8:5] CRm[4:1]
Direction[0]; MCRR/MRRC: Opc1[19:16] Rt2[13:10] Rt[8:5] CRm[4:1] Direction[0]; HCPTR: TA[5]
coproc[3:0]; HVC and SVC: imm16[15:0]) and the preferred return addresses of §B1.8.3 (the trapped
instruction itself, the next instruction for HVC and SVC; LR_und = preferred + 4 in ARM state).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import z3

from hypspec.api import Spec
from hypspec.categories.traps import generate as traps
from hypspec.categories.traps.case import validate
from hypspec.lang.types import Bits
from hypspec.symbolic.evaluator import to_z3
from hypspec.vectors.store import VectorFileError, read_vectors
from tests.helpers.generated import generated_twice

SEED, RANDOM = 3, 300


def trap_vector_files() -> tuple[Path, Path]:
    """The same `hypspec vectors traps` run twice, in two fresh processes side by side."""
    return generated_twice("traps", SEED, RANDOM)


@pytest.fixture(scope="module")
def vector_file() -> Path:
    return trap_vector_files()[0]


# ---- the file -------------------------------------------------------------------------------

def test_the_file_validates_and_counts_its_kinds(
    vector_file: Path, vectors: list[dict[str, Any]]
) -> None:
    meta = read_vectors(vector_file).meta
    assert meta["category"] == "traps" and meta["seed"] == SEED and meta["count"] == len(vectors)
    kinds = [v["kind"] for v in vectors]
    catalogue = sum(len(row.modes) for row in traps.CATALOGUE)
    assert kinds.count("random") == RANDOM and kinds.count("catalogue") == catalogue
    assert kinds.count("witness") == meta["coverage"]["feasible_paths"]
    assert {v["expected"]["outcome"] for v in vectors} == set(traps.OUTCOMES.values())


def test_same_seed_gives_byte_identical_files() -> None:
    first, second = trap_vector_files()
    assert first.read_bytes() == second.read_bytes()


def test_every_feasible_path_is_hit(vector_file: Path) -> None:
    coverage = read_vectors(vector_file).meta["coverage"]
    assert coverage["feasible_paths"] > 300
    assert coverage["paths_hit"] == coverage["feasible_paths"]
    assert all(hit == feasible for hit, feasible in coverage["by_function"].values())
    assert "Model.TrapDecision" in coverage["by_function"] and "Model.CP15Reg" in coverage["by_function"]


def test_paths_the_harness_cannot_run_are_reported_with_the_rule(vector_file: Path) -> None:
    """BXJ (it may write the PC) and the Advanced SIMD element loads/stores are refused by the
    harness, and the decode's UNPREDICTABLE or UNDEFINED words are not instructions that simply
    execute: the coverage lists those paths instead of dropping them."""
    coverage = read_vectors(vector_file).meta["coverage"]
    listed = coverage["not_runnable"]
    rules = {rule for entry in listed for rule in entry["rules"]}
    assert rules == {"BXJ", "Advanced SIMD load/store", "undecoded words"}
    functions = {entry["path"].split("#")[0] for entry in listed}
    assert {"Model.InstrTrapDecision", "Model.TrapClass", "AArch32.HypTrapSyndrome"} <= functions
    assert all(entry["path"].split("#")[0] in coverage["by_function"] for entry in listed)


def test_every_vector_satisfies_the_harness_rules(spec: Spec, vectors: list[dict[str, Any]]) -> None:
    """The generator's Z3 rules hold for every vector (random and catalogue ones included), and
    the harness itself accepts every case."""
    call = spec.symbolic(traps.OPERATION)
    solver = z3.Solver()
    solver.add(z3.Not(z3.And([c for rule in traps.harness_rules(spec, call) for c in rule.terms])))
    for vector in vectors:
        state = vector["state"]["registers"]
        values = [call.args[0] == int(vector["operation"]["opcode"], 16)]
        values += [to_z3(call.inputs[name], Bits(32)) == int(value, 16) for name, value in state.items()]
        # Not in the vector: the Event Register holds its reset value, as in the concrete replay.
        values.append(to_z3(call.inputs["EventRegister"], Bits(1)) == 0)
        assert solver.check(*values) == z3.unsat, vector["id"]
        stimulus = _stimulus(vector)
        validate(traps.to_case(vector["id"], stimulus))


def _stimulus(vector: dict[str, Any]) -> traps.Stimulus:
    registers = {name: int(value, 16) for name, value in vector["state"]["registers"].items()}
    gprs = {int(name[1:]): int(value, 16) for name, value in vector["state"]["gprs"].items()}
    return traps.Stimulus(int(vector["operation"]["opcode"], 16), registers, gprs)


# ---- the semantics --------------------------------------------------------------------------

def test_expected_outcomes_replay_in_the_concrete_semantics(
    spec: Spec, vectors: list[dict[str, Any]]
) -> None:
    """Re-run every vector from its recorded state: outcome and HSR (under the mask) are what the
    spec computes, and the return address is where §B1.8.3 puts it."""
    outcomes = dict(traps.OUTCOMES)
    for vector in vectors:
        state = spec.state(**{k: int(v, 16) for k, v in vector["state"]["registers"].items()})
        result = spec.call(traps.OPERATION, int(vector["operation"]["opcode"], 16), state=state)
        permitted = [vector["expected"], *vector["expected"].get("alternatives", [])]
        [expected] = [e for e in permitted if e["outcome"] == outcomes[result["outcome"]]]
        if expected["outcome"] == "hyp_trap":
            mask = int(vector["masks"]["HSR"], 16)
            assert result["hsr"] & mask == int(expected["registers"]["HSR"], 16) & mask, vector["id"]
        for each in permitted:
            assert each.get("return_address") == _hand_return_address(each), vector["id"]


def _hand_return_address(expected: dict[str, Any]) -> dict[str, Any] | None:
    outcome = expected["outcome"]
    if outcome == "hyp_trap":
        ec = int(expected["registers"]["HSR"], 16) >> 26
        return {"register": "ELR_hyp", "offset": 4 if ec in (0x11, 0x12) else 0}  # SVC, HVC: next
    if outcome == "undefined":
        return {"register": "LR_und", "offset": 4}
    if outcome == "supervisor_call":
        return {"register": "LR_svc", "offset": 4}
    if outcome == "debug_exception":  # a Prefetch Abort: LR_abt = the instruction + 4
        return {"register": "LR_abt", "offset": 4}
    return None


def test_recorded_paths_are_the_traced_paths(spec: Spec, vectors: list[dict[str, Any]]) -> None:
    from hypspec.vectors.paths import traced_paths

    for vector in vectors[::7]:
        state = spec.state(**{k: int(v, 16) for k, v in vector["state"]["registers"].items()})
        _, paths = traced_paths(spec, traps.OPERATION, state, [int(vector["operation"]["opcode"], 16)])
        assert sorted({p.key for p in paths}) == vector["paths"], vector["id"]


def test_unknown_bits_are_masked(vectors: list[dict[str, Any]]) -> None:
    """IL is UNK/SBZP for EC 0x00 and for a Prefetch Abort, EC 0x20 (§B3.13.6), whose ISS (EA,
    S1PTW, IFSC, the rest zero) is otherwise compared whole; the spec makes the coproc field of an
    Advanced SIMD HCPTR trap UNKNOWN; a conditional instruction may report COND as its condition or AL, so the
    COND bits in which the two differ are masked; everything else is compared."""
    for vector in vectors:
        expected, mask = vector["expected"], int(vector["masks"]["HSR"], 16)
        if expected["outcome"] != "hyp_trap":
            continue
        hsr = int(expected["registers"]["HSR"], 16)
        cond = int(expected["spec_only"]["cond"], 16)
        either_cond = (cond ^ 0xE) << 20 if hsr >> 24 & 1 and cond not in (0xE, 0xF) else 0
        if hsr >> 26 == 0x00:
            assert mask & (1 << 25) == 0, vector["id"]
        elif hsr >> 26 == 0x20:
            assert mask == 0xFFFF_FFFF & ~(1 << 25), vector["id"]
        elif hsr >> 26 == 0x07 and hsr & (1 << 5):
            assert mask & 0xF == 0 and mask | 0xF | either_cond == 0xFFFF_FFFF, vector["id"]
        elif hsr >> 26 != 0x11:
            assert mask == 0xFFFF_FFFF & ~either_cond, vector["id"]


# ---- the catalogue --------------------------------------------------------------------------

TRAP_CONTROLS = (
    [f"HCR.{bit}" for bit in ("TWI", "TWE", "TSC", "TVM", "TTLB", "TPU", "TPC", "TSW", "TAC", "TIDCP",
                              "TID0", "TID1", "TID2", "TID3", "TGE")]
    + [f"HSTR.T{n}" for n in (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15)] + ["HSTR.TTEE", "HSTR.TJDBX"]
    + [f"HCPTR.{bit}" for bit in ("TCP10", "TCP11", "TASE", "TTA", "TCPAC")]
    + [f"HDCR.{bit}" for bit in ("TPM", "TPMCR", "TDE", "TDA", "TDRA", "TDOSA")] + ["BKPT"]
    + ["CNTHCTL.PL1PCTEN", "CNTHCTL.PL1PCEN"]
    + [f"CNTKCTL.{bit}" for bit in ("PL0PCTEN", "PL0VCTEN", "PL0VTEN", "PL0PTEN")]
    + ["HVC", "SMC"]
)


def test_the_catalogue_names_every_trap_control() -> None:
    names = [row.name for row in traps.CATALOGUE]
    assert len(names) == len(set(names))
    assert set(TRAP_CONTROLS) <= set(names)
    assert sum(name.startswith("Hyp-only") for name in names) >= 5


def test_every_catalogue_row_appears_in_both_modes(by_id: dict[str, dict[str, Any]]) -> None:
    """Every row in SVC and in User mode, except HCR.TGE, which the harness refuses with a PL1
    guest (ARMv8 makes that configuration illegal), so it runs in User mode only."""
    user_only = {row.name for row in traps.CATALOGUE if row.modes != ("svc", "usr")}
    assert user_only == {"HCR.TGE", "HCR.TGE (SVC)"}
    for row in traps.CATALOGUE:
        for mode in row.modes:
            vector = by_id[traps.catalogue_id(row, mode)]
            got = (vector["kind"], vector["row"], vector["operation"]["mode"])
            assert got == ("catalogue", row.name, mode)
            assert int(vector["operation"]["opcode"], 16) == row.opcode


def _row(by_id: dict[str, dict[str, Any]], name: str, mode: str) -> dict[str, Any]:
    [row] = [r for r in traps.CATALOGUE if r.name == name]
    return by_id[traps.catalogue_id(row, mode)]


EC_SHIFT, IL, CV_AL = 26, 1 << 25, 1 << 24 | 0xE << 20

# (row, mode) -> (outcome, HSR or None, return offset), each derived by hand (module docstring).
HAND = {
    # WFI with TWI: EC 0x01, TI = 0.  WFE with TWE: TI = 1.
    ("HCR.TWI", "svc"): ("hyp_trap", 0x01 << EC_SHIFT | IL | CV_AL, 0),
    # MCR p15, 0, r0, c1, c0, 0 (SCTLR write) with TVM: EC 0x03, CRn = 1, Direction = 0.
    ("HCR.TVM", "svc"): ("hyp_trap", 0x03 << EC_SHIFT | IL | CV_AL | 1 << 10, 0),
    # ... and at PL0 the write is UNDEFINED first (SCTLR is a PL1 register).
    ("HCR.TVM", "usr"): ("undefined", None, 4),
    # MRC p15, 0, r0, c1, c0, 0 (SCTLR read) with HSTR.T1: 0x0fe00401 (the shared anchor value).
    ("HSTR.T1", "svc"): ("hyp_trap", 0x0FE0_0401, 0),
    # VMRS r0, FPSID with TID0: EC 0x08, Opc1 = 7, CRn = 0 (FPSID), Direction = 1.
    ("HCR.TID0", "svc"): ("hyp_trap", 0x08 << EC_SHIFT | IL | CV_AL | 7 << 14 | 1, 0),
    # VMRS r0, FPSCR with HCPTR.TCP10/11: EC 0x07, TA = 0, coproc = 0xA: 0x1fe0000a (anchor).
    ("HCPTR.TCP10", "usr"): ("hyp_trap", 0x1FE0_000A, 0),
    # MRRC p15, 0, r2, r3, c14 (CNTPCT) with PL1PCTEN = 0: EC 0x04, Rt2 = 3, Rt = 2, CRm = 14, read:
    # 0x13e00c5d (anchor).
    ("CNTHCTL.PL1PCTEN", "svc"): ("hyp_trap", 0x13E0_0C5D, 0),
    # HVC #0x1234 from PL1: EC 0x12, imm16; returns to the next instruction.  UNDEFINED at PL0.
    ("HVC", "svc"): ("hyp_trap", 0x4A00_1234, 4),
    ("HVC", "usr"): ("undefined", None, 4),
    # SVC #0x42 from User mode with TGE: EC 0x11, imm16 = 0x42, next instruction.
    ("HCR.TGE (SVC)", "usr"): ("hyp_trap", 0x11 << EC_SHIFT | IL | 0x42, 4),
    # SMC without TSC: a Secure Monitor Call from PL1, UNDEFINED at PL0.  With TSC: EC 0x13, ISS 0.
    ("SMC", "svc"): ("secure_monitor_call", None, None),
    ("SMC", "usr"): ("undefined", None, 4),
    ("HCR.TSC", "svc"): ("hyp_trap", 0x13 << EC_SHIFT | IL, 0),
    # Hyp-only registers are UNDEFINED at PL1, never trapped.
    ("Hyp-only MRC HCR", "svc"): ("undefined", None, 4),
    ("Hyp-only MRS ELR_hyp", "svc"): ("undefined", None, 4),
    # HSTR.T11: no register at c11 on Cortex-A15, but HSTR.Tn selects any PL1 access to c<n>
    # (§B4.1.73), so MRC p15, 0, r0, c11, c0, 0 traps: EC 0x03, CRn = 11, read.
    ("HSTR.T11", "svc"): ("hyp_trap", 0x03 << EC_SHIFT | IL | CV_AL | 11 << 10 | 1, 0),
    # FPEXC.EN = 0: VMRS FPSCR is UNDEFINED (a PL1 control, before any HCPTR check).
    ("FPEXC.EN", "svc"): ("undefined", None, 4),
    # BKPT #0: a debug exception, a Prefetch Abort in the guest (LR_abt = the instruction + 4);
    # with HDCR.TDE to Hyp mode, EC 0x20 with IFSC 0b100010 (debug event, Table B3-24), ELR_hyp
    # the instruction itself.  The vector stores IL as the spec's oracle chose it (it is masked).
    ("BKPT", "svc"): ("debug_exception", None, 4),
    ("BKPT", "usr"): ("debug_exception", None, 4),
}
@pytest.mark.parametrize("mode", ["svc", "usr"])
def test_wfe_under_twe_permits_a_trap_and_completion(by_id: dict[str, dict[str, Any]], mode: str) -> None:
    """WFE with TWE and the Event Register clear: EC 0x01, TI = 1 (0x07e00001) or completion; a
    WFE may complete at any time (the ARMv8 ARM's HCR.TWE), so the vector accepts both."""
    expected = _row(by_id, "HCR.TWE", mode)["expected"]
    permitted = {e["outcome"]: e for e in [expected, *expected.get("alternatives", [])]}
    assert set(permitted) == {"hyp_trap", "execute"}
    assert int(permitted["hyp_trap"]["registers"]["HSR"], 16) == 0x01 << EC_SHIFT | IL | CV_AL | 1
    assert permitted["hyp_trap"]["return_address"] == {"register": "ELR_hyp", "offset": 0}
    assert "return_address" not in permitted["execute"]


#: (row, mode) -> HSR with IL clear, for the rows whose IL is UNK/SBZP.
HAND_IL_UNKNOWN = {("HDCR.TDE", mode): 0x20 << EC_SHIFT | 0b100010 for mode in ("svc", "usr")}


@pytest.mark.parametrize(("name", "mode"), sorted(HAND_IL_UNKNOWN))
def test_catalogue_debug_exception_to_hyp(by_id: dict[str, dict[str, Any]], name: str, mode: str) -> None:
    vector = _row(by_id, name, mode)
    expected = vector["expected"]
    assert expected["outcome"] == "hyp_trap"
    assert int(expected["registers"]["HSR"], 16) & ~IL == HAND_IL_UNKNOWN[(name, mode)]
    assert int(vector["masks"]["HSR"], 16) == 0xFFFF_FFFF & ~IL
    assert expected["return_address"] == {"register": "ELR_hyp", "offset": 0}


@pytest.mark.parametrize(("name", "mode"), sorted(HAND))
def test_catalogue_worked_examples(by_id: dict[str, dict[str, Any]], name: str, mode: str) -> None:
    outcome, hsr, offset = HAND[(name, mode)]
    expected = _row(by_id, name, mode)["expected"]
    assert expected["outcome"] == outcome
    if hsr is not None:
        assert int(expected["registers"]["HSR"], 16) == hsr
    assert (expected.get("return_address") or {}).get("offset") == offset


def test_tge_undefined_reports_ec_0_with_il_masked(by_id: dict[str, dict[str, Any]]) -> None:
    """MRC SCTLR from User mode with TGE: UNDEFINED at PL0, routed to Hyp with EC 0x00 and ISS 0;
    IL is UNK/SBZP there (§B3.13.6), so it is masked."""
    vector = _row(by_id, "HCR.TGE", "usr")
    assert vector["expected"]["outcome"] == "hyp_trap"
    assert int(vector["expected"]["registers"]["HSR"], 16) & ~IL == 0
    assert int(vector["masks"]["HSR"], 16) == 0xFFFF_FFFF & ~IL
    assert vector["expected"]["return_address"] == {"register": "ELR_hyp", "offset": 0}


def test_flags_name_the_deciding_control(by_id: dict[str, dict[str, Any]]) -> None:
    assert {"CLASS_WFE", "HCR_TWE_1"} <= set(_row(by_id, "HCR.TWE", "svc")["flags"])
    assert {"CLASS_MCR_MRC", "SYSREG_SCTLR", "HSTR_T1_1"} <= set(_row(by_id, "HSTR.T1", "svc")["flags"])
    assert "FPEXC_EN_0" in _row(by_id, "FPEXC.EN", "svc")["flags"]
    conditional_hvc = [v for v in by_id.values() if "UNPREDICTABLE_CONDITIONAL_HVC" in v["flags"]]
    assert conditional_hvc and all("UNPREDICTABLE_IN_ARMV7" in v["flags"] for v in conditional_hvc)


# ---- the schema -----------------------------------------------------------------------------

def _rewrite(path: Path, line: int, edit) -> Path:
    lines = path.read_text().splitlines()
    record = json.loads(lines[line - 1])
    edit(record)
    lines[line - 1] = json.dumps(record)
    bad = path.with_name("bad.jsonl")
    bad.write_text("\n".join(lines) + "\n")
    return bad


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda r: r["operation"].update(mode="hyp"), "operation/mode"),
        (lambda r: r["operation"].update(va="0x0"), "operation"),
        (lambda r: r["state"]["registers"].pop("HSTR"), "state/registers"),
        (lambda r: r["state"]["gprs"].update(r13="0x0"), "state/gprs"),
        (lambda r: r["expected"].update(outcome="executed"), "expected/outcome"),
        (lambda r: r.update(row="HCR.TWI"), "(record)"),
    ],
)
def test_a_schema_invalid_trap_vector_names_its_line_and_field(
    vector_file: Path, tmp_path: Path, edit, field: str
) -> None:
    copy = tmp_path / "traps.jsonl"
    shutil.copy(vector_file, copy)
    bad = _rewrite(copy, 4, edit)
    with pytest.raises(VectorFileError, match=rf"bad\.jsonl:4: field '{re.escape(field)}'"):
        read_vectors(bad)


def test_a_catalogue_vector_needs_its_row(vector_file: Path, tmp_path: Path) -> None:
    lines = vector_file.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if '"kind": "catalogue"' in line)
    record = json.loads(lines[number])
    del record["row"]
    lines[number] = json.dumps(record)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(VectorFileError, match=rf":{number + 1}: field '\(record\)': 'row' is a required"):
        read_vectors(bad)
