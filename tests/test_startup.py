"""A short command loads only what it uses (#13, start-up): with the spec in the on-disk cache,
`hypspec run` imports neither the solver, nor the parser, nor the test and site libraries, and
building the command line imports no subcommand's machinery. (How long start-up takes is
`make bench`'s to measure.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: Modules a concrete command never needs: the solver and the symbolic side, the spec parser (a
#: cached spec is not parsed), Hypothesis, the vector file schema, the site builder.
HEAVY = ("z3", "hypspec.symbolic.evaluator", "lark", "hypspec.lang.parser", "hypothesis", "jsonschema",
         "mkdocs", "hypspec.conformance.conform", "hypspec.model.explore")

PROBE = """
import json, sys
from hypspec.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": int(code), "modules": sorted(sys.modules)}))
"""


def _modules(argv: list[str], cache: Path) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True,
                          env={"HYPSPEC_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"})
    report = json.loads(done.stdout.splitlines()[-1])
    return report["code"], set(report["modules"])


def test_a_concrete_run_on_a_warm_cache_loads_nothing_heavy(tmp_path: Path) -> None:
    argv = ["run", "AArch32.S2LevelShift", "1"]
    code, cold = _modules(argv, tmp_path)  # fills the cache: this one parses
    assert code == 0 and "lark" in cold
    code, warm = _modules(argv, tmp_path)
    assert code == 0
    assert warm.isdisjoint(HEAVY), sorted(warm & set(HEAVY))


def test_the_command_line_alone_loads_no_subcommand(tmp_path: Path) -> None:
    code, loaded = _modules(["list", "categories"], tmp_path)
    assert code == 0
    engine = {*HEAVY, "hypspec.api", "hypspec.concrete.compiler"}
    assert loaded.isdisjoint(engine), sorted(loaded & engine)
