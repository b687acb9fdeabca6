"""``hypspec conform``: hand-written vector files run on QEMU and compared with the spec's word.

Every expected value in the vectors below is derived by hand from the architecture (ARM DDI
0406C.d: the long-descriptor Stage 2 formats of §B3.6, the HSR encodings of §B3.13.6, the fault
status codes of §B3.13.3, HPFAR in §B4.1.70), the same facts ``test_stage2_qemu.py`` uses; none
was obtained by running the harness.  Bits the architecture leaves UNKNOWN are masked out with
the vector's ``masks``, as the generator does.

No test here is skipped when QEMU or binutils are missing: the run fails with the install hint.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from hypspec.api import Spec
from hypspec.categories.stage2.case import Stage2Case, Stage2Observation
from hypspec.categories.stage2.conform import compare, vector_to_case
from hypspec.cli import main
from hypspec.conformance.compare import Disagreement
from hypspec.conformance.conform import conform
from hypspec.conformance.defaults import DEFAULT_DEVIATIONS
from hypspec.conformance.deviations import load_deviations
from hypspec.conformance.errors import ConformanceInputError
from hypspec.conformance.report import REPORT_SCHEMA
from hypspec.conformance.toolchain import INSTALL_HINT
from hypspec.exitcodes import ExitCode
from hypspec.vectors.store import write_vectors
from tests.helpers.schemas import assert_matches_schema, schema_errors

# --- Architecture (ARM DDI 0406C.d) --------------------------------------------------------------

BLOCK, TABLE, PAGE = 0b01, 0b11, 0b11  # §B3.6.1: descriptor types at levels 1-2 and 3
MEMATTR_WB = 0b1111 << 2  # Stage 2 MemAttr[3:0]: Normal, Write-Back
AF, XN = 1 << 10, 1 << 54
RW, RO = 0b11 << 6, 0b01 << 6  # HAP[2:1] (S2AP): bit 6 read, bit 7 write


def leaf(pa: int, perms: int = RW, *, af: bool = True, xn: bool = False, kind: int = BLOCK) -> int:
    return pa | MEMATTR_WB | perms | (AF if af else 0) | (XN if xn else 0) | kind


# Long-descriptor fault status 0bTTTTLL (§B3.13.3, Table B3-24), LL = lookup level.
def translation(level: int) -> int:
    return 0b000100 | level


def access_flag(level: int) -> int:
    return 0b001000 | level


def permission(level: int) -> int:
    return 0b001100 | level


IL = 1 << 25


def dabt_hsr(fsc: int, *, rt: int, size: int = 4, write: bool = False, signed: bool = False) -> int:
    """§B3.13.6: EC 0x24, IL, ISV, SAS, SSE, SRT, WnR, DFSC."""
    sas = {1: 0, 2: 1, 4: 2}[size]
    return 0x24 << 26 | IL | 1 << 24 | sas << 22 | int(signed) << 21 | rt << 16 | int(write) << 6 | fsc


def pabt_hsr(fsc: int) -> int:
    """§B3.13.6: EC 0x20, IFSC; IL is UNK/SBZP for a Prefetch Abort, so it is masked out."""
    return 0x20 << 26 | fsc


PABT_HSR_MASK = 0xFFFF_FFFF & ~IL


def hpfar(ipa: int) -> int:
    """§B4.1.70: FIPA = IPA[39:12] in HPFAR[31:4]."""
    return (ipa >> 12) << 4


HVC_2 = 0xE140_0072  # hvc #2, A1 encoding

# --- A world: VTCR.T0SZ = 0, SL0 = 0b01 (start at level 1, 32-bit IPA) ---------------------------

VTCR_L1 = 0x8000_0040
L1 = 0x4800_0000
L2 = L1 + 0x1000
L3 = L1 + 0x2000
MEMORY = {
    L1 + 8 * 1: leaf(0x4000_0000),  # IPA 1 GiB.. -> PA 1 GiB.. (identity), read/write
    L1 + 8 * 2: L2 | TABLE,  # IPA 0x80000000..
    # L1[3] (IPA 0xC0000000..) is absent: zero, an invalid descriptor.
    L2 + 8 * 0: leaf(0x5020_0000, RO),  # IPA 0x80000000: read-only 2 MiB block
    L2 + 8 * 1: leaf(0x5040_0000, af=False),  # IPA 0x80200000: Access flag 0
    L2 + 8 * 2: L3 | TABLE,  # IPA 0x80400000
    L3 + 8 * 0: leaf(0x5080_0000, kind=PAGE),  # IPA 0x80400000: read/write page
    L3 + 8 * 2: leaf(0x5080_2000, xn=True, kind=PAGE),  # IPA 0x80402000: execute-never page
    0x5000_0000: 0x1122_3344_5566_7788,
    0x5000_0008: 0x8899_AABB_CCDD_EEFF,
    0x5020_0000: 0x0123_4567_89AB_CDEF,
    0x5080_0000: 0x1111_1111_2222_2222,
    0x5080_0010: HVC_2 << 32 | HVC_2,
    0x5080_2000: HVC_2 << 32 | HVC_2,
}


def vector(
    vector_id: str,
    access: str,
    va: int,
    *,
    outcome: str,
    data: int | None = None,
    registers: dict[str, int] | None = None,
    after: dict[int, int] | None = None,
    masks: dict[str, int] | None = None,
    size: int = 4,
    signed: bool = False,
    rt: int = 1,
    value: int = 0,
    flags: tuple[str, ...] = (),
    hcr: int = 1,
) -> dict[str, Any]:
    expected: dict[str, Any] = {
        "outcome": outcome,
        "registers": {k: f"{v:#x}" for k, v in (registers or {}).items()},
        "memory": {f"{k:#x}": f"{v:#x}" for k, v in (after or {}).items()},
        "spec_only": {},
    }
    if data is not None:
        expected["data"] = f"{data:#x}"
    return {
        "id": vector_id,
        "kind": "witness",
        "flags": list(flags),
        "state": {
            "registers": {"HCR": f"{hcr:#x}", "VTCR": f"{VTCR_L1:#x}", "VTTBR": f"{L1:#x}"},
            "memory": {f"{k:#x}": f"{v:#x}" for k, v in MEMORY.items()},
        },
        "operation": {
            "name": "Model.Stage2GuestAccess",
            "access": access,
            "va": f"{va:#x}",
            "size": size,
            "signed": signed,
            "rt": rt,
            "value": f"{value:#x}",
        },
        "expected": expected,
        "masks": {k: f"{v:#x}" for k, v in (masks or {}).items()},
        "paths": [],
    }


def data_abort(vector_id: str, va: int, fsc: int, *, hpfar_known: bool = True, **kw: Any) -> dict[str, Any]:
    """A Stage 2 Data Abort: HIFAR is UNKNOWN, HPFAR too for a Permission fault."""
    write = kw.get("access", "read") == "write"
    access = kw.pop("access", "read")
    hsr = kw.pop("hsr", None)
    registers = {
        "HSR": hsr
        if hsr is not None
        else dabt_hsr(fsc, rt=kw.get("rt", 1), size=kw.get("size", 4), write=write),
        "HDFAR": va,
        "HIFAR": 0,
        "HPFAR": hpfar(va) if hpfar_known else 0,
    }
    masks = {"HIFAR": 0} if hpfar_known else {"HIFAR": 0, "HPFAR": 0}
    masks.update(kw.pop("masks", {}))
    return vector(vector_id, access, va, outcome="stage2_abort", registers=registers, masks=masks, **kw)


def prefetch_abort(vector_id: str, va: int, fsc: int, *, hpfar_known: bool = True) -> dict[str, Any]:
    registers = {"HSR": pabt_hsr(fsc), "HIFAR": va, "HDFAR": 0, "HPFAR": hpfar(va) if hpfar_known else 0}
    masks = {"HSR": PABT_HSR_MASK, "HDFAR": 0, **({} if hpfar_known else {"HPFAR": 0})}
    return vector(vector_id, "fetch", va, outcome="stage2_abort", registers=registers, masks=masks)


def correct_vectors() -> list[dict[str, Any]]:
    return [
        vector("ldr-identity-block", "read", 0x5000_0000, outcome="ok", data=0x5566_7788, rt=5),
        vector("ldrsb-negative", "read", 0x5000_0008, outcome="ok", data=0xFFFF_FFFF, size=1, signed=True),
        vector("ldr-read-only-block", "read", 0x8000_0004, outcome="ok", data=0x0123_4567, rt=6),
        vector(
            "str-page",
            "write",
            0x8040_0000,
            outcome="ok",
            value=0x0BAD_F00D,
            rt=11,
            after={0x5080_0000: 0x1111_1111_0BAD_F00D},
        ),
        vector(
            "strh-page-upper",
            "write",
            0x8040_0006,
            outcome="ok",
            value=0xBEEF,
            size=2,
            rt=0,
            after={0x5080_0000: 0xBEEF_1111_2222_2222},
        ),
        vector("fetch-page", "fetch", 0x8040_0010, outcome="ok", data=HVC_2),
        data_abort("ldr-level-1-invalid", 0xC000_0000, translation(1)),
        data_abort("ldr-block-af-0", 0x8020_0000, access_flag(2), rt=0),
        # A word store to a read-only 2 MiB block: HSR 0x9381004e (Permission fault, level 2).
        data_abort(
            "str-read-only-block",
            0x8000_0000,
            permission(2),
            access="write",
            value=0xDEAD_BEEF,
            hpfar_known=False,
        ),
        prefetch_abort("fetch-level-1-invalid", 0xC000_0000, translation(1)),
        prefetch_abort("fetch-xn-page", 0x8040_2000, permission(3), hpfar_known=False),
    ]


WRONG_HSR = 0x9381_004F  # claims level 3; the block is at level 2: 0x9381004e


def wrong_hsr_vector() -> dict[str, Any]:
    return data_abort(
        "str-read-only-block-wrong-hsr",
        0x8000_0000,
        permission(2),
        access="write",
        value=0xDEAD_BEEF,
        hpfar_known=False,
        hsr=WRONG_HSR,
        flags=("DELIBERATELY_WRONG",),
    )


# --- Helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec_hash() -> str:
    return Spec.load().digest


def write_file(
    path: Path, vectors: list[dict[str, Any]], spec_hash: str, *, category: str = "stage2"
) -> Path:
    meta = {
        "format": "hypspec-vectors/1",
        "category": category,
        "spec_hash": spec_hash,
        "generator": "hand-written (tests/conformance/test_conform.py)",
        "seed": 0,
        "count": len(vectors),
        "coverage": {"feasible_paths": 0, "paths_hit": 0, "by_function": {}},
    }
    write_vectors(path, meta, vectors)
    return path


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    """`hypspec OPTIONS conform ARGV` as the command line runs it, errors turned into exit codes
    included; OPTIONS are the global ones (-q, -v)."""
    code = main([*options, "conform", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def deviations_file(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


DEVIATION_WRONG_HSR = """
[[deviation]]
id = "test-wrong-hsr"
category = "stage2"
fields = ["HSR"]
flag = "DELIBERATELY_WRONG"
reason = "the vector claims a level-3 Permission fault for a level-2 block, on purpose"
citation = "ARM DDI 0406C.d §B3.13.6 and Table B3-24: DFSC encodes the lookup level"
right = "implementation"
"""

# --- On QEMU -------------------------------------------------------------------------------------


def test_correct_vectors_all_agree(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file(tmp_path / "stage2.jsonl", correct_vectors(), spec_hash)
    code, out, err = run_cli([str(path)], capsys)
    assert code == 0, out + err
    count = len(correct_vectors())
    assert re.search(rf"^stage2\s+{count}\s+{count}\s+0\s+0\s+100\.0%\s+100\.0%$", out, re.M), out
    assert out.rstrip().endswith("OK: all vectors agree")
    assert f"conform: read {path} ({count} vectors)" in err  # progress goes to stderr
    assert "vectors run" not in err  # the meter only to a terminal (tests/test_progress.py)


def test_wrong_hsr_is_exactly_one_unknown_disagreement(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file(tmp_path / "v.jsonl", [*correct_vectors(), wrong_hsr_vector()], spec_hash)
    report = conform([path])
    assert [f.disagreement for f in report.findings] == [
        Disagreement(
            "str-read-only-block-wrong-hsr",
            "stage2",
            "HSR",
            "0x9381004f",
            "0x9381004e",
            ("DELIBERATELY_WRONG",),
            "0xffffffff",
        )
    ]
    assert report.findings[0].deviation is None and report.exit_code == 1
    code, out, _ = run_cli([str(path)], capsys)
    assert code == 1
    assert (
        "  str-read-only-block-wrong-hsr  HSR: expected 0x9381004f, observed 0x9381004e  mask 0xffffffff"
        in out
    )
    assert "unknown disagreements (1):" in out
    assert re.search(r"^stage2\s+HSR\s+1\s+0\s+1$", out, re.M), out


def test_known_deviation_turns_it_into_known(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file(tmp_path / "v.jsonl", [*correct_vectors(), wrong_hsr_vector()], spec_hash)
    known = deviations_file(tmp_path / "known.toml", DEVIATION_WRONG_HSR)
    code, out, _ = run_cli([str(path), "--deviations", str(known)], capsys, "-v")
    assert code == 0, out
    assert "[deviation test-wrong-hsr]" in out and "known disagreements (1):" in out
    assert "unknown disagreements" not in out
    count = len(correct_vectors()) + 1
    assert re.search(rf"^stage2\s+{count}\s+{count - 1}\s+0\s+1\s+", out, re.M), out
    # raw agreement counts the known disagreement against the implementation; judged sets it apart
    raw = 100 * (count - 1) / count
    assert re.search(rf"^stage2(\s+\d+){{4}}\s+{raw:.1f}%\s+100\.0%$", out, re.M), out
    assert re.search(r"^known disagreements by deviation:\n.*\ntest-wrong-hsr\s+1$", out, re.M), out

    # Without -v a known disagreement is counted, not listed: the same report less its line.
    code, brief, _ = run_cli([str(path), "--deviations", str(known)], capsys)
    assert code == 0
    assert "known disagreements: 1 (`hypspec -v conform` lists each one)" in brief
    assert "[deviation test-wrong-hsr]" not in brief and "known disagreements (1):" not in brief
    assert re.search(rf"^stage2\s+{count}\s+{count - 1}\s+0\s+1\s+", brief, re.M), brief

    # The entry needs the vector's flag: without it on the vector, the disagreement stays unknown.
    unflagged = wrong_hsr_vector() | {"flags": []}
    write_file(path, [unflagged], spec_hash)
    code, out, _ = run_cli([str(path), "--deviations", str(known)], capsys)
    assert code == 1
    assert "deviations that matched nothing: test-wrong-hsr" in out


def test_masks_exclude_bits(tmp_path: Path, spec_hash: str) -> None:
    masked = [
        # DFSC (bits 5:0) wrong but masked out, HDFAR garbage under mask 0: agrees.
        data_abort(
            "dfsc-masked",
            0x8000_0000,
            permission(2),
            access="write",
            hpfar_known=False,
            hsr=0x9381_0040,
            masks={"HSR": 0xFFFF_FFC0},
        ),
        data_abort("hdfar-not-compared", 0xC000_0000, translation(1), masks={"HDFAR": 0}),
        # Only bit 0 compared, and it is wrong: one disagreement that shows the mask.
        data_abort(
            "bit-0-compared",
            0x8000_0000,
            permission(2),
            access="write",
            hpfar_known=False,
            hsr=WRONG_HSR,
            masks={"HSR": 0x1},
        ),
    ]
    masked[1]["expected"]["registers"]["HDFAR"] = "0xffffffff"
    report = conform([write_file(tmp_path / "m.jsonl", masked, spec_hash)])
    [finding] = report.findings
    d = finding.disagreement
    assert (d.vector_id, d.field, d.expected, d.observed, d.mask) == (
        "bit-0-compared",
        "HSR",
        "0x9381004f",
        "0x9381004e",
        "0x00000001",
    )
    assert report.categories["stage2"].agree == 2


def test_json_output_carries_the_counts(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    vectors = [*correct_vectors(), wrong_hsr_vector()]
    write_file(tmp_path / "a.jsonl", vectors[:5], spec_hash)
    write_file(tmp_path / "b.jsonl", vectors[5:], spec_hash, category="other")
    code, out, err = run_cli([str(tmp_path), "--json", "--jobs", "1"], capsys)
    assert code == 1 and err == ""  # no progress with --json
    report = json.loads(out)
    assert [f["path"] for f in report["files"]] == [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    assert report["categories"]["stage2"] == {
        "vectors": 5,
        "agree": 5,
        "disagree": 0,
        "known": 0,
        "agreement_percent": 100.0,
        "judged_agreement_percent": 100.0,
    }
    assert report["spec_hash"] == spec_hash and report["stale_files"] == []
    assert_matches_schema(report, REPORT_SCHEMA)
    damaged = json.loads(out)
    del damaged["categories"]["stage2"]["judged_agreement_percent"]
    assert schema_errors(damaged, REPORT_SCHEMA)  # the schema holds a report to every field
    other = len(vectors) - 5
    assert report["categories"]["other"]["vectors"] == other
    assert report["categories"]["other"]["disagree"] == 1
    assert report["total"]["vectors"] == len(vectors) and report["total"]["agree"] == len(vectors) - 1
    assert report["fields"] == [
        {"category": "other", "field": "HSR", "disagreements": 1, "known": 0, "unknown": 1}
    ]
    [entry] = report["disagreements"]
    assert entry["vector_id"] == "str-read-only-block-wrong-hsr" and entry["known"] is False
    assert entry["file"] == str(tmp_path / "b.jsonl") and entry["category"] == "other"
    assert (report["unknown"], report["known"], report["exit_code"]) == (1, 0, 1)


def test_quiet_drops_the_progress_and_keeps_the_report(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # where the meter shows
    path = write_file(tmp_path / "v.jsonl", [*correct_vectors(), wrong_hsr_vector()], spec_hash)
    code, out, err = run_cli([str(path)], capsys)
    count = len(correct_vectors()) + 1
    assert code == 1 and re.search(rf"\rconform: vectors run {count}/{count}, [\d,.e+-]+/s *\n", err)
    quiet_code, quiet_out, quiet_err = run_cli([str(path)], capsys, "-q")
    assert (quiet_code, quiet_out) == (code, out)
    assert quiet_err == ""


def test_junit_has_a_test_per_file_failed_by_an_unknown_disagreement(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_file(tmp_path / "good.jsonl", correct_vectors(), spec_hash)
    bad = write_file(tmp_path / "bad.jsonl", [wrong_hsr_vector()], spec_hash, category="other")
    junit = tmp_path / "reports" / "conform.xml"
    code, _, _ = run_cli([str(tmp_path), "--junit", str(junit)], capsys)
    assert code == 1
    root = ET.parse(junit).getroot()
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "2", "1")
    [suite] = root.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {str(good), str(bad)}
    assert cases[str(good)].get("classname") == "conform.stage2"
    assert cases[str(good)].find("failure") is None
    failure = cases[str(bad)].find("failure")
    assert failure is not None and cases[str(bad)].get("classname") == "conform.other"
    assert failure.get("message") == "1 unknown disagreement(s) in 1 of 1 vector(s)"
    listed = "str-read-only-block-wrong-hsr  HSR: expected 0x9381004f, observed 0x9381004e"
    assert listed in (failure.text or "")
    assert [p.name for p in junit.parent.iterdir()] == ["conform.xml"]  # no temporary left beside it


def test_junit_is_not_written_when_the_run_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n", encoding="utf-8")
    code, _, _ = run_cli([str(junk), "--junit", str(tmp_path / "conform.xml")], capsys)
    assert code == 2 and not (tmp_path / "conform.xml").exists()


def _r_lines(stdout: str) -> dict[int, list[int]]:
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("R "):
            _, index, *fields = line.split()
            rows[int(index, 16)] = [int(f, 16) for f in fields]
    return rows


R_COLUMNS = ("code", "hsr", "hdfar", "hifar", "hpfar", "value", "wlo", "whi", "parlo", "parhi")


def test_emit_elf_writes_images_and_a_manifest_a_person_can_check(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file(tmp_path / "v.jsonl", correct_vectors(), spec_hash)
    out_dir = tmp_path / "images"
    code, out, _ = run_cli([str(path), "--emit-elf", str(out_dir), "--batch", "6"], capsys)
    assert code == 0, out
    assert sorted(p.name for p in out_dir.glob("*.elf")) == ["stage2_000.elf", "stage2_001.elf"]
    manifest = json.loads((out_dir / "stage2_000.json").read_text())
    assert manifest["cases"] == [v["id"] for v in correct_vectors()[:6]]
    by_id = {e["id"]: e for e in manifest["expected"]}
    assert by_id["str-page"]["report_codes"] == [1]
    assert by_id["str-page"]["check"] == {
        "wlo": {"expected": "0x0badf00d", "mask": "0xffffffff"},
        "whi": {"expected": "0x11111111", "mask": "0xffffffff"},
    }
    assert by_id["fetch-page"]["check"] == {"hsr": {"expected": "0x00000002", "mask": "0x0000ffff"}}
    second = json.loads((out_dir / "stage2_001.json").read_text())
    store = {e["id"]: e for e in second["expected"]}["str-read-only-block"]
    assert store["report_codes"] == [2]
    assert store["check"] == {
        "hsr": {"expected": "0x9381004e", "mask": "0xffffffff"},
        "hdfar": {"expected": "0x80000000", "mask": "0xffffffff"},
    }
    # The manifest alone is enough: rerun each image with its recorded command and check it.
    for manifest_path in sorted(out_dir.glob("stage2_*.json")):
        image = json.loads(manifest_path.read_text())
        run = subprocess.run(image["qemu"], cwd=out_dir, capture_output=True, text=True, timeout=60)
        rows = _r_lines(run.stdout)
        assert len(rows) == len(image["expected"]), run.stdout
        for entry in image["expected"]:
            row = dict(zip(R_COLUMNS, rows[entry["index"]], strict=True))
            assert row["code"] in entry["report_codes"], entry
            for column, want in entry["check"].items():
                mask = int(want["mask"], 16)
                assert row[column] & mask == int(want["expected"], 16) & mask, (entry, column)


# --- Bad input: exit 2, before anything runs -----------------------------------------------------


def test_malformed_vector_file_names_line_and_field(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file(tmp_path / "bad.jsonl", correct_vectors()[:3], spec_hash)
    lines = path.read_text().splitlines()
    record = json.loads(lines[2])
    record["operation"]["size"] = 3
    lines[2] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli([str(path)], capsys)
    assert code == 2 and out == ""
    assert f"{path}:3" in err and "operation/size" in err

    path.write_text("\n".join([lines[0], "{not json", *lines[2:]]) + "\n")
    code, _, err = run_cli([str(path)], capsys)
    assert code == 2 and f"{path}:2:" in err and "not JSON" in err


def test_unrunnable_vector_is_named(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    high = vector("ldr-above-4gib", "read", 1 << 32, outcome="ok", data=0)
    no_vm = vector("ldr-hcr-vm-clear", "read", 0x5000_0000, outcome="ok", data=0x5566_7788, hcr=0)
    path = write_file(tmp_path / "u.jsonl", [*correct_vectors(), high, no_vm], spec_hash)
    code, out, err = run_cli([str(path)], capsys)
    assert code == 2 and out == ""
    assert "2 problem(s) with the vectors; nothing was run" in err
    assert f"{path}: vector 'ldr-above-4gib' cannot be run" in err and "below 2**32" in err
    assert f"{path}: vector 'ldr-hcr-vm-clear' cannot be run" in err and "VM (bit 0) clear" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"after": {0x5080_0000: 1, 0x5080_0008: 2}}, "exactly one word in expected.memory"),
        ({"after": {0x4010_0000: 1}}, "harness can read back"),
        ({"after": {}}, "exactly one word"),
    ],
)
def test_unobservable_write_expectation_is_refused(
    tmp_path: Path, spec_hash: str, change: dict[str, Any], message: str
) -> None:
    bad = vector("str-odd", "write", 0x8040_0000, outcome="ok", value=1, **change)
    path = write_file(tmp_path / "w.jsonl", [bad], spec_hash)
    with pytest.raises(ConformanceInputError, match=re.escape(message)):
        conform([path])


def test_ok_read_without_data_is_refused(tmp_path: Path, spec_hash: str) -> None:
    path = write_file(tmp_path / "r.jsonl", [vector("ldr", "read", 0x5000_0000, outcome="ok")], spec_hash)
    with pytest.raises(ConformanceInputError, match=r"'ldr'.*must give expected.data"):
        conform([path])


def test_two_files_of_one_category_run_together(tmp_path: Path, spec_hash: str) -> None:
    """Two seeds of one category, each CATEGORY.jsonl in its own directory, share vector ids: both
    files run, and a finding in the second names its vector by that file."""
    (tmp_path / "seed1").mkdir()
    (tmp_path / "seed2").mkdir()
    first = write_file(tmp_path / "seed1" / "stage2.jsonl", [*correct_vectors()[:1], wrong_hsr_vector()],
                       spec_hash)
    second = write_file(tmp_path / "seed2" / "stage2.jsonl", [*correct_vectors()[:1], wrong_hsr_vector()],
                        spec_hash)
    report = conform([first, second])
    assert (report.total.vectors, report.total.agree) == (4, 2)
    wrong = wrong_hsr_vector()["id"]
    assert sorted(f.disagreement.vector_id for f in report.findings) == [wrong, f"{wrong}@{second}"]
    assert [f.file for f in report.findings if f.disagreement.vector_id == wrong] == [first]


def test_missing_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([str(tmp_path / "nope.jsonl")], capsys)
    assert code == 2 and "no such file or directory" in err
    code, _, err = run_cli([str(tmp_path)], capsys)
    assert code == 2 and "holds no *.jsonl" in err


def test_a_file_without_vectors_is_an_error_not_an_agreement(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file(tmp_path / "empty.jsonl", [], spec_hash)
    code, out, err = run_cli([str(path)], capsys)
    assert code == 2 and "no vectors to run" in err and str(path) in err
    assert "agree" not in out


def test_missing_tools_are_a_harness_failure_with_the_install_hint(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing QEMU or binutils says nothing about the vectors: exit 3 (ExitCode.HARNESS), not the
    2 of a bad vector file, with the command that installs them."""
    path = write_file(tmp_path / "v.jsonl", correct_vectors(), spec_hash)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, out, err = run_cli([str(path)], capsys)
    assert code == ExitCode.HARNESS == 3 and INSTALL_HINT in err and out == ""


