"""Vector files made as a user makes them: by the command line, in fresh processes.

Z3's models, and so the witnesses, are deterministic only within a fresh process, so every
category's determinism test generates its file twice, in two processes side by side, and
compares the bytes.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path


@cache
def generated_twice(category: str, seed: int, random: int) -> tuple[Path, Path]:
    """`hypspec vectors CATEGORY --seed SEED --random RANDOM`, run twice at once."""
    root = Path(tempfile.mkdtemp(prefix=f"hypspec-{category}-vectors-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    runs = []
    for name in ("a", "b"):
        command = [sys.executable, "-m", "hypspec.cli", "vectors", category, "--seed", str(seed),
                   "--random", str(random), "--out", str(root / name)]
        runs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, out + err
    return root / "a" / f"{category}.jsonl", root / "b" / f"{category}.jsonl"
