"""Every use of a definition inside the spec blocks, read from the syntax tree.

The checker has already decided what each name means: a `Call` names a function, a `Var` of
scope "global" or "const" a register, variable or constant, an `EnumLit` a member of an
enumeration, a `NamedSyntax` a type, and a constant folded into a literal still sits at its
name's location. The source text at a node's location supplies only how far the name runs
(`HCR.TWI` is one token), so nothing here guesses from the text what a word means.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass

from hypspec.lang import syntax as s
from hypspec.lang.checker import Program
from hypspec.lang.types import Bits, Layout
from hypspec.site.definitions import Definition

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
# the checker gives the second local of one name in a function a unique name, `x__1`
_RENAMED = re.compile(r"__\d+$")


@dataclass(frozen=True)
class Use:
    line: int  # 1-based, in the chapter
    col: int  # 1-based
    length: int  # characters of the source the link covers
    target: str  # the anchor it links to: a definition, or a field as `HCR.TWI`
    definition: str  # the definition it depends on (`HCR` for `HCR.TWI`)


def uses_of(program: Program, definition: Definition, lines: list[str]) -> list[Use]:
    """The uses in one definition's block, at most one per position, in reading order."""
    found: dict[tuple[int, int], Use] = {}
    for node in nodes(definition.decl):
        for use in _resolve(program, definition, node, lines):
            if use.definition not in program.order or use.target == definition.name:
                continue  # a built-in (no heading to link), or the name being declared
            known = found.get((use.line, use.col))
            if known is None or use.length > known.length:
                found[(use.line, use.col)] = use
    return sorted(found.values(), key=lambda u: (u.line, u.col))


def nodes(node: object) -> Iterator[object]:
    """Every syntax node under `node`, itself included."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from nodes(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, (s.Loc, type)):
        yield node
        for f in dataclasses.fields(node):
            if f.name not in ("ty", "result_ty", "key_ty", "loc"):
                yield from nodes(getattr(node, f.name))


def _token(lines: list[str], loc: s.Loc) -> str:
    line = lines[loc.line - 1] if 0 < loc.line <= len(lines) else ""
    match = _TOKEN.match(line, loc.col - 1)
    return match.group(0) if match else ""


def _resolve(program: Program, where: Definition, node: object, lines: list[str]) -> list[Use]:
    loc = getattr(node, "loc", None)
    if not isinstance(loc, s.Loc) or loc.file != where.page.display:
        return []
    token = _token(lines, loc)
    if isinstance(node, s.Var) and node.scope == "local":
        return _local_field(program, where.name, node.name, loc, token)
    name = _named(program, node, token)
    if name is None or not token.startswith(name):
        return []
    if name in program.enum_values:
        enum = program.enum_values[name][0].name
        return [Use(loc.line, loc.col, len(name), enum, enum)]
    return [_global_use(program, loc, token, name)]


def _named(program: Program, node: object, token: str) -> str | None:
    """The global name a node refers to, as it starts its token; None for anything else."""
    match node:
        case s.Call(func=func):
            return func
        case s.Var(name=name, scope="global" | "const"):
            return name
        case s.EnumLit(member=member):
            return member
        case s.NamedSyntax(name=name):
            return name
        case s.IntLit() | s.BitsLit() | s.BoolLit() if token in program.constants:
            return token  # a constant the checker folded into its value
        case s.Name(name=name):
            return _global_root(program, name)
    return None


def _global_root(program: Program, name: str) -> str | None:
    """The longest prefix of a dotted name that names a global, a constant or a member (how the
    checker splits one), in a declaration the checker keeps no resolved tree of."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in program.globals or prefix in program.constants or prefix in program.enum_values:
            return prefix
    return None


def _global_use(program: Program, loc: s.Loc, token: str, name: str) -> Use:
    """A global name, or a field of it (`HCR.TWI`: the row of HCR's bit-field table)."""
    rest = token[len(name) :]
    field = rest[1:].split(".")[0] if rest.startswith(".") else ""
    layout = _layout(program, name)
    if layout is not None and field and layout.get(field):
        return Use(loc.line, loc.col, len(name) + 1 + len(field), f"{layout.name}.{field}", name)
    return Use(loc.line, loc.col, len(name), name, name)


def _local_field(program: Program, function: str, local: str, loc: s.Loc, token: str) -> list[Use]:
    """`desc.Valid`, where `desc` is a local of a bitfield type: `Valid` links to the field's row
    in `S2Descriptor`'s table; the local itself links nowhere."""
    ty = program.locals.get(function, {}).get(local)
    root = _RENAMED.sub("", local)
    if not isinstance(ty, Bits) or ty.layout is None or not token.startswith(root + "."):
        return []
    field = token[len(root) + 1 :].split(".")[0]
    if ty.layout.get(field) is None:
        return []
    owner = ty.layout.name
    return [Use(loc.line, loc.col + len(root) + 1, len(field), f"{owner}.{field}", owner)]


def _layout(program: Program, name: str) -> Layout | None:
    """The fields a global's value has: a register's own, or its bitfield type's."""
    info = program.globals.get(name)
    return info.ty.layout if info is not None and isinstance(info.ty, Bits) else None