# --- The deviations file -------------------------------------------------------------------------


def test_shipped_deviations_file_is_valid() -> None:
    for deviation in load_deviations(DEFAULT_DEVIATIONS):
        assert deviation.right in ("spec", "implementation")


GOOD_ENTRY = DEVIATION_WRONG_HSR


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            GOOD_ENTRY + GOOD_ENTRY.replace("test-wrong-hsr", "x") + "colour = 'red'\n",
            "entry 2 (id 'x'): unknown key 'colour'",
        ),
        (
            GOOD_ENTRY + GOOD_ENTRY.replace('right = "implementation"\n', ""),
            "entry 2 (id 'test-wrong-hsr'): missing key 'right'",
        ),
        (GOOD_ENTRY.replace('"implementation"', '"qemu"'), "entry 1 (id 'test-wrong-hsr'): 'right' must be"),
        (GOOD_ENTRY.replace('["HSR"]', '["hsr"]'), "entry 1 (id 'test-wrong-hsr'): 'fields' has 'hsr'"),
        (GOOD_ENTRY.replace('["HSR"]', "[]"), "'fields' must be a non-empty list"),
        (GOOD_ENTRY.replace("ARM DDI 0406C.d §B3.13.6 and ", ""), "'citation'"),
        (GOOD_ENTRY.replace('"DELIBERATELY_WRONG"', '"lower"'), "'flag' 'lower'"),
        (GOOD_ENTRY.replace('category = "stage2"', "category = 2"), "'category' must be a non-empty string"),
        (GOOD_ENTRY + GOOD_ENTRY, "entry 2 (id 'test-wrong-hsr'): id 'test-wrong-hsr' is used by an earlier"),
        ("[deviation]\nid = 'x'\n", "'deviation' must be an array of tables"),
        ("deviations = []\n", "unknown top-level key 'deviations'"),
        ("[[deviation]\n", "not valid TOML"),
    ],
)
def test_invalid_deviations_file(
    tmp_path: Path,
    spec_hash: str,
    capsys: pytest.CaptureFixture[str],
    body: str,
    message: str,
) -> None:
    known = deviations_file(tmp_path / "known.toml", body)
    with pytest.raises(ConformanceInputError) as info:
        load_deviations(known)
    assert str(info.value).startswith(f"{known}: ") and message in str(info.value)
    path = write_file(tmp_path / "v.jsonl", correct_vectors()[:1], spec_hash)
    code, out, err = run_cli([str(path), "--deviations", str(known)], capsys)
    assert code == 2 and out == "" and message in err


