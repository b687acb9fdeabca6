"""The spec's own stage 2 vectors, run on QEMU: the spec checked against an implementation."""

from __future__ import annotations

import json
from pathlib import Path

from hypspec.cli import main


def test_generated_stage2_vectors_agree_with_qemu(stage2_vector_file: Path, capsys) -> None:
    status = main(["conform", "--json", str(stage2_vector_file)])
    report = json.loads(capsys.readouterr().out)
    assert status == 0, report
    vectors = sum(1 for _ in stage2_vector_file.open()) - 1
    assert report["total"]["vectors"] == vectors
    assert report["total"]["agree"] == vectors
