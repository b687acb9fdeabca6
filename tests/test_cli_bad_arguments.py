"""Every subcommand, driven with generated bad arguments, fails as `hypspec.exitcodes` says.

Each example runs `hypspec.cli.main` in a fresh working directory that holds a few files for the
arguments to name (a regular file where a directory belongs, a junk chapter, a junk vector file,
an empty directory, a model directory with a junk manifest), and accepts only: an exit code from
the table, no Python traceback, a message on stderr when the code is not 0, and, after a failed
run, the directory exactly as it was. Every argument list holds at least one thing that is wrong
and that the command can tell before real work starts (a proof, a QEMU run, a search for
vectors), so that an example costs milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypspec.api import MODEL_DIR, SPEC_DIR, Spec, proof_tree
from hypspec.categories.registry import CATEGORIES
from hypspec.cli import build_parser, main
from hypspec.commands import LISTS
from hypspec.exitcodes import ExitCode
from hypspec.lang.load import chapter_files
from hypspec.proof.mutants import read_variants
from hypspec.proof.report import proof_names
from tests.strategies import (
    argument_text,
    bad_count,
    bad_timeout,
    integer_outside,
    misspelled,
    not_an_integer,
    random_spec_text,
    unknown_flag,
)

# The files each example's working directory starts with.
A_FILE = "afile"  # a regular file, where a directory or a vector file belongs
JUNK_CHAPTER = "junk.md"
JUNK_VECTORS = "junk.jsonl"
EMPTY_DIR = "emptydir"
JUNK_MODEL = "junkmodel"  # a directory with a manifest.toml that is not a model's

ARCHITECTURE = Spec.load(SPEC_DIR).program
PROOF_TREE = Spec.load(*proof_tree())
FUNCTIONS = sorted(ARCHITECTURE.functions)
GLOBALS = sorted(ARCHITECTURE.globals)
REGISTERS = sorted(n for n, g in ARCHITECTURE.globals.items() if g.is_register)
CPSR_FIELDS = ["M", "T", "F", "I", "A", "E", "IT72", "GE", "J", "IT10", "Q", "V", "C", "Z", "N"]
ACCESS_TYPES = ARCHITECTURE.enums["AccType"].members
PROPERTIES = proof_names(PROOF_TREE)
VARIANTS = sorted({v.name for v in read_variants()})
COMMANDS = ["check", "run", "prove", "explore", "table1", "vectors", "conform", "list", "docs"]

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.fixture(scope="module", autouse=True)
def _load_each_tree_once() -> Iterator[None]:
    """Spec.load, remembered by the paths and the content of every chapter they name: an example
    that names the spec loads the same text as the one before it, and loading (a second) would
    be nearly all the time the module takes. What a command does with the Spec is unchanged."""
    original = Spec.load.__func__  # type: ignore[attr-defined]
    loaded: dict[tuple[tuple[str, str], ...], Spec] = {}

    def load(cls: type[Spec], *paths: Path | str) -> Spec:
        try:
            files = chapter_files([Path(p) for p in paths] or [SPEC_DIR])
            key = tuple((str(f.resolve()), hashlib.sha256(f.read_bytes()).hexdigest()) for f in files)
        except Exception:  # a path the loader itself refuses: let it say so
            return original(cls, *paths)
        if key not in loaded:
            loaded[key] = original(cls, *paths)
        return loaded[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Spec, "load", classmethod(load))
        yield


class RealWorkStarted(AssertionError):
    """A command accepted its arguments and began the real work, which none of these may reach."""


def _refuse(what: str) -> Callable[..., None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RealWorkStarted(f"{what} started: an argument list meant to be refused was accepted")

    return refuse


@pytest.fixture(scope="module", autouse=True)
def _no_real_work() -> Iterator[None]:
    """Every argument list here has something wrong with it. Should a command accept one anyway
    (as `prove --variant ""` once did, and proved everything), the example fails at once, naming
    what started, instead of running proofs, QEMU or a vector search for minutes."""
    import hypspec.conformance.conform as conform_module
    import hypspec.model.explore as explorer
    import hypspec.model.induction as induction
    import hypspec.model.noninterference as noninterference
    import hypspec.proof.report as report
    import hypspec.site.build as site
    import hypspec.vectors.generate as generate

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "prove", _refuse("a proof"))
        patch.setattr(report, "check_mutant", _refuse("a mutant check"))
        patch.setattr(induction, "prove_model", _refuse("the model's proof"))
        patch.setattr(induction, "prove_invariant", _refuse("an invariant's proof"))
        patch.setattr(noninterference, "prove_observation", _refuse("an observation's proof"))
        patch.setattr(explorer, "explore", _refuse("an exploration"))
        patch.setattr(conform_module, "find_toolchain", _refuse("a conformance run"))
        patch.setattr(generate, "generator", lambda category: _refuse(f"the search for {category} vectors"))
        patch.setattr(site, "build", _refuse("a site build"))
        patch.setattr(site, "serve", _refuse("a site server"))
        yield


# --- What a run may do --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: object
    out: str
    err: str
    before: dict[str, str]
    after: dict[str, str]


def _snapshot(root: Path) -> dict[str, str]:
    """Every file and directory under `root`, with a digest of each file's content."""
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(directory, name), root)] = "dir"
        for name in files:
            path = os.path.join(directory, name)
            found[os.path.relpath(path, root)] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return found


