"""Fuzzing the front end: whatever text `load()` is given, it either succeeds or raises a
SpecError whose every diagnostic has a file, a line and column inside that file, and a
message. Any other exception (an AssertionError, a RecursionError, a MemoryError, ...)
is a bug in hypspec/lang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from hypspec.lang.diagnostics import SpecError, split_lines
from hypspec.lang.literate import read_manifest
from hypspec.lang.load import display_name, load
from tests.lang.conftest import ROOT
from tests.strategies import gen_definition_chapter, mutated_chapter, random_chapter_bytes

# HYPSPEC_FUZZ_EXAMPLES=5000 for a deeper run than the suite's (150 each: about 20 s)
EXAMPLES = int(os.environ.get("HYPSPEC_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The real chapters, in reading order: the spec's, the KVM/ARM model's, then the proofs'.
CHAPTERS = [*read_manifest(ROOT / "spec").chapters, *read_manifest(ROOT / "models" / "kvm_arm").chapters,
            *read_manifest(ROOT / "proofs").chapters]
TEXTS = {path.name: path.read_text(encoding="utf-8") for path in CHAPTERS}
# The chapters declaring the names generated definitions use (tests.strategies.GEN_NAMES);
# loading these rather than the whole spec keeps an example to a few tens of ms.
GEN_BASE = [
    path for path in CHAPTERS
    if path.name in {"00-foundations.md", "01-hyp-configuration.md", "05-stage2-translation.md"}
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def load_or_diagnose(paths: list[Path]) -> None:
    """Load; a SpecError must carry well-formed diagnostics, anything else propagates."""
    try:
        load(paths)
    except SpecError as err:
        assert err.diagnostics, "a SpecError without diagnostics"
        shown = {display_name(p): p for p in paths}
        for diagnostic in err.diagnostics:
            loc, rendered = diagnostic.loc, diagnostic.render()
            assert loc.file in shown, rendered
            assert loc.line >= 1 and loc.col >= 1, rendered
            assert diagnostic.message.strip(), rendered
            if diagnostic.message.startswith("not UTF-8"):
                continue
            lines = split_lines(shown[loc.file].read_text(encoding="utf-8")) or [""]
            assert loc.line <= len(lines), f"line past the end of the file: {rendered}"
            assert loc.col <= len(lines[loc.line - 1]) + 1, f"column past the line: {rendered}"


def test_real_chapters_load() -> None:
    """The baseline the mutations start from is well-formed."""
    load(CHAPTERS)
    assert len(GEN_BASE) == 3


@FUZZ
@given(data=random_chapter_bytes())
def test_fuzz_random_text(scratch: Path, data: bytes) -> None:
    """(a) random text, token soup and bytes (not always UTF-8) as a chapter."""
    path = scratch / "random.md"
    path.write_bytes(data)
    load_or_diagnose([path])


@FUZZ
@given(mutation=mutated_chapter(TEXTS))
def test_fuzz_mutated_chapters(scratch: Path, mutation: tuple[str, str]) -> None:
    """(b) a real chapter, mutated: lines deleted, duplicated or swapped, characters or
    tokens inserted or replaced, indentation changed, truncated. It is loaded alone, so
    names from other chapters are unknown too: the checker sees those errors as well."""
    name, text = mutation
    path = scratch / name
    path.write_text(text, encoding="utf-8")
    load_or_diagnose([path])


@FUZZ
@given(text=gen_definition_chapter())
def test_fuzz_generated_definitions(scratch: Path, text: str) -> None:
    """(c) a generated function over the real chapters' names: it mostly parses, so it
    exercises the checker rather than the parser."""
    generated = scratch / "generated.md"
    generated.write_text(text, encoding="utf-8")
    load_or_diagnose([*GEN_BASE, generated])
