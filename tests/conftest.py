"""Shared fixtures: the spec is loaded and compiled once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from hypspec.api import SPEC_DIR, Spec
from tests.helpers.proofs import proof_spec

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile("default")


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec.load(SPEC_DIR)


@pytest.fixture(scope="session")
def spec_with_proofs() -> Spec:
    return proof_spec()


def generate_stage2_vectors(out: Path, cwd: Path | None = None) -> Path:
    """Generate stage 2 vectors in a fresh process, as a user runs it (from `cwd`)."""
    command = [sys.executable, "-m", "hypspec.cli", "vectors", "stage2", "--seed", "3",
               "--random", "300", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True, cwd=cwd)
    return out / "stage2.jsonl"


@pytest.fixture(scope="session")
def stage2_vector_file(tmp_path_factory) -> Path:
    return generate_stage2_vectors(tmp_path_factory.mktemp("vectors"))
