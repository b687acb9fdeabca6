"""Shared fixtures: the spec is loaded and compiled once per session."""

from __future__ import annotations

import pytest
from hypothesis import settings

from hypspec.api import PROOFS_DIR, SPEC_DIR, Spec

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile("default")


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec.load(SPEC_DIR)


@pytest.fixture(scope="session")
def spec_with_proofs() -> Spec:
    return Spec.load(SPEC_DIR, PROOFS_DIR)
