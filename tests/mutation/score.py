"""`make mutate`: the suite's own mutation score, on bugs it was not written against.

`held_out.toml` plants small bugs across every chapter of `spec/` (a field width, a polarity, a
loop bound, a comparison, a constant, a register view, a dropped update). No test or proof names
them, and they are never fixed: they measure whether a green `make test` would have noticed.
Each bug is applied to a fresh copy of the repository, and three kinds of check are run on it:

- the checker: the patched chapters must still load (a bug that does not type-check is caught
  before anything runs, and reported as such);
- the proofs: every property of `proofs/` (the model's invariants are left to the model's own
  mutants, `models/mutants/`), each refuted one counted as a check that caught the bug;
- the tests: `pytest` on the copy, without `tests/model` and `tests/proofs` (the proofs are
  counted above, and their mutant checks patch text the bug may have changed). A failing test
  function counts once however many of its parametrizations fail. The run stops after
  `--maxfail` failures, so a count reported with `+` is a lower bound.

Before any bug, the same checks run on a copy with no bug planted: every property must be proved
and every test must pass there, or the run stops (exit 3), since a catch would then mean nothing.
A bug counts as caught when at least one check failed; the suite's goal is two independent ones.
The report gives every bug's catches and the score per chapter; `--json` writes the same.
`--proofs-only` runs the checker and the proofs and not the tests: about half a minute a bug
instead of several, for the proofs' own score when a property is added.

    python -m tests.mutation.score [--bug NAME ...] [--maxfail N] [--proofs-only] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hypspec.api import ROOT, Spec, proof_tree
from hypspec.exitcodes import ExitCode
from hypspec.lang.diagnostics import SpecError
from hypspec.proof.mutants import Mutant, patched_tree
from hypspec.proof.prover import PROVED, REFUTED, prove

BUGS_FILE = Path(__file__).with_name("held_out.toml")
KEYS = {"name", "bug_class", "about", "file", "find", "replace"}
# What a bug's copy of the repository holds: everything the suite reads (the documentation too:
# tests check that every documented rule is tested).
COPIED = ("hypspec", "spec", "models", "proofs", "tests", "docs", "benchmarks", "README.md", "Makefile",
          "pyproject.toml")
# Suites left out of a bug's test run (see the module's docstring).
NOT_RUN = ("tests/model", "tests/proofs", "tests/mutation")


class BugFileError(ValueError):
    """The bug file cannot be read; the message names the file and the entry."""


@dataclass(frozen=True)
class Bug:
    name: str
    bug_class: str
    about: str
    file: str
    find: str
    replace: str

    @property
    def chapter(self) -> str:
        return Path(self.file).stem

    def as_patch(self) -> Mutant:
        return Mutant(self.name, self.bug_class, self.file, self.find, self.replace, [], str(BUGS_FILE))


@dataclass
class Outcome:
    bug: str
    chapter: str
    bug_class: str
    rejected: str = ""  # the checker's message, when the patched chapters do not load
    properties: list[str] = field(default_factory=list)  # refuted
    tests: list[str] = field(default_factory=list)  # failing test functions
    tests_stopped: bool = False  # the test run reached --maxfail
    tests_run: bool = True  # False with --proofs-only
    seconds: float = 0.0

    @property
    def checks(self) -> int:
        return bool(self.rejected) + len(self.properties) + len(self.tests)

    @property
    def caught(self) -> bool:
        return self.checks > 0


def read_bugs(path: Path = BUGS_FILE) -> list[Bug]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise BugFileError(f"{path}: {err}") from err
    bugs: list[Bug] = []
    for index, entry in enumerate(data.get("bug", []), start=1):
        if set(entry) != KEYS:
            missing, unknown = sorted(KEYS - set(entry)), sorted(set(entry) - KEYS)
            raise BugFileError(f"{path}: bug #{index} lacks {missing} or has unknown keys {unknown}")
        bugs.append(Bug(**entry))
    names = [bug.name for bug in bugs]
    if len(set(names)) != len(names):
        raise BugFileError(f"{path}: bug names repeat: {sorted({n for n in names if names.count(n) > 1})}")
    if not bugs:
        raise BugFileError(f"{path}: no [[bug]] entries")
    return bugs


def property_statuses(root: Path) -> dict[str, str]:
    """Every property of the tree at `root`, and what `prove` says of it."""
    spec = Spec.load(*proof_tree(root))
    return {name: prove(spec, name).status for name in spec.program.properties}


def refuted_properties(root: Path) -> list[str]:
    """The properties of the patched tree that Z3 refutes (a timeout is not a catch)."""
    return [name for name, status in property_statuses(root).items() if status == REFUTED]


def failing_tests(root: Path, maxfail: int, jobs: int) -> tuple[list[str], bool]:
    """The test functions that fail on the patched copy, and whether the run stopped early."""
    with tempfile.TemporaryDirectory(prefix="hypspec-mutate-") as tmp:
        report = Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-q", "--tb=no", "-p", "no:cacheprovider",
                   f"--maxfail={maxfail}", f"--junitxml={report}", "-n", str(jobs),
                   *(f"--ignore={suite}" for suite in NOT_RUN), "tests"]
        env = {**os.environ, "PYTHONPATH": str(root)}
        subprocess.run(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        if not report.is_file():
            raise RuntimeError(f"pytest wrote no report for the copy at {root}")
        failed, failures = set(), 0
        for case in ElementTree.parse(report).iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failures += 1
                function = case.get("name", "").split("[")[0]
                failed.add(f"{case.get('classname', '')}::{function}")
    return sorted(failed), failures >= maxfail


def baseline_failures(maxfail: int, jobs: int, tests: bool = True) -> list[str]:
    """What fails on a copy with no bug planted: properties not proved, then failing tests."""
    with patched_tree(trees=COPIED) as root:
        unproved = [name for name, status in property_statuses(root).items() if status != PROVED]
        return unproved + (failing_tests(root, maxfail, jobs)[0] if tests else [])


def run_bug(bug: Bug, maxfail: int, jobs: int, tests: bool = True) -> Outcome:
    start = time.perf_counter()
    outcome = Outcome(bug.name, bug.chapter, bug.bug_class, tests_run=tests)
    with patched_tree(bug.as_patch(), trees=COPIED) as root:
        try:
            outcome.properties = refuted_properties(root)
        except SpecError as err:
            outcome.rejected = str(err).splitlines()[0]
        else:
            if tests:
                outcome.tests, outcome.tests_stopped = failing_tests(root, maxfail, jobs)
    outcome.seconds = round(time.perf_counter() - start, 1)
    return outcome


def render_outcome(o: Outcome) -> str:
    """One bug's line, and what caught it."""
    tests = f"{len(o.tests)}{'+' if o.tests_stopped else ''}" if o.tests_run else "-"
    verdict = "caught" if o.caught else "MISSED"
    lines = [f"{o.bug:<44} {o.bug_class:<20} {verdict:<7} checker {'yes' if o.rejected else 'no':<3} "
             f"properties {len(o.properties):<2} tests {tests:<4} ({o.seconds:.0f} s)"]
    lines += [f"    property  {name}" for name in o.properties]
    lines += [f"    test      {name}" for name in o.tests[:6]]
    if len(o.tests) > 6:
        lines.append(f"    test      ... and {len(o.tests) - 6} more")
    if o.rejected:
        lines.append(f"    checker   {o.rejected}")
    return "\n".join(lines)


