"""An installed hypspec needs no checkout (#13, item 8).

The package is built as a wheel, installed into a fresh virtual environment (its dependencies from
the package index) and run from a directory outside the checkout: `hypspec --version`, `check` and
`prove` succeed, and everything the engine read (chapters, model, properties, mutants, variants,
scenarios, known deviations, grammar, harness sources) came from the installed package, with the
same text as the checkout's.

The build and the environment take about half a minute, so the installed package is exercised in
one test: under pytest-xdist, tests of one module may land on different workers, and each worker
would build its own copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypspec.api import MODEL_DIR, Spec, proof_tree, spec_hash
from hypspec.paths import BUILD_DIR, CHECKOUT_ROOT, IN_CHECKOUT, ROOT, is_checkout

# What the build must not see: version control, environments, earlier builds (a stale build/lib
# would end up in the wheel) and caches. The build runs on a copy, so it writes nothing into the
# checkout others are working in.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "out", "__pycache__", "*.egg-info",
                                     ".pytest_cache", ".hypothesis", ".ruff_cache")
PROPERTY = "Stage2.OffsetPreserved"  # proved in a tenth of a second
VARIANT = "linux-3.10"

# Run by the installed interpreter: what the package found and read, as JSON.
_PROBE = """
import json, sys
from importlib import resources
import hypspec.paths as paths
from hypspec.api import MODEL_DIR, Spec, proof_tree
from hypspec.conformance.defaults import DEFAULT_DEVIATIONS
from hypspec.lang.parser import GRAMMAR
from hypspec.model.program import load_model
from hypspec.model.scenarios import read_scenarios
from hypspec.proof.mutants import VARIANTS_FILE, read_all_mutants, read_variants

mutants = read_all_mutants()
harness = resources.files("hypspec.conformance") / "harness"
data = {m.source for m in mutants} | {str(p) for p in harness.iterdir()}
data |= {str(DEFAULT_DEVIATIONS), str(GRAMMAR), str(VARIANTS_FILE), str(MODEL_DIR / "scenarios.toml")}
print(json.dumps({
    "sys_path": sys.path,
    "root": str(paths.ROOT),
    "in_checkout": paths.IN_CHECKOUT,
    "build_dir": str(paths.BUILD_DIR),
    "chapters": [str(p) for p in Spec.load(*proof_tree()).loaded.files],
    "mutants": len(mutants),
    "variants": len(read_variants()),
    "scenarios": [s.name for s in read_scenarios(load_model(), MODEL_DIR)],
    "data": sorted(data),
}))
"""


@dataclass(frozen=True)
class Installed:
    venv: Path
    package: Path  # the installed hypspec/ directory
    work: Path  # a working directory outside the checkout
    env: dict[str, str]

    def hypspec(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _run([str(self.venv / "bin" / "hypspec"), *args], self.work, self.env)

    def probe(self) -> dict[str, Any]:
        # -I: neither the working directory nor PYTHONPATH nor the user's site-packages on the path.
        done = _run([str(self.venv / "bin" / "python"), "-I", "-c", _PROBE], self.work, self.env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _run(command: list[str], cwd: Path,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _must(command: list[str], cwd: Path) -> str:
    done = _run(command, cwd)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(base: Path) -> Path:
    """The wheel `pip wheel` builds from a copy of the checkout."""
    source = base / "source"
    shutil.copytree(CHECKOUT_ROOT, source, ignore=_NOT_SOURCE)
    dist = base / "dist"
    _must([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)], base)
    wheels = list(dist.glob("hypspec-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def install(base: Path) -> Installed:
    """A fresh virtual environment with the wheel and its dependencies, and a clean environment
    to run it in: no PYTHONPATH, a cache of its own."""
    venv = base / "venv"
    _must([sys.executable, "-m", "venv", str(venv)], base)
    _must([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(build_wheel(base))], base)
    package = next((venv / "lib").glob("python3*/site-packages/hypspec"))
    work = base / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["HYPSPEC_CACHE_DIR"] = str(base / "cache")
    return Installed(venv, package, work, env)


def in_checkout(installed: Installed, path: str) -> Path:
    """The checkout's file of which `path` is the installed copy; fails unless `path` is in the
    installed package."""
    relative = Path(path).relative_to(installed.package)
    if relative.parts[0] == "_tree":
        return CHECKOUT_ROOT.joinpath(*relative.parts[1:])
    return CHECKOUT_ROOT / "hypspec" / relative


def outside_checkout(path: str) -> bool:
    return not Path(path).resolve().is_relative_to(CHECKOUT_ROOT)


def test_installed_wheel_runs_without_the_checkout(tmp_path: Path) -> None:
    assert outside_checkout(str(tmp_path))
    installed = install(tmp_path)
    check_version(installed)
    check_check(installed)
    check_prove(installed)
    check_explore(installed)
    check_what_was_read(installed)


def check_version(installed: Installed) -> None:
    pyproject = tomllib.loads((CHECKOUT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["project"]["version"]
    done = installed.hypspec("--version")
    assert (done.returncode, done.stdout) == (0, f"hypspec {declared}\n"), done.stderr


def check_check(installed: Installed) -> None:
    """The installed tree is the checkout's: as many chapters, the same spec and tree hashes."""
    spec = Spec.load(*proof_tree())
    done = installed.hypspec("check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok: {len(spec.loaded.files)} chapter(s), "), done.stdout
    hashes = f"; spec hash {spec_hash()[:16]}, tree hash {spec.digest[:16]}\n"
    assert done.stdout.endswith(hashes), done.stdout