def _make_files(root: Path, junk: tuple[str, str, str]) -> None:
    chapter, vectors, manifest = junk
    (root / A_FILE).write_text("not a chapter, a vector file or a directory\n", encoding="utf-8")
    (root / JUNK_CHAPTER).write_text(chapter, encoding="utf-8", errors="surrogateescape")
    (root / JUNK_VECTORS).write_text(vectors, encoding="utf-8", errors="surrogateescape")
    (root / EMPTY_DIR).mkdir()
    (root / JUNK_MODEL).mkdir()
    (root / JUNK_MODEL / "manifest.toml").write_text(manifest, encoding="utf-8", errors="surrogateescape")


def run_in_scratch(argv: list[str], junk: tuple[str, str, str]) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="hypspec-bad-args-") as tmp, contextlib.chdir(tmp):
        root = Path(tmp)
        _make_files(root, junk)
        before = _snapshot(root)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code: object = main(argv)
            except SystemExit as exit_:  # argparse's way out of a usage error (or of --help)
                code = exit_.code
        return Outcome(code, out.getvalue(), err.getvalue(), before, _snapshot(root))


def assert_fails_cleanly(argv: list[str], outcome: Outcome) -> None:
    assert outcome.code in set(ExitCode), (argv, outcome.code, outcome.err)
    assert "Traceback (most recent call last)" not in outcome.err, (argv, outcome.err)
    if outcome.code != ExitCode.OK:
        assert outcome.err.strip(), (argv, "a failure must say why on stderr")
        assert outcome.after == outcome.before, (argv, "a failed run left files behind")


# --- Bad arguments, by subcommand ---------------------------------------------------------------


def missing_path() -> st.SearchStrategy[str]:
    return argument_text().map(lambda text: "missing-" + text)