def render_score(outcomes: list[Outcome]) -> str:
    """Per chapter: the bugs, how many were caught, how many by two or more checks."""
    lines = [f"{'chapter':<28} {'bugs':>4} {'caught':>7} {'by two or more':>15}"]
    by_chapter: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_chapter[o.chapter].append(o)
    for chapter, group in [*sorted(by_chapter.items()), ("all", outcomes)]:
        caught = sum(o.caught for o in group)
        twice = sum(o.checks >= 2 for o in group)
        lines.append(f"{chapter:<28} {len(group):>4} {caught:>7} {twice:>15}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation.score",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--bug", action="append", default=[], metavar="NAME",
                        help="only this bug (repeatable)")
    parser.add_argument("--maxfail", type=int, default=10,
                        help="stop a bug's test run after N failures (default: 10)")
    parser.add_argument("--jobs", type=int, default=2, help="pytest processes per test run (default: 2)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the outcomes as JSON")
    parser.add_argument("--proofs-only", action="store_true",
                        help="run the checker and the proofs, not the tests")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="do not first check the copy with no bug (a run on this commit did)")
    args = parser.parse_args(argv)
    if args.maxfail < 1 or args.jobs < 1:
        parser.error("--maxfail and --jobs take a positive number")
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json: no directory {args.json.parent}")
    try:
        bugs = read_bugs()
    except BugFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return ExitCode.USAGE
    unknown = sorted(set(args.bug) - {bug.name for bug in bugs})
    if unknown:
        print(f"error: no held-out bug named {', '.join(unknown)} (see {BUGS_FILE.relative_to(ROOT)})",
              file=sys.stderr)
        return ExitCode.USAGE
    chosen = [bug for bug in bugs if not args.bug or bug.name in args.bug]
    outcomes = []
    try:
        broken = []
        if not args.skip_baseline:
            print("[0] the copy with no bug, which must pass", file=sys.stderr, flush=True)
            broken = baseline_failures(args.maxfail, args.jobs, tests=not args.proofs_only)
        if broken:
            print("error: the unpatched copy already fails, so no bug's catches would mean anything:\n  "
                  + "\n  ".join(broken), file=sys.stderr)
            return ExitCode.HARNESS
        for number, bug in enumerate(chosen, start=1):
            print(f"[{number}/{len(chosen)}] {bug.name} ({bug.file})", file=sys.stderr, flush=True)
            outcomes.append(run_bug(bug, args.maxfail, args.jobs, tests=not args.proofs_only))
            print(render_outcome(outcomes[-1]), flush=True)
    except KeyboardInterrupt:
        print(f"interrupted after {len(outcomes)} of {len(chosen)} bugs; nothing written", file=sys.stderr)
        return ExitCode.INTERRUPTED
    print()
    print(render_score(outcomes))
    if args.json is not None:
        payload = [{**asdict(o), "caught": o.caught, "checks": o.checks} for o in outcomes]
        partial = args.json.with_name(args.json.name + ".partial")
        partial.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        partial.replace(args.json)
    return ExitCode.OK if all(o.caught for o in outcomes) else ExitCode.FAILED


if __name__ == "__main__":
    sys.exit(main())
