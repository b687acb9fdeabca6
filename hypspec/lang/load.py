"""Load spec trees (directories with a manifest, or single chapters) into a Program."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from hypspec.lang import syntax as s
from hypspec.lang.checker import Checker, Program
from hypspec.lang.diagnostics import Diagnostic, Reporter, SourceMap, SpecError
from hypspec.lang.literate import CodeBlock, extract_blocks, heading_names, read_manifest
from hypspec.lang.parser import parse_block


@dataclass(frozen=True)
class LoadedSpec:
    program: Program
    sources: SourceMap
    files: list[Path]
    digest: str  # sha256 of the chapters' text, in order: the spec hash


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
    """Parse and check every chapter; raise SpecError listing every problem."""
    files = chapter_files(paths)
    sources = SourceMap()
    reporter = Reporter(sources)
    decls: list[s.Decl] = []
    digest = hashlib.sha256()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            before = bytes(err.object[: err.start])  # the text up to the first bad byte
            line = before.count(b"\n") + 1
            col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1  # valid so far
            loc = s.Loc(display_name(path), line, col)
            message = f"not UTF-8 text: byte 0x{err.object[err.start]:02x}: {err.reason}"
            raise SpecError([Diagnostic(loc, message)]) from err
        name = display_name(path)
        sources.add(name, text)
        digest.update(path.name.encode() + b"\0" + text.encode() + b"\0")
        for block in extract_blocks(name, text):
            decls.extend(_block_decls(block, reporter))
    program = Checker(reporter).check(decls)
    reporter.raise_if_any()
    return LoadedSpec(program, sources, files, digest.hexdigest())


def _block_decls(block: CodeBlock, reporter: Reporter) -> list[s.Decl]:
    """Parse a block and hold it to the one-definition-per-heading rule."""
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