# --- Pure: conversion and comparison -------------------------------------------------------------


def test_vector_to_case() -> None:
    v = vector("strh-x", "write", 0x8040_0006, outcome="ok", value=0xBEEF, size=2, rt=12)
    v["state"]["registers"]["VTTBR"] = "0x5a000048000000"
    assert vector_to_case(v) == Stage2Case(
        id="strh-x",
        vtcr=VTCR_L1,
        vttbr=0x5A_0000_4800_0000,
        memory=MEMORY,
        access="write",
        ipa=0x8040_0006,
        size=2,
        signed=False,
        rt=12,
        value=0xBEEF,
    )


def test_vector_without_vtcr_is_refused() -> None:
    v = vector("ldr", "read", 0x5000_0000, outcome="ok", data=0)
    del v["state"]["registers"]["VTCR"]
    with pytest.raises(ConformanceInputError, match=re.escape("'ldr': state.registers has no VTCR")):
        vector_to_case(v)


@pytest.mark.parametrize(
    ("observation", "observed"),
    [
        (
            Stage2Observation("x", "guest_exception", detail="data_abort lr=0x1"),
            "guest_exception (data_abort",
        ),
        (Stage2Observation("x", "no_report", detail="watchdog: ..."), "no_report (watchdog"),
        (Stage2Observation("x", "hyp_abort", hsr=0x9381004E), "hyp_abort"),
    ],
)
def test_outcome_mismatch_is_one_disagreement(observation: Stage2Observation, observed: str) -> None:
    v = vector("x", "read", 0x5000_0000, outcome="ok", data=0x5566_7788, flags=("F",))
    [d] = compare(v, observation)
    assert (d.field, d.expected, d.mask, d.flags) == ("outcome", "ok", None, ("F",))
    assert d.observed.startswith(observed)


