"""Stage 2 vectors: schema, determinism, coverage and agreement with the semantics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hypspec.api import Spec
from hypspec.vectors.store import VectorFileError, read_vectors, write_vectors
from tests.conftest import generate_stage2_vectors


@pytest.fixture(scope="module")
def vector_file(stage2_vector_file: Path) -> Path:
    return stage2_vector_file


def test_every_feasible_path_is_hit(vector_file: Path) -> None:
    meta = read_vectors(vector_file).meta
    coverage = meta["coverage"]
    assert coverage["feasible_paths"] > 50
    assert coverage["paths_hit"] == coverage["feasible_paths"]
    assert all(hit == feasible for hit, feasible in coverage["by_function"].values())


def test_witnesses_and_random_vectors_cover_all_access_kinds(vector_file: Path) -> None:
    vectors = read_vectors(vector_file).vectors
    kinds = {(v["kind"], v["operation"]["access"], v["expected"]["outcome"]) for v in vectors}
    for kind in ("witness", "random"):
        for access in ("read", "write", "fetch"):
            assert (kind, access, "ok") in kinds
            assert (kind, access, "stage2_abort") in kinds
    assert {v["operation"]["size"] for v in vectors} == {1, 2, 4}


def test_same_seed_gives_byte_identical_files(vector_file: Path, tmp_path: Path) -> None:
    # From another working directory too: UNKNOWN values must not depend on it.
    generate_stage2_vectors(tmp_path, cwd=tmp_path)
    assert (tmp_path / "stage2.jsonl").read_bytes() == vector_file.read_bytes()


def test_expected_outcomes_replay_in_the_concrete_semantics(spec: Spec, vector_file: Path) -> None:
    """Re-run every vector from its recorded state: the file says what the spec says."""
    for vector in read_vectors(vector_file).vectors:
        state = vector["state"]
        op = vector["operation"]
        world = spec.state(**{k: int(v, 16) for k, v in state["registers"].items()},
                           PhysMem={int(a, 16): int(w, 16) for a, w in state["memory"].items()})
        args = [int(op["va"], 16), "AccType_IFETCH" if op["access"] == "fetch" else "AccType_NORMAL",
                op["access"] == "write", op["size"], op["signed"], op["rt"], int(op["value"], 16)]
        outcome = spec.call("Model.Stage2GuestAccess", *args, state=world)
        faulted = outcome["addrdesc"]["fault"]["statuscode"] != "Fault_None"
        expected = vector["expected"]
        assert expected["outcome"] == ("stage2_abort" if faulted else "ok")
        for name, value in expected["registers"].items():
            mask = int(vector["masks"][name], 16)
            assert getattr(world, name) & mask == int(value, 16) & mask, (vector["id"], name)
        if "data" in expected:
            assert outcome["data"] == int(expected["data"], 16)


FULL, IL = 0xFFFF_FFFF, 1 << 25


def architectural_masks(vector: dict) -> dict[str, int]:
    """The bits of each abort register a vector may compare, from the ARM ARM, not from the spec:

    * HSR (§B3.13.6): IL is UNK/SBZP for a Prefetch Abort and for a Data Abort whose ISV is 0;
      every other bit is defined.
    * HDFAR (§B4.1.67) holds the address of a Data Abort and is UNKNOWN after a Prefetch Abort;
      HIFAR (§B4.1.68) the reverse.
    * HPFAR (§B4.1.70) is valid for a Translation or Access flag fault, UNKNOWN for a Permission
      fault.
    * Without an abort nothing is written, and every bit is compared (it must be unchanged).
    """
    expected = vector["expected"]
    if expected["outcome"] != "stage2_abort":
        return dict.fromkeys(("HSR", "HDFAR", "HIFAR", "HPFAR"), FULL)
    fetch = vector["operation"]["access"] == "fetch"
    isv = int(expected["registers"]["HSR"], 16) >> 24 & 1
    permission = expected["spec_only"]["fault"]["statuscode"] == "Fault_Permission"
    return {
        "HSR": FULL & ~IL if fetch or not isv else FULL,
        "HDFAR": 0 if fetch else FULL,
        "HIFAR": FULL if fetch else 0,
        "HPFAR": 0 if permission else FULL,
    }


def test_masks_are_exactly_what_the_architecture_leaves_unknown(vector_file: Path) -> None:
    """A spec change that makes a defined bit UNKNOWN (which would drop it from every vector and
    from the QEMU check) or a defined one UNKNOWN-free fails here, per fault kind and access."""
    vectors = read_vectors(vector_file).vectors
    kinds = set()
    for vector in vectors:
        masks = {name: int(value, 16) for name, value in vector["masks"].items()}
        assert masks == architectural_masks(vector), vector["id"]
        fault = vector["expected"]["spec_only"]["fault"]["statuscode"]
        kinds.add((vector["operation"]["access"], fault))
    faults = ("Fault_Translation", "Fault_AccessFlag", "Fault_Permission")
    assert {(a, f) for a in ("read", "write", "fetch") for f in faults} <= kinds


def _rewrite(path: Path, line: int, edit) -> Path:
    lines = path.read_text().splitlines()
    lines[line - 1] = edit(lines[line - 1])
    bad = path.with_name("bad.jsonl")
    bad.write_text("\n".join(lines) + "\n")
    return bad


def test_a_schema_invalid_vector_names_its_line_and_field(vector_file: Path) -> None:
    def break_size(text: str) -> str:
        record = json.loads(text)
        record["operation"]["size"] = 3
        return json.dumps(record)

    bad = _rewrite(vector_file, 5, break_size)
    with pytest.raises(VectorFileError, match=r"bad\.jsonl:5: field 'operation/size'"):
        read_vectors(bad)


def test_malformed_json_names_its_line(vector_file: Path) -> None:
    bad = _rewrite(vector_file, 3, lambda text: text[:-5])
    with pytest.raises(VectorFileError, match=r"bad\.jsonl:3:\d+: not JSON"):
        read_vectors(bad)


def test_a_wrong_count_in_meta_is_rejected(vector_file: Path) -> None:
    lines = vector_file.read_text().splitlines()[:-1]
    bad = vector_file.with_name("short.jsonl")
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(VectorFileError, match="meta/count"):
        read_vectors(bad)


def test_nothing_is_written_when_a_vector_is_invalid(vector_file: Path, tmp_path: Path) -> None:
    data = read_vectors(vector_file)
    broken = [*data.vectors[:3], {**data.vectors[3], "kind": "guess"}]
    target = tmp_path / "out.jsonl"
    with pytest.raises(VectorFileError, match="line 5: field 'kind'"):
        write_vectors(target, {**data.meta, "count": 4}, broken)
    assert list(tmp_path.iterdir()) == []
