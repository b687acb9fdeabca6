"""The expected results `hypspec conform --emit-elf` adds to each image's manifest, so that a
board run can be judged without Python."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hypspec.categories.category import LoadedVector
from hypspec.conformance.errors import HarnessBuildError

EXPECTED_FORMAT = "hypspec-conform-expected/1"


def add_expected(
    elves: Sequence[Path],
    items: Sequence[LoadedVector],
    batch: int,
    how_to_check: str,
    entry: Callable[[int, LoadedVector], dict[str, Any]],
    case_ids: Callable[[dict[str, Any]], list[str]] | None = None,
) -> None:
    """Add to the manifest of image i (``batch`` items each) the ``entry`` of each of its items
    and how to check them; ``case_ids`` reads the manifest's case ids, which must be the items'."""
    for number, elf in enumerate(elves):
        chunk = items[number * batch : (number + 1) * batch]
        manifest_path = elf.with_suffix(".json")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if case_ids is not None and case_ids(manifest) != [item.case.id for item in chunk]:
            raise HarnessBuildError(f"{manifest_path}: cases do not match the images' batches")
        manifest["expected_format"] = EXPECTED_FORMAT
        manifest["how_to_check"] = how_to_check
        manifest["expected"] = [entry(i, item) for i, item in enumerate(chunk)]
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
