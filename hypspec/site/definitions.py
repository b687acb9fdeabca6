"""Where each definition lives: its page, its heading's anchor and the lines of its block."""

from __future__ import annotations

from dataclasses import dataclass

from hypspec.lang import syntax as s
from hypspec.lang.checker import Program
from hypspec.lang.diagnostics import Reporter, SourceMap
from hypspec.lang.literate import CodeBlock, extract_blocks, heading_names
from hypspec.lang.parser import parse_block
from hypspec.lang.types import Bits, Layout
from hypspec.site.sources import Page


class SiteError(Exception):
    """The site cannot be generated from this tree; the message says what to change."""


@dataclass(frozen=True, eq=False)
class Definition:
    name: str
    kind: str  # "function", "register", "property", ... as the site labels it
    page: Page
    heading_line: int  # 1-based, in the chapter
    first_line: int  # the block's first and last code lines, 1-based, in the chapter
    last_line: int
    # its syntax: a function's checked tree, whose names are resolved; for the rest (types,
    # registers, constants) the parsed tree, since the checked program keeps only their meaning
    decl: s.Decl

    @property
    def anchor(self) -> str:
        return anchor(self.name)


def anchor(name: str) -> str:
    """The id of a definition's heading (or of a field's row: `HCR.TWI`). Names are unique and
    made of letters, digits, `_` and `.`, so the name itself is a stable, unique, valid id; the
    automatic ids of other headings are lower-case slugs with `-`, which never equal one."""
    return name


def find_definitions(program: Program, pages: list[Page]) -> dict[str, Definition]:
    """Every declaration of the checked program, found at the block the loader took it from."""
    found: dict[str, Definition] = {}
    for page in pages:
        for block in extract_blocks(page.display, page.text) if page.chapter else []:
            decl = _declaration(program, block)
            if decl is None or block.heading_loc is None:
                continue  # the checker accepted the tree, so this block declares nothing
            last = block.first_line + block.code.count("\n")
            found[decl.name] = Definition(decl.name, kind(program, decl.name), page,
                                          block.heading_loc.line, block.first_line, last, decl)
    return found


def _declaration(program: Program, block: CodeBlock) -> s.Decl | None:
    """The declaration a block holds. A heading may name several definitions, each in a block
    of its own; a function is told by its location, anything else by parsing the block."""
    last = block.first_line + block.code.count("\n")
    for name in heading_names(block.heading or ""):
        func = program.functions.get(name)
        if func is not None and func.loc.file == block.file and block.first_line <= func.loc.line <= last:
            return func
    reporter = Reporter(SourceMap())
    decls = parse_block(block.code, block.file, block.first_line - 1, reporter)
    if reporter.diagnostics or not decls:
        return None
    return decls[0] if decls[0].name in program.order else None


def kind(program: Program, name: str) -> str:
    if name in program.functions:
        func = program.functions[name]
        if func.is_property:
            return "property"
        return func.role or ("procedure" if func.result is None else "function")
    if name in program.globals:
        return "register" if program.globals[name].is_register else "variable"
    if name in program.constants:
        return "constant"
    if name in program.enums:
        return "enumeration"
    if name in program.records:
        return "record"
    return "bitfield type"


def layout_of(program: Program, name: str) -> Layout | None:
    """The field layout a register or a bitfield type declares, if it has one."""
    if name in program.layouts:
        return program.layouts[name]
    info = program.globals.get(name)
    if info is not None and info.is_register and isinstance(info.ty, Bits):
        return info.ty.layout
    return None


def field_anchors(program: Program, definitions: dict[str, Definition]) -> dict[str, Definition]:
    """`HCR.TWI` → the definition whose bit-field table has that row."""
    fields: dict[str, Definition] = {}
    for name, definition in definitions.items():
        layout = layout_of(program, name)
        for field_name, _, _ in layout.fields if layout else ():
            full = f"{name}.{field_name}"
            if full in definitions:
                raise SiteError(f"{full} names both a definition and a field of {name}, so the site "
                                f"cannot give each its own anchor; rename one of them")
            fields[full] = definition
    return fields
