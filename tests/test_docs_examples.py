"""Every command the README and docs/*.md show is run (#13, item 10), so that none of them
teaches an option, a name or an output that the program does not have.

An example is a line of a code block (fenced, or indented four spaces) that starts with
`hypspec `, `.venv/bin/hypspec ` or `make ` (after a `$ ` prompt, if it has one); a line ending
in a backslash continues on the next. The lines that follow a `$ ` example, up to the next one,
are what the docs claim it prints (`...` standing for any text), and are checked too.

Each `hypspec` example runs in-process (`hypspec.cli.main`) in a scratch directory that already
holds a small vector file in `out/`, as the vectors examples leave it. To keep the module near
half a minute, a few numbers are made smaller and a few placeholders filled in (`_runnable`
says which and why); nothing else in an example is changed. An example that is not run at all
is in NOT_RUN with the reason, and that table may name only examples the docs still show.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hypspec.api import MODEL_DIR, ROOT
from hypspec.cli import build_parser, main
from hypspec.exitcodes import ExitCode

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"^(?:\.venv/bin/)?(?:hypspec|make) ")

#: Examples the test does not run, and why; each is still checked to be a command line the
#: parser takes (hypspec) or a target the Makefile has (make).
NOT_RUN = {
    "make demo": "runs every proof and every mutant, minutes; tests/proofs proves the same",
    "make test": "the whole suite, this module included",
    "make docs": "the whole site through MkDocs; tests/site builds it and opens it in a browser",
    "hypspec docs --serve": "a web server, which runs until Ctrl-C; tests/site builds the same site",
    "hypspec vectors traps --seed 7 --out out/":
        "the witness search of Model.TrapDecision takes about 45 s whatever --random is; "
        "tests/vectors/test_trap_vectors.py runs it",
    "hypspec vectors traps --seed 7 --random 1000 --out out/":
        "the same search as the example above",
    "hypspec docs --status prove.json conform.json table1.json out/*.jsonl":
        "the whole site, into build/site; tests/site/test_status.py builds the status pages and "
        "the notes under definitions from the reports the three examples above write",
}

#: Examples that show a failure, and the exit code they must end with (every other one: 0).
EXIT_CODES = {
    "hypspec prove Stage2.Containmen": ExitCode.USAGE,
}

#: Placeholders the docs write for a value of the reader's own, and the value the test gives.
PLACEHOLDERS = {"DIR": str(MODEL_DIR)}

#: Numbers that set how much work an example does, and the most the test asks for.
SMALLER = {"--random": 5, "--examples": 5}

#: A property of proofs/ that takes a fraction of a second: `prove` with no name proves the whole
#: model (minutes), so the test names this one.
QUICK_PROPERTY = "Stage2.Containment"


@dataclass(frozen=True)
class Example:
    where: str  # document:line
    command: str  # as written, its comment removed and its lines joined
    output: tuple[str, ...]  # what the docs show it printing, if they do

    def __str__(self) -> str:
        return f"{self.where}: {self.command}"


def _code_blocks(text: str) -> Iterator[list[tuple[int, str]]]:
    """The code blocks of a Markdown text, each as its (line number, line) pairs."""
    block: list[tuple[int, str]] = []
    fenced = False
    previous_blank = True
    for number, line in enumerate(text.split("\n"), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            if not fenced and block:
                yield block
            block = []
        elif fenced or (line.startswith("    ") and (previous_blank or block)):
            block.append((number, line.strip()))
        elif block and line.strip():  # prose ends an indented block; a blank line inside does not
            yield block
            block = []
        previous_blank = not line.strip()
    if block:
        yield block


def _examples_in(block: list[tuple[int, str]], name: str) -> Iterator[Example]:
    lines = iter(block)
    pending: tuple[int, str, bool] | None = None
    output: list[str] = []
    for number, line in lines:
        while line.endswith("\\"):  # a command continued on the next line
            line = line[:-1] + " " + next(lines, (0, ""))[1]
        prompted = line.startswith("$ ")
        command = line.removeprefix("$ ")
        if COMMAND.match(command):
            if pending is not None:
                yield _example(pending, output, name)
            pending, output = (number, command, prompted), []
        elif pending is not None and pending[2] and line:
            output.append(line)  # printed by the `$ ` example above it
    if pending is not None:
        yield _example(pending, output, name)


def _example(pending: tuple[int, str, bool], output: list[str], name: str) -> Example:
    number, command, _ = pending
    words = shlex.split(command, comments=True)
    return Example(f"{name}:{number}", " ".join(words).removeprefix(".venv/bin/"), tuple(output))


def examples() -> list[Example]:
    found = []
    for document in DOCUMENTS:
        name = str(document.relative_to(ROOT))
        for block in _code_blocks(document.read_text(encoding="utf-8")):
            found += _examples_in(block, name)
    return found


EXAMPLES = examples()
RUN = [e for e in EXAMPLES if e.command not in NOT_RUN]


# --- What is run and what is not ---------------------------------------------------------------


def test_examples_are_found_in_the_readme_and_the_docs() -> None:
    """The extraction itself: a change of layout that hid the examples would pass every test
    below by running none."""
    documents = {e.where.split(":")[0] for e in EXAMPLES}
    assert {"README.md", "docs/cli.md", "docs/vectors.md", "docs/models.md"} <= documents
    assert any(e.command.startswith("hypspec run AArch32.SecondStageTranslate") and "--mem" in e.command
               for e in EXAMPLES), "the README's run example spans three lines"


def test_the_table_of_examples_not_run_names_only_examples_the_docs_show() -> None:
    shown = {e.command for e in EXAMPLES}
    assert set(NOT_RUN) <= shown, sorted(set(NOT_RUN) - shown)
    assert set(EXIT_CODES) <= {e.command for e in RUN}, sorted(set(EXIT_CODES) - shown)


@pytest.mark.parametrize("command", sorted(NOT_RUN))
def test_an_example_not_run_is_still_a_command_that_exists(command: str) -> None:
    words = shlex.split(command)
    if words[0] == "make":
        makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
        assert re.search(rf"^{re.escape(words[1])}:", makefile, flags=re.MULTILINE), command
    else:
        assert isinstance(build_parser().parse_args(words[1:]), argparse.Namespace)


# --- Running them --------------------------------------------------------------------------------


def _variants(command: str) -> list[str]:
    """An example with optional parts (`[--pes 2]`) stands for itself without them and with all of
    them."""
    if "[" not in command:
        return [command]
    return [re.sub(r"\s*\[[^\]]*\]", "", command), re.sub(r"\[([^\]]*)\]", r"\1", command)]


def _runnable(words: list[str]) -> list[str]:
    """The example's arguments as the test runs them: placeholders filled in, the work made
    small (SMALLER), `explore` given a small --examples when it gives none, and `prove` without a
    name given QUICK_PROPERTY."""
    argv = [PLACEHOLDERS.get(w, w) for w in words[1:]]
    for option, most in SMALLER.items():
        if option in argv[:-1]:
            at = argv.index(option) + 1
            argv[at] = str(min(int(argv[at]), most))
    command = next(w for w in argv if not w.startswith("-"))
    if command == "explore" and "--examples" not in argv:
        argv += ["--examples", str(SMALLER["--examples"])]
    if command == "prove" and _names_nothing(argv):
        argv.append(QUICK_PROPERTY)
    return argv


def _redirected(words: list[str]) -> tuple[list[str], str | None]:
    """An example that ends `> FILE` (a report kept for a later example): its words without the
    redirection (so that `prove` with no name is still seen to name none), and the file."""
    if len(words) > 2 and words[-2] == ">":
        return words[:-2], words[-1]
    return words, None


def _names_nothing(argv: list[str]) -> bool:
    """Whether a `prove` command line names no property: every word after `prove` is an option
    or an option's value."""
    after = argv[argv.index("prove") + 1:]
    values = {i + 1 for i, w in enumerate(after) if w in ("--variant", "--timeout", "--jobs", "--junit")}
    return all(w.startswith("-") or i in values for i, w in enumerate(after))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose out/ holds Stage 2 vectors, as the first vectors example writes them,
    for the conform examples to read however the examples are shared out among processes; the
    vectors examples that run before them here add their own files."""
    directory = tmp_path_factory.mktemp("examples")
    code = main(["-q", "vectors", "stage2", "--seed", "7", "--random", "1", "--out", str(directory / "out")])
    assert code == ExitCode.OK
    return directory


def _claimed(line: str, printed: str) -> bool:
    """Whether `printed` holds a line the docs show, `...` in it standing for any text."""
    pattern = ".*".join(re.escape(part) for part in line.split("..."))
    return re.search(pattern, printed) is not None


@pytest.mark.parametrize("example", RUN, ids=str)
def test_example_runs_as_documented(example: Example, workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    if example.command.startswith("make "):
        pytest.fail(f"{example}: a make example must be run here or listed in NOT_RUN")
    monkeypatch.chdir(workspace)
    for variant in _variants(example.command):
        words, into = _redirected(shlex.split(variant))
        argv = _runnable(words)
        try:
            code = main(argv)
        except SystemExit as done:  # argparse's refusal of an option that does not exist
            code = done.code
        out, err = capsys.readouterr()
        if into is not None:  # as the shell would: the file is what was printed
            (workspace / into).write_text(out, encoding="utf-8")
        assert code == EXIT_CODES.get(example.command, ExitCode.OK), f"{argv}:\n{out}\n{err}"
        assert "Traceback" not in err
        for line in example.output:
            assert _claimed(line, out + err), f"{example.where} shows {line!r}; it printed:\n{out}{err}"


def test_the_python_api_example_runs() -> None:
    """The README's Python example, run as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The Python API", 1)[1]
    [block] = [b for b in _code_blocks(section) if any("Spec.load" in line for _, line in b)]
    namespace: dict[str, object] = {}
    exec("\n".join(line for _, line in block), namespace)
    assert {"spec", "state"} <= set(namespace)
