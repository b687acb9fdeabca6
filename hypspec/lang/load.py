"""Load spec trees (directories with a manifest, or single chapters) into a Program."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hypspec import cache
from hypspec.lang import syntax as s
from hypspec.lang.diagnostics import Diagnostic, Reporter, SourceMap, SpecError
from hypspec.lang.literate import CodeBlock, extract_blocks, heading_names, read_manifest

if TYPE_CHECKING:
    from hypspec.lang.checker import Program

# The parser (and the grammar it builds) and the checker are imported when a spec is parsed,
# not when one comes from the cache: that is most of a short command's start-up.


@dataclass(frozen=True)
class LoadedSpec:
    program: Program
    sources: SourceMap
    files: list[Path]
    digest: str  # sha256 of the chapters' text, in order: the spec hash
    # what the work depends on: the engine, the text and the names its locations print
    # (`hypspec.cache`); work derived from the load (its compiled code) is cached under it
    cache_key: str


def chapter_files(paths: list[Path]) -> list[Path]:
    """Expand directories through their manifest; keep files as given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(read_manifest(path).chapters)
        elif path.is_file():
            files.append(path)
        else:
            raise SpecError([Diagnostic(s.Loc(str(path), 1, 1), "no such file or directory")])
    return files


def display_name(path: Path) -> str:
    """A path as diagnostics print it: relative to the working directory if inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load(paths: list[Path]) -> LoadedSpec:
    """Parse and check every chapter; raise SpecError listing every problem. A spec loaded before
    from the same text, shown by the same names, by the same engine, comes from the on-disk cache
    (`hypspec.cache`); a spec with errors is never stored, so its errors are always reported."""
    files = chapter_files(paths)
    chapters = [(path, display_name(path), _read(path)) for path in files]
    digest = _digest((path, text) for path, _, text in chapters)
    entry = cache.key("spec", digest, *(f"{path}\0{name}" for path, name, _ in chapters))
    loaded = _cached(entry)
    if loaded is None:
        loaded = _parse_and_check(chapters, files, digest, entry)
        cache.write(entry, pickle.dumps(loaded, pickle.HIGHEST_PROTOCOL))
    return loaded


def text_hash(paths: list[Path]) -> str:
    """The hash of the chapters `paths` name, from their text alone (nothing is parsed): what
    `LoadedSpec.digest` is once they load."""
    return _digest((path, _read(path)) for path in chapter_files(paths))


def _digest(chapters: Iterable[tuple[Path, str]]) -> str:
    """SHA-256 over each chapter's file name and text, in order."""
    digest = hashlib.sha256()
    for path, text in chapters:
        digest.update(path.name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        before = bytes(err.object[: err.start])  # the text up to the first bad byte
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1  # valid so far
        loc = s.Loc(display_name(path), line, col)
        message = f"not UTF-8 text: byte 0x{err.object[err.start]:02x}: {err.reason}"
        raise SpecError([Diagnostic(loc, message)]) from err


def _cached(entry: str) -> LoadedSpec | None:
    """The cached load, if there is a readable one of this spec."""
    data = cache.read(entry)
    if data is None:
        return None
    try:
        loaded = pickle.loads(data)
    except Exception:  # any damage to an entry (truncated, from another Python) is a miss
        return None
    return loaded if isinstance(loaded, LoadedSpec) and loaded.cache_key == entry else None


def _parse_and_check(chapters: list[tuple[Path, str, str]], files: list[Path], digest: str,
                     entry: str) -> LoadedSpec:
    from hypspec.lang.checker import Checker

    sources = SourceMap()
    reporter = Reporter(sources)
    decls: list[s.Decl] = []
    for _, name, text in chapters:
        sources.add(name, text)
        for block in extract_blocks(name, text):
            decls.extend(_block_decls(block, reporter))
    program = Checker(reporter).check(decls)
    reporter.raise_if_any()
    return LoadedSpec(program, sources, files, digest, entry)


def _block_decls(block: CodeBlock, reporter: Reporter) -> list[s.Decl]:
    """Parse a block and hold it to the one-definition-per-heading rule."""
    from hypspec.lang.parser import parse_block

    decls = parse_block(block.code, block.file, block.first_line - 1, reporter)
    where = s.Loc(block.file, block.first_line, 1)
    if not decls:
        if block.code.strip() and not any(d.loc.file == block.file for d in reporter.diagnostics):
            reporter.error(where, "a spec block must hold one definition")
        return decls
    if len(decls) > 1:
        reporter.error(decls[1].loc, "a spec block holds one definition; start a new heading")
    decl = decls[0]
    if block.heading is None or decl.name not in heading_names(block.heading):
        reporter.error(
            decl.loc,
            f"definition '{decl.name}' must sit under a heading naming it as `{decl.name}`",
        )
    elif not block.cited:
        assert block.heading_loc is not None
        reporter.error(
            block.heading_loc,
            f"heading for '{decl.name}' needs a '*Source:*' line citing the ARM ARM or the paper",
        )
    return decls