def test_abort_expected_but_ok_observed() -> None:
    v = data_abort("y", 0xC000_0000, translation(1))
    [d] = compare(v, Stage2Observation("y", "ok", hsr=0x4A00_0000, value=0))
    assert (d.field, d.expected, d.observed) == (
        "outcome",
        "stage2_abort",
        "ok hsr=0x4a000000 value=0x00000000",
    )


def test_fetch_must_execute_hvc_2() -> None:
    v = vector("f", "fetch", 0x8040_0010, outcome="ok")
    assert compare(v, Stage2Observation("f", "ok", hsr=0x4A00_0002)) == []
    [d] = compare(v, Stage2Observation("f", "ok", hsr=0x4A00_0000))
    assert (d.field, d.expected, d.observed, d.mask) == ("fetched", "0x0002", "0x4a000000", "0xffff")


def test_write_without_read_back_is_a_disagreement() -> None:
    v = vector("w", "write", 0x8040_0000, outcome="ok", value=1, after={0x5080_0000: 1})
    [d] = compare(v, Stage2Observation("w", "ok", hsr=0x4A00_0000, detail="word_after unknown: x"))
    assert d.field == "memory[0x50800000]" and d.observed == "none (word_after unknown: x)"


def test_a_deviation_of_a_category_that_did_not_run_is_not_called_unused(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file(tmp_path / "v.jsonl", correct_vectors(), spec_hash)
    other = DEVIATION_WRONG_HSR.replace('category = "stage2"', 'category = "traps"')
    known = deviations_file(tmp_path / "known.toml", other)
    code, out, _ = run_cli([str(path), "--deviations", str(known)], capsys)
    assert code == 0, out
    assert "matched nothing" not in out


def test_vectors_of_another_spec_text_are_flagged(
    tmp_path: Path, spec_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    older = "0" * 64
    path = write_file(tmp_path / "v.jsonl", correct_vectors(), older)
    code, out, _ = run_cli([str(path)], capsys)
    assert code == 0, out
    assert f"warning: {path} was generated from another text of the spec (hash {older[:16]}, " \
           f"the spec's is {spec_hash[:16]})" in out
    code, out, _ = run_cli([str(path), "--json"], capsys)
    assert json.loads(out)["stale_files"] == [str(path)]
    assert_matches_schema(json.loads(out), REPORT_SCHEMA)
