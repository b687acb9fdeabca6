"""Holding a JSON report to its published schema (`hypspec/*/...schema.json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema


def schema_errors(document: Any, schema: Path) -> list[str]:
    """Every way `document` breaks `schema`, as messages naming the place."""
    validator = jsonschema.Draft202012Validator(json.loads(schema.read_text(encoding="utf-8")))
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                  for e in validator.iter_errors(document))


def assert_matches_schema(document: Any, schema: Path) -> None:
    errors = schema_errors(document, schema)
    assert not errors, "\n".join(errors)
