"""`hypspec conform --json` on a vector file, and what its report says about known deviations."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

from hypspec.cli import main


def conform_json(path: Path) -> dict[str, Any]:
    """The JSON report of `hypspec conform` on `path`, with the exit status as `status`."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["conform", "--json", str(path)])
    report = json.loads(out.getvalue())
    report["status"] = status
    return report


def vectors_set_aside(report: dict[str, Any]) -> dict[str, int]:
    """For each known deviation the run met, how many distinct vectors it explains."""
    pairs = {(d["deviation"], d["vector_id"]) for d in report["disagreements"] if d["known"]}
    return dict(Counter(deviation for deviation, _ in pairs))
