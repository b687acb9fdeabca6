"""Helpers for the language tests: write malformed chapters, load them, check diagnostics.

Every chapter `spec_file` writes has the same layout, so a definition's first code
line is always line 8 of the file:

    1  # Test chapter
    2
    3  ### `Name`
    4
    5  *Source:* a test.
    6
    7  ```spec
    8  <first line of code>
    ...
       ```

Further definitions follow the same pattern after a blank line. Tests find exact
positions with `position(path, needle)`, which insists that the needle is unique.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypspec.lang.diagnostics import Diagnostic, SpecError
from hypspec.lang.load import LoadedSpec, load

ROOT = Path(__file__).resolve().parents[2]
FIRST_CODE_LINE = 8  # the file line of a chapter's first code line (see above)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch directory that is also the working directory, so diagnostics name
    files relative to it (`bad.md`, not an absolute path)."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def chapter(*defs: tuple[str, str], title: str = "Test chapter") -> str:
    """Markdown for definitions given as (heading name, code): one heading, one
    `*Source:*` line and one ```spec block each."""
    out = [f"# {title}", ""]
    for name, code in defs:
        body = textwrap.dedent(code).strip("\n")
        out += [f"### `{name}`", "", "*Source:* a test.", "", "```spec", body, "```", ""]
    return "\n".join(out)


def spec_file(directory: Path, *defs: tuple[str, str], name: str = "bad.md") -> Path:
    """Write `chapter(*defs)` to `directory/name`."""
    path = directory / name
    path.write_text(chapter(*defs), encoding="utf-8")
    return path


def write(directory: Path, text: str, name: str = "bad.md") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def shown(path: Path) -> str:
    """A path as diagnostics name it: relative to the working directory when inside it."""
    return os.path.relpath(path.resolve(), Path.cwd()) if path.is_absolute() else str(path)


def position(path: Path, needle: str, nth: int = 0) -> tuple[int, int]:
    """(line, column), 1-based, of the `nth` occurrence of `needle` in the file; when
    nth is 0 the needle must occur exactly once."""
    hits = [
        (number, line.index(needle) + 1)
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1)
        if needle in line
    ]
    if nth == 0:
        assert len(hits) == 1, f"{needle!r} occurs on {len(hits)} lines of {path.name}"
        return hits[0]
    return hits[nth - 1]


def loads(*paths: Path) -> LoadedSpec:
    return load(list(paths))


def errors(*paths: Path) -> list[Diagnostic]:
    """The diagnostics of loading `paths`, which must fail."""
    with pytest.raises(SpecError) as caught:
        load(list(paths))
    return caught.value.diagnostics


def the_error(*paths: Path) -> Diagnostic:
    """The one diagnostic of loading `paths`."""
    found = errors(*paths)
    assert len(found) == 1, "expected one diagnostic, got:\n" + "\n".join(
        d.render() for d in found
    )
    return found[0]


def assert_diagnostic(
    diagnostic: Diagnostic,
    path: Path,
    at: str | tuple[int, int],
    *words: str,
    nth: int = 0,
    quoted: bool = True,
) -> None:
    """The diagnostic names `path`, sits at `at` (a needle for `position`, or an explicit
    (line, column)), its message contains every one of `words` (case-insensitive), and
    (if `quoted`) it quotes the source line it points at."""
    line, col = at if isinstance(at, tuple) else position(path, at, nth)
    where = (diagnostic.loc.file, diagnostic.loc.line, diagnostic.loc.col)
    assert where == (shown(path), line, col), diagnostic.render()
    message = diagnostic.message.lower()
    missing = [w for w in words if w.lower() not in message]
    assert not missing, f"{missing} not in message: {diagnostic.message!r}"
    if quoted:
        text = path.read_text(encoding="utf-8")
        assert diagnostic.source_line == text.split("\n")[line - 1]


def expect_error(
    directory: Path, defs: list[tuple[str, str]], at: str | tuple[int, int], *words: str,
    nth: int = 0,
) -> Diagnostic:
    """Write the definitions, load them, and assert the one diagnostic they produce."""
    path = spec_file(directory, *defs)
    diagnostic = the_error(path)
    assert_diagnostic(diagnostic, path, at, *words, nth=nth)
    return diagnostic