def not_in(names: list[str], strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    known = set(names)
    return strategy.filter(lambda name: name not in known)


#: Names that are easy to mistake for none, or for all.
EDGE_NAMES = ("", " ", ".", "*", "all", "none", "None")


def unknown_name(names: list[str]) -> st.SearchStrategy[str]:
    """A name that is not among `names`: one of EDGE_NAMES, a typo of one of them, or any text."""
    typo = st.composite(lambda draw: misspelled(draw, names))()
    return not_in(names, st.one_of(st.sampled_from(EDGE_NAMES), typo, argument_text()))


def option(flag: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return values.map(lambda value: [flag, value])


def flag_alone(flag: str) -> st.SearchStrategy[list[str]]:
    return st.just([flag])


@st.composite
def command_line(draw: st.DrawFn, command: str, bad: list[st.SearchStrategy[list[str]]],
                 fine: list[st.SearchStrategy[list[str]]], positional: list[str] | None = None) -> list[str]:
    """`command`, at least one of the `bad` argument groups and any of the `fine` ones, in any
    order (after the `positional` arguments, which come first)."""
    groups = draw(st.lists(st.one_of(bad), min_size=1, max_size=3))
    groups += draw(st.lists(st.one_of(fine), max_size=2)) if fine else []
    groups = draw(st.permutations(groups))
    return [command, *(positional or []), *(word for group in groups for word in group)]


def check_arguments() -> st.SearchStrategy[list[str]]:
    # the files of the working directory are no spec: a junk chapter, a directory without a
    # manifest, a model directory whose manifest is junk (exit 1); a missing path or an unknown
    # option is a usage error (exit 2)
    files = st.sampled_from([[JUNK_CHAPTER], [EMPTY_DIR], [JUNK_MODEL]])
    usage = [missing_path().map(lambda p: [p]), unknown_flag().map(lambda f: [f])]
    return st.one_of(command_line("check", [files], [files]), command_line("check", usage, [files]))


def no_equals() -> st.SearchStrategy[str]:
    return argument_text().filter(lambda text: "=" not in text)


def bad_set() -> st.SearchStrategy[str]:
    """A `--set` that names no register or field, or a value the register cannot hold."""
    return st.one_of(
        unknown_name(GLOBALS).filter(lambda n: "=" not in n and "." not in n).map(lambda n: f"{n}=1"),
        unknown_name(CPSR_FIELDS).filter(lambda n: "=" not in n).map(lambda n: f"CPSR.{n}=1"),
        st.tuples(st.sampled_from(REGISTERS), not_an_integer()).map(lambda rv: f"{rv[0]}={rv[1]}"),
        integer_outside(0, 31).map(lambda value: f"CPSR.M={value}"),
        no_equals(),
    )


def bad_mem() -> st.SearchStrategy[str]:
    """A `--mem` whose address is not a number, not a word's or beyond memory, or whose word is
    not a number or wider than 64 bits."""
    unaligned = st.tuples(st.integers(0, 2**30), st.integers(1, 7)).map(lambda w: 8 * w[0] + w[1])
    beyond = st.integers(2**37, 2**60).map(lambda word: 8 * word)
    return st.one_of(
        not_an_integer().filter(lambda a: "=" not in a).map(lambda address: f"{address}=1"),
        st.one_of(unaligned, beyond).map(lambda address: f"{address:#x}=1"),
        st.one_of(not_an_integer(), integer_outside(0, 2**64 - 1)).map(lambda word: f"0x48000000={word}"),
        no_equals(),
    )


def positional(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """An argument that argparse cannot mistake for an option."""
    return text.filter(lambda a: not a.startswith("-"))


@st.composite
def bad_call(draw: st.DrawFn) -> list[str]:
    """A function and arguments it cannot be called with: an unknown function, the wrong number of
    arguments, a value of the wrong type or width, or inputs that break the spec's own assert."""
    kind = draw(st.sampled_from(["function", "count", "ipa", "acctype", "iswrite", "assert"]))
    words = positional(argument_text())
    if kind == "function":
        return [draw(positional(unknown_name(FUNCTIONS))), *draw(st.lists(words, max_size=3))]
    if kind == "count":
        return ["CurrentPL", *draw(st.lists(words, min_size=1, max_size=3))]
    if kind == "assert":
        return ["Rmode", "15", "0x10"]  # Rmode asserts its register number is at most 14
    ipa, acctype, iswrite = "0x1000", "AccType_NORMAL", "TRUE"
    if kind == "ipa":
        ipa = draw(st.one_of(integer_outside(0, 2**40 - 1), positional(not_an_integer())))
    elif kind == "acctype":
        acctype = draw(positional(unknown_name(list(ACCESS_TYPES))))
    else:
        iswrite = draw(positional(argument_text()).filter(lambda a: a.lower() not in {"true", "false"}))
    return ["AArch32.SecondStageTranslate", ipa, acctype, iswrite]


def run_arguments() -> st.SearchStrategy[list[str]]:
    bad = [option("--set", bad_set()), option("--mem", bad_mem()), option("--spec", missing_path()),
           unknown_flag().map(lambda f: [f])]
    fine = [flag_alone("--json"), option("--set", st.just("VTCR.SL0=1")), option("--mem", st.just("0x8=1"))]
    good_call = st.sampled_from([["CurrentPL"],
                                 ["AArch32.SecondStageTranslate", "0x1000", "AccType_NORMAL", "TRUE"]])
    # a call that cannot be made, with options that may be fine; or options that are wrong
    return st.one_of(
        bad_call().flatmap(lambda call: command_line("run", [st.just([])], fine, positional=call)),
        st.one_of(good_call, bad_call()).flatmap(
            lambda call: command_line("run", bad, fine, positional=call)),
    )


def prove_arguments() -> st.SearchStrategy[list[str]]:
    bad = [option("--timeout", bad_timeout()), option("--jobs", bad_count(1, 256)),
           option("--variant", unknown_name(VARIANTS)),
           unknown_name(PROPERTIES).filter(lambda n: not n.startswith("-")).map(lambda n: [n]),
           unknown_flag().map(lambda f: [f])]
    fine = [flag_alone("--json"), flag_alone("--mutants"), st.sampled_from(PROPERTIES).map(lambda n: [n])]
    return command_line("prove", bad, fine)


def model_directory() -> st.SearchStrategy[str]:
    return st.one_of(missing_path(), st.sampled_from([A_FILE, EMPTY_DIR, JUNK_MODEL]))


def explore_arguments() -> st.SearchStrategy[list[str]]:
    bad = [option("--steps", bad_count(1)), option("--examples", bad_count(1)),
           option("--seed", bad_count(0)), option("--pes", bad_count(1, 8)),
           option("--model", model_directory()), unknown_flag().map(lambda f: [f])]
    fine = [flag_alone("--json"), option("--seed", st.just("3"))]
    return command_line("explore", bad, fine)


def table1_arguments() -> st.SearchStrategy[list[str]]:
    bad = [option("--variant", unknown_name(VARIANTS)), option("--model", model_directory()),
           st.just(["--model", str(MODEL_DIR), "--variant", "linux-3.10"]),  # one or the other
           unknown_flag().map(lambda f: [f]), argument_text().map(lambda a: [a])]
    return command_line("table1", bad, [flag_alone("--json")])


def vectors_arguments() -> st.SearchStrategy[list[str]]:
    out = st.sampled_from([A_FILE, f"{A_FILE}/out", f"{A_FILE}/a/b", ""])
    bad = [option("--seed", not_an_integer()), option("--random", bad_count(0)), option("--out", out),
           unknown_flag().map(lambda f: [f])]
    fine = [flag_alone("--json"), option("--out", st.just("new-out")), option("--seed", st.just("-3"))]
    unknown = positional(unknown_name(sorted(CATEGORIES))).map(lambda c: [c])
    category = st.sampled_from(sorted(CATEGORIES))
    # the third: everything right but where the vectors would go, which the command finds out
    # itself (argparse cannot), before the search
    return st.one_of(
        category.flatmap(lambda chosen: command_line("vectors", bad, fine, positional=[chosen])),
        command_line("vectors", [unknown], fine),
        category.flatmap(lambda chosen: command_line("vectors", [option("--out", out)], fine[::2],
                                                     positional=[chosen])),
    )


def conform_arguments() -> st.SearchStrategy[list[str]]:
    # every vector path given is wrong, so nothing reaches QEMU; the options may be wrong too
    paths = st.lists(st.one_of(missing_path(), st.sampled_from([A_FILE, JUNK_VECTORS, EMPTY_DIR])),
                     min_size=1, max_size=3)
    bad = [option("--jobs", bad_count(1, 256)), option("--batch", bad_count(1)),
           option("--deviations", st.one_of(missing_path(), st.sampled_from([A_FILE, JUNK_VECTORS]))),
           unknown_flag().map(lambda f: [f])]
    fine = [flag_alone("--json"), option("--emit-elf", st.sampled_from(["images", f"{A_FILE}/images"]))]
    return st.one_of(
        paths.flatmap(lambda chosen: command_line("conform", [st.just([])], bad + fine, positional=chosen)),
        command_line("conform", bad, fine, positional=[JUNK_VECTORS]),
    )


def list_arguments() -> st.SearchStrategy[list[str]]:
    unknown = positional(unknown_name(list(LISTS))).map(lambda w: [w])
    extra = [unknown_flag().map(lambda f: [f]), positional(argument_text()).map(lambda a: [a])]
    return st.one_of(
        command_line("list", [unknown], []),
        st.sampled_from(LISTS).flatmap(lambda what: command_line("list", extra, [], positional=[what])),
    )


def docs_arguments() -> st.SearchStrategy[list[str]]:
    # nowhere to write the site, or no tree to build it from: refused before the tree is checked
    out = st.sampled_from([A_FILE, f"{A_FILE}/site", ""])
    root = st.one_of(missing_path(), st.sampled_from([A_FILE, EMPTY_DIR, ""]))
    bad = [option("--out", out), option("--root", root), unknown_flag().map(lambda f: [f]),
           argument_text().map(lambda a: [a])]
    return command_line("docs", bad, [flag_alone("--serve")])


ARGUMENTS: dict[str, Callable[[], st.SearchStrategy[list[str]]]] = {
    "check": check_arguments,
    "run": run_arguments,
    "prove": prove_arguments,
    "explore": explore_arguments,
    "table1": table1_arguments,
    "vectors": vectors_arguments,
    "conform": conform_arguments,
    "list": list_arguments,
    "docs": docs_arguments,
}

#: What the junk chapter, the junk vector file and the junk model's manifest hold.
JUNK = st.tuples(
    random_spec_text(),
    st.one_of(st.text(max_size=80),
              st.sampled_from(['{"meta": {}}\n', '{"meta": {"format": "hypspec-vectors/1"}}\n{}\n'])),
    st.one_of(st.text(max_size=40),
              st.sampled_from(['chapters = ["nope.md"]\n', "chapters = 3\n", "[[x]\n"])),
)


def test_every_subcommand_is_driven() -> None:
    """The table below covers every subcommand the parser has, so a new one gets bad arguments too."""
    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subcommands.choices) == set(ARGUMENTS) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
@SETTINGS
@given(data=st.data())
def test_bad_arguments_fail_cleanly(command: str, data: st.DataObject) -> None:
    argv = data.draw(ARGUMENTS[command](), label="argv")
    outcome = run_in_scratch(argv, data.draw(JUNK, label="files"))
    assert_fails_cleanly(argv, outcome)


@SETTINGS
@given(argv=st.one_of(st.lists(unknown_flag(), max_size=2), unknown_name(COMMANDS).map(lambda c: [c]),
                      st.lists(argument_text(), max_size=3)),
       junk=JUNK)
def test_bad_arguments_before_the_subcommand_fail_cleanly(argv: list[str],
                                                          junk: tuple[str, str, str]) -> None:
    assert_fails_cleanly(argv, run_in_scratch(argv, junk))
