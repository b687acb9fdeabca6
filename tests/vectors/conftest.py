"""Fixtures every vector category's tests share; each test module defines `vector_file`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hypspec.vectors.store import read_vectors


@pytest.fixture(scope="module")
def vectors(vector_file: Path) -> list[dict[str, Any]]:
    return read_vectors(vector_file).vectors


@pytest.fixture(scope="module")
def by_id(vectors: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in vectors}
