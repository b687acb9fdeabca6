"""The syntax tree of the specification language.

The parser builds these nodes; the checker returns a new tree of the same
classes with every expression's `ty` filled in and every dotted name resolved
into a root variable and field selections. Both semantics walk the checked
tree only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypspec.lang.types import Type


@dataclass(frozen=True)
class Loc:
    """A position in a source file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @property
    def key(self) -> str:
        """A stable name for this position: the chapter's file name, line and column.

        The oracle keys UNKNOWN values on it and path coverage keys decisions on it;
        unlike the path as printed, it does not depend on the working directory,
        so a seed gives the same values and the same path names from anywhere."""
        return f"{self.file.rsplit('/', 1)[-1]}:{self.line}:{self.col}"


# ---- type syntax ----------------------------------------------------------------


@dataclass
class TypeSyntax:
    loc: Loc


@dataclass
class BitsSyntax(TypeSyntax):
    width: Expr


@dataclass
class BoolSyntax(TypeSyntax):
    pass


@dataclass
class IntSyntax(TypeSyntax):
    pass


@dataclass
class NamedSyntax(TypeSyntax):
    name: str


@dataclass
class ArraySyntax(TypeSyntax):
    length: Expr
    elem: TypeSyntax


@dataclass
class MapSyntax(TypeSyntax):
    key: BitsSyntax
    elem: TypeSyntax


# ---- expressions ----------------------------------------------------------------


@dataclass
class Expr:
    loc: Loc
    ty: Type | None = field(default=None, init=False, compare=False)


@dataclass
class Name(Expr):
    """An unresolved (possibly dotted) name, as written."""

    name: str


@dataclass
class Var(Expr):
    """A resolved variable: a local, a parameter, a global or a constant."""

    name: str
    scope: str  # "local", "global" or "const"


@dataclass
class EnumLit(Expr):
    member: str
    value: int


@dataclass
class IntLit(Expr):
    value: int


@dataclass
class BitsLit(Expr):
    """A bit string. `care` has a 1 for every bit that is not an `x`."""

    value: int
    width: int
    care: int


@dataclass
class BoolLit(Expr):
    value: bool


@dataclass
class Unknown(Expr):
    """`bits(N) UNKNOWN`: a value chosen by the oracle."""

    type_syntax: TypeSyntax


@dataclass
class Call(Expr):
    func: str
    args: list[Expr]


@dataclass
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class UnOp(Expr):
    op: str  # "-", "NOT", "!"
    operand: Expr


@dataclass
class SliceItem:
    """`<hi:lo>`, `<bit>` or `<lo+:width>`; after checking `lo` may be dynamic."""

    kind: str  # "bit", "range" or "width"
    first: Expr
    second: Expr | None
    width: int = 0  # filled in by the checker
    static_lo: int | None = None  # filled in by the checker when `lo` is constant


@dataclass
class Slice(Expr):
    base: Expr
    items: list[SliceItem]


@dataclass
class Index(Expr):
    base: Expr
    index: Expr


@dataclass
class Field(Expr):
    base: Expr
    name: str


@dataclass
class InSet(Expr):
    subject: Expr
    patterns: list[Expr]


@dataclass
class CondExpr(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass
class Param:
    loc: Loc
    type_syntax: TypeSyntax
    name: str
    ty: Type | None = field(default=None, compare=False)


@dataclass
class Forall(Expr):
    params: list[Param]
    body: Expr


# ---- statements -----------------------------------------------------------------


@dataclass
class Stmt:
    loc: Loc


@dataclass
class Assign(Stmt):
    target: Expr  # Name/Var, Slice, Index or Field over those
    value: Expr


@dataclass
class LocalDecl(Stmt):
    type_syntax: TypeSyntax
    name: str
    value: Expr | None
    ty: Type | None = field(default=None, compare=False)


@dataclass
class Return(Stmt):
    value: Expr | None


@dataclass
class Assert(Stmt):
    cond: Expr


@dataclass
class CallStmt(Stmt):
    call: Call


@dataclass
class Clear(Stmt):
    """`clear M[k] where cond;`: every key `k` of the global map `M` for which `cond` holds reads
    as zero afterwards; the other keys keep their values."""

    map: Expr  # a Name, resolved by the checker to the global map
    key: str
    cond: Expr
    key_ty: Type | None = field(default=None, compare=False)


@dataclass
class If(Stmt):
    arms: list[tuple[Expr, list[Stmt]]]
    orelse: list[Stmt] | None


@dataclass
class Case(Stmt):
    subject: Expr
    arms: list[tuple[list[Expr], list[Stmt]]]
    otherwise: list[Stmt] | None


@dataclass
class For(Stmt):
    var: str
    start: Expr
    stop: Expr
    down: bool
    body: list[Stmt]
    first: int = 0  # constant bounds, filled in by the checker
    last: int = 0


# ---- declarations ---------------------------------------------------------------


@dataclass
class Decl:
    loc: Loc
    name: str


@dataclass
class EnumDecl(Decl):
    members: list[tuple[Loc, str]]


@dataclass
class RecordDecl(Decl):
    fields: list[Param]


@dataclass
class FieldSpec:
    loc: Loc
    hi: int
    lo: int
    name: str


@dataclass
class BitfieldDecl(Decl):
    """`type NAME is bits(N) { fields }`: a bit-string type with named fields."""

    width: Expr
    fields: list[FieldSpec]


@dataclass
class RegisterDecl(Decl):
    """A global architectural register with its field layout and reset value."""

    width: Expr
    fields: list[FieldSpec]
    reset: Expr | None
    shared: bool = False  # one copy for the whole machine, not one per processing element


@dataclass
class GlobalDecl(Decl):
    type_syntax: TypeSyntax
    shared: bool = False  # one copy for the whole machine, not one per processing element


@dataclass
class ConstDecl(Decl):
    type_syntax: TypeSyntax
    value: Expr


@dataclass
class FuncDecl(Decl):
    params: list[Param]
    result: TypeSyntax | None
    body: list[Stmt]
    is_property: bool = False
    # "invariant" (a boolean predicate over the state that a model's transitions preserve),
    # "transition" (a procedure that is one atomic step of a model), "observation" (what an
    # observer may see of a state, which must not depend on a secret), "declassified" (what
    # every observer may learn by design), "secret" (whether the step a PE takes is the
    # secret's own) or "witness" (an id, computed from the state, at which the prover also
    # assumes the invariants); "" for everything else
    role: str = ""
    # An invariant's `assuming (A, B)`: the other invariants its obligations assume, besides
    # itself (None: every invariant of the model).
    assuming: list[tuple[Loc, str]] | None = None
    result_ty: Type | None = field(default=None, compare=False)


# Fields that hold no statement or expression: a walk need not look inside them.
_LEAF_FIELDS = frozenset({"loc", "ty", "type_syntax", "key_ty"})


def walk(root: object) -> Iterator[Stmt | Expr | SliceItem | Param]:
    """Every statement, expression, slice item and parameter inside `root` (a node, or a list of
    them), itself included: slice bounds, call arguments and the bodies of branches and loops
    too."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, Stmt | Expr | SliceItem | Param):
            yield node
            stack.extend(getattr(node, f.name) for f in fields(node) if f.name not in _LEAF_FIELDS)


def target_root(target: Expr) -> Expr:
    """What an assignment to `target` (`X`, `X.F`, `X[i]`, `X<7:0>` ...) changes: `X`."""
    while isinstance(target, Field | Slice | Index):
        target = target.base
    return target