def check_prove(installed: Installed) -> None:
    """A property of the architecture, then of a variant of the model: the variant is read from
    the installed variants.toml and patched into a copy of the installed tree."""
    for options in ([], ["--variant", VARIANT]):
        done = installed.hypspec("prove", *options, PROPERTY)
        assert done.returncode == 0, done.stdout + done.stderr
        rows = [line.split() for line in done.stdout.splitlines()]
        assert [PROPERTY, "proved"] in [row[:2] for row in rows], done.stdout
        assert "1/1 properties proved" in done.stdout, done.stdout
    assert f"model variant: {VARIANT}" in done.stdout, done.stdout


def check_explore(installed: Installed) -> None:
    """A short campaign on the installed model: `explore` needs Hypothesis, a dependency of the
    package itself, not only of its tests."""
    done = installed.hypspec("explore", "--steps", "5", "--examples", "3", "--seed", "1", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["violation"] is None, done.stdout


def check_what_was_read(installed: Installed) -> None:
    """Every file the engine read is in the installed package, and holds the checkout's text."""
    from hypspec.model.program import load_model
    from hypspec.model.scenarios import read_scenarios
    from hypspec.proof.mutants import read_all_mutants, read_variants

    found = installed.probe()
    assert all(outside_checkout(entry) for entry in found["sys_path"]), found["sys_path"]
    assert (found["root"], found["in_checkout"]) == (str(installed.package / "_tree"), False)
    assert found["build_dir"] == "build"  # `hypspec docs` writes to the working directory
    chapters = [str(p) for p in Spec.load(*proof_tree()).loaded.files]
    assert [str(in_checkout(installed, p)) for p in found["chapters"]] == chapters
    for path in found["data"]:
        assert Path(path).read_bytes() == in_checkout(installed, path).read_bytes(), path
    assert found["mutants"] == len(read_all_mutants()) > 0
    assert found["variants"] == len(read_variants()) > 0
    assert found["scenarios"] == [s.name for s in read_scenarios(load_model(), MODEL_DIR)] != []


def test_a_checkout_loads_its_own_tree(tmp_path: Path) -> None:
    """Run from the checkout, the tree is its top level, and a directory is a checkout only with
    both a pyproject.toml and a spec/manifest.toml."""
    assert (IN_CHECKOUT, ROOT, BUILD_DIR) == (True, CHECKOUT_ROOT, CHECKOUT_ROOT / "build")
    assert not is_checkout(tmp_path)
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "manifest.toml").write_text("chapters = []\n", encoding="utf-8")
    assert not is_checkout(tmp_path)
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    assert is_checkout(tmp_path)
