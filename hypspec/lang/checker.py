"""The static checker: names resolve, widths agree, loops are bounded, no recursion.

It returns a checked `Program`: the same syntax classes with every expression
typed, every dotted name split into a variable and field selections, every
named constant folded to a literal, every register field turned into a static
slice, and every local given a name unique within its function. Both semantics
read only this checked tree, so they cannot disagree about what a name means.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from hypspec.lang import syntax as s
from hypspec.lang.builtins import BUILTINS, BuiltinTypeError
from hypspec.lang.diagnostics import Reporter
from hypspec.lang.types import (
    BOOL,
    INT,
    INTEGER_BITS,
    MAX_WIDTH,
    Array,
    Bits,
    Bool,
    Enum,
    Int,
    Layout,
    Map,
    Record,
    Type,
)


class _Abort(Exception):
    """Stop checking the current expression; the error is already reported."""


# The type of a local whose declaration failed to check: its uses abort silently, so
# one error is not reported again at every later use of the name.
_POISONED = Type()


@dataclass(frozen=True)
class GlobalInfo:
    ty: Type
    reset: int | None
    is_register: bool
    loc: s.Loc
    shared: bool = False  # one copy for the machine; otherwise one per processing element


@dataclass
class Program:
    """A checked specification: what both semantics and the tools consume."""

    enums: dict[str, Enum] = field(default_factory=dict)
    enum_values: dict[str, tuple[Enum, int]] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)
    layouts: dict[str, Layout] = field(default_factory=dict)
    globals: dict[str, GlobalInfo] = field(default_factory=dict)
    constants: dict[str, tuple[Type, int | bool]] = field(default_factory=dict)
    functions: dict[str, s.FuncDecl] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # declarations in reading order
    locals: dict[str, dict[str, Type]] = field(default_factory=dict)  # per function

    @property
    def properties(self) -> dict[str, s.FuncDecl]:
        return {n: f for n, f in self.functions.items() if f.is_property}

    @property
    def invariants(self) -> dict[str, s.FuncDecl]:
        return {n: f for n, f in self.functions.items() if f.role == "invariant"}

    @property
    def transitions(self) -> dict[str, s.FuncDecl]:
        return {n: f for n, f in self.functions.items() if f.role == "transition"}

    @property
    def observations(self) -> dict[str, s.FuncDecl]:
        return {n: f for n, f in self.functions.items() if f.role == "observation"}

    @property
    def declassified(self) -> dict[str, s.FuncDecl]:
        return {n: f for n, f in self.functions.items() if f.role == "declassified"}

    @property
    def witnesses(self) -> dict[str, s.FuncDecl]:
        return {n: f for n, f in self.functions.items() if f.role == "witness"}

    @property
    def secrets(self) -> dict[str, s.FuncDecl]:
        return {n: f for n, f in self.functions.items() if f.role == "secret"}


# What a model's declarations of these roles are, for the error a call to one gets: each is a
# statement about states, read by the prover, not a function of the specification.
_UNCALLABLE = {"invariant": "an invariant", "observation": "an observation",
               "declassified": "a declassified observation", "secret": "a secret's step predicate",
               "witness": "a witness"}


def mask(width: int) -> int:
    return (1 << width) - 1


def to_signed(value: int, width: int = INTEGER_BITS) -> int:
    value &= mask(width)
    return value - (1 << width) if value >> (width - 1) else value


@dataclass
class _Scope:
    """Block-structured scopes mapping source names to unique local names."""

    frames: list[dict[str, str]]
    types: dict[str, Type]
    readonly: set[str]
    counter: dict[str, int]

    def lookup(self, name: str) -> str | None:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        return None

    def declare(self, name: str, ty: Type) -> str:
        count = self.counter.get(name, 0)
        self.counter[name] = count + 1
        unique = name if count == 0 else f"{name}__{count}"
        self.frames[-1][name] = unique
        self.types[unique] = ty
        return unique

    def push(self) -> None:
        self.frames.append({})

    def pop(self) -> None:
        self.frames.pop()


class Checker:
    """Checks a list of parsed declarations and builds the `Program`."""

    def __init__(self, reporter: Reporter) -> None:
        self.r = reporter
        self.p = Program()
        self.decls: dict[str, s.Decl] = {}
        self.calls: dict[str, list[tuple[str, s.Loc]]] = {}
        self.current: s.FuncDecl | None = None
        self.scope: _Scope | None = None

    # ---- entry point ---------------------------------------------------------------

    def check(self, decls: list[s.Decl]) -> Program:
        for decl in decls:
            self._declare(decl)
        # types and constants in reading order, so a width may name an earlier constant
        for decl in decls:
            self._define_type(decl)
            if isinstance(decl, s.ConstDecl):
                self._define_value(decl)
        for decl in decls:
            if not isinstance(decl, s.ConstDecl):
                self._define_value(decl)
        functions = [d for d in decls if isinstance(d, s.FuncDecl) and d.name in self.decls]
        for func in functions:
            self._signature(func)
        for func in functions:
            self._body(func)
            self._assumptions(func)
        self._reject_recursion()
        return self.p

    def _error(self, loc: s.Loc, message: str) -> _Abort:
        self.r.error(loc, message)
        return _Abort()

    def _declare(self, decl: s.Decl) -> None:
        names = [decl.name]
        if isinstance(decl, s.EnumDecl):
            names += [m for _, m in decl.members]
        for name in names:
            if name in self.decls or name in self.p.enum_values or name in BUILTINS:
                self.r.error(decl.loc, f"'{name}' is declared more than once")
                return
        self.decls[decl.name] = decl
        self.p.order.append(decl.name)
        if isinstance(decl, s.EnumDecl):
            enum = Enum(decl.name, tuple(m for _, m in decl.members))
            self.p.enums[decl.name] = enum
            for i, (_, member) in enumerate(decl.members):
                self.p.enum_values[member] = (enum, i)
                self.decls.setdefault(member, decl)

    # ---- types ---------------------------------------------------------------------

    def _const_width(self, expr: s.Expr, what: str) -> int:
        value = self._const_int(expr)
        if value is None:
            raise self._error(expr.loc, f"{what} must be a constant integer expression")
        if value < 1:
            raise self._error(expr.loc, f"{what} must be at least 1, not {value}")
        if value > MAX_WIDTH:
            raise self._error(expr.loc, f"{what} must be at most {MAX_WIDTH}, not {value}")
        return value

    def _layout(self, name: str, width: int, specs: list[s.FieldSpec]) -> Layout:
        seen: dict[str, s.FieldSpec] = {}
        for spec in specs:
            if spec.hi < spec.lo:
                self.r.error(spec.loc, f"field {spec.name}: <{spec.hi}:{spec.lo}> is reversed")
            elif spec.hi >= width:
                self.r.error(spec.loc, f"field {spec.name}: bit {spec.hi} is outside {width} bits")
            if spec.name in seen:
                self.r.error(spec.loc, f"field {spec.name} is declared twice in {name}")
            seen[spec.name] = spec
        for i, b in enumerate(specs):
            for a in specs[:i]:
                if a.lo <= b.hi and b.lo <= a.hi:
                    self.r.error(b.loc, f"field {b.name} overlaps field {a.name}")
        return Layout(name, tuple((f.name, f.hi, f.lo) for f in specs))

    def _define_type(self, decl: s.Decl) -> None:
        try:
            if isinstance(decl, s.BitfieldDecl):
                width = self._const_width(decl.width, "a bit string's width")
                self.p.layouts[decl.name] = self._layout(decl.name, width, decl.fields)
            elif isinstance(decl, s.RecordDecl):
                fields: list[tuple[str, Type]] = []
                for param in decl.fields:
                    if any(param.name == f for f, _ in fields):
                        self.r.error(param.loc, f"field {param.name} is declared twice")
                    fields.append((param.name, self._type(param.type_syntax, allow_map=False)))
                self.p.records[decl.name] = Record(decl.name, tuple(fields))
        except _Abort:
            pass

    def _type(self, syntax: s.TypeSyntax, allow_map: bool) -> Type:
        if isinstance(syntax, s.BitsSyntax):
            return Bits(self._const_width(syntax.width, "a bit string's width"))
        if isinstance(syntax, s.BoolSyntax):
            return BOOL
        if isinstance(syntax, s.IntSyntax):
            return INT
        if isinstance(syntax, s.NamedSyntax):
            return self._named_type(syntax)
        if isinstance(syntax, s.ArraySyntax):
            length = self._const_width(syntax.length, "an array's length")
            return Array(self._type(syntax.elem, allow_map=False), length)
        if isinstance(syntax, s.MapSyntax):
            if not allow_map:
                raise self._error(syntax.loc, "a map can only be a global variable")
            key = self._type(syntax.key, allow_map=False)
            assert isinstance(key, Bits)
            return Map(key, self._type(syntax.elem, allow_map=False))
        raise self._error(syntax.loc, "unknown kind of type")

    def _named_type(self, syntax: s.NamedSyntax) -> Type:
        name = syntax.name
        if name in self.p.enums:
            return self.p.enums[name]
        if name in self.p.layouts and isinstance(self.decls.get(name), s.RegisterDecl):
            raise self._error(syntax.loc, f"'{name}' is a register, not a type")
        if name in self.p.layouts:
            layout = self.p.layouts[name]
            width = max((hi for _, hi, _ in layout.fields), default=0) + 1
            decl = self.decls[name]
            assert isinstance(decl, s.BitfieldDecl)
            width = self._const_int(decl.width) or width
            return Bits(width, layout)
        if name in self.p.records:
            return self.p.records[name]
        if name in self.decls and isinstance(self.decls[name], s.RecordDecl | s.BitfieldDecl):
            raise self._error(
                syntax.loc, f"type {name} is used before its definition is complete "
                "(types are defined in reading order)"
            )
        raise self._error(syntax.loc, f"unknown type '{name}'")

    # ---- globals and constants -----------------------------------------------------

    def _define_value(self, decl: s.Decl) -> None:
        try:
            if isinstance(decl, s.RegisterDecl | s.GlobalDecl) and "." in decl.name:
                # [GLOBAL-DOT] `R.F` reads field F of register or variable R, so a global's own
                # name cannot contain a dot.
                raise self._error(
                    decl.loc, f"a register or variable name cannot contain a dot: '{decl.name}' "
                    "would read as a field selection (write it with '_')"
                )
            if isinstance(decl, s.RegisterDecl):
                width = self._const_width(decl.width, "a register's width")
                layout = self._layout(decl.name, width, decl.fields)
                self.p.layouts[decl.name] = layout
                reset = None
                if decl.reset is not None:
                    reset = self._const_int(decl.reset)
                    if reset is None or not 0 <= reset <= mask(width):
                        raise self._error(
                            decl.reset.loc, f"reset value of {decl.name} must fit in {width} bits"
                        )
                self.p.globals[decl.name] = GlobalInfo(
                    Bits(width, layout), reset, True, decl.loc, decl.shared
                )
            elif isinstance(decl, s.GlobalDecl):
                ty = self._type(decl.type_syntax, allow_map=True)
                self.p.globals[decl.name] = GlobalInfo(ty, None, False, decl.loc, decl.shared)
            elif isinstance(decl, s.ConstDecl):
                ty = self._type(decl.type_syntax, allow_map=False)
                value = self._const_value(decl.value, ty)
                self.p.constants[decl.name] = (ty, value)
        except _Abort:
            pass

    def _const_value(self, expr: s.Expr, ty: Type) -> int | bool:
        if isinstance(ty, Bool) and isinstance(expr, s.BoolLit):
            return expr.value
        if isinstance(expr, s.BitsLit) and isinstance(ty, Bits):
            if expr.width != ty.width or expr.care != mask(expr.width):
                raise self._error(expr.loc, f"constant must be a plain {ty.width}-bit string")
            return expr.value
        value = self._const_int(expr)
        if value is None:
            raise self._error(expr.loc, "a constant's value must be a constant expression")
        if isinstance(ty, Bits) and not 0 <= value <= mask(ty.width):
            raise self._error(expr.loc, f"{value} does not fit in {ty}")
        if not isinstance(ty, Bits | Int):
            raise self._error(expr.loc, f"constants of type {ty} are not supported")
        return value

    def _const_int(self, expr: s.Expr) -> int | None:
        """The value of an integer constant expression, or None."""
        if isinstance(expr, s.IntLit):
            return expr.value
        if isinstance(expr, s.Name) and expr.name in self.p.constants:
            ty, value = self.p.constants[expr.name]
            return int(value) if isinstance(ty, Int) else None
        if isinstance(expr, s.UnOp) and expr.op == "-":
            inner = self._const_int(expr.operand)
            return None if inner is None else -inner
        if isinstance(expr, s.BinOp) and expr.op in {"+", "-", "*", "DIV", "MOD"}:
            left, right = self._const_int(expr.left), self._const_int(expr.right)
            if left is None or right is None:
                return None
            if expr.op in {"DIV", "MOD"} and right == 0:
                return None
            return {
                "+": lambda: left + right,
                "-": lambda: left - right,
                "*": lambda: left * right,
                "DIV": lambda: left // right,
                "MOD": lambda: left % right,
            }[expr.op]()
        return None

    # ---- functions -----------------------------------------------------------------

    def _signature(self, func: s.FuncDecl) -> None:
        try:
            names = set()
            for param in func.params:
                if param.name in names:
                    self.r.error(param.loc, f"parameter {param.name} is declared twice")
                elif self._is_global(param.name):
                    self.r.error(
                        param.loc, f"parameter '{param.name}' would hide the global '{param.name}'"
                    )
                names.add(param.name)
                param.ty = self._type(param.type_syntax, allow_map=False)
            if func.result is not None:
                func.result_ty = self._type(func.result, allow_map=False)
            elif func.is_property or func.role in ("invariant", "secret"):
                func.result_ty = BOOL
        except _Abort:
            func.result_ty = None
        self.p.functions[func.name] = func

    def _assumptions(self, func: s.FuncDecl) -> None:
        """An invariant's `assuming` list names other invariants, each once."""
        named: set[str] = set()
        for loc, name in func.assuming or []:
            other = self.decls.get(name)
            if not isinstance(other, s.FuncDecl) or other.role != "invariant":
                self.r.error(loc, f"{func.name} assumes '{name}', which is not an invariant")
            elif name == func.name:
                self.r.error(loc, f"{func.name} names itself in its assuming list; every invariant assumes "
                                  "itself already")
            elif name in named:
                self.r.error(loc, f"{func.name} assumes '{name}' twice")
            named.add(name)

    def _body(self, func: s.FuncDecl) -> None:
        if any(p.ty is None for p in func.params):
            return
        self.current = func
        self.calls[func.name] = []
        self.scope = _Scope([{}], {}, set(), {})
        for param in func.params:
            assert param.ty is not None
            self.scope.declare(param.name, param.ty)
        written = func.body
        try:
            func.body = self._block(written)
        except RecursionError:
            self.r.error(func.loc, f"{func.name} nests too deeply; split it into smaller parts")
        # judged on the body as written: a return that failed to check still returns
        if func.result_ty is not None and not _always_returns(written):
            what = "property" if func.is_property else func.role or "function"
            self.r.error(func.loc, f"{what} {func.name} can reach its end without a return")
        self.p.locals[func.name] = dict(self.scope.types)
        self.current = None
        self.scope = None

    def _block(self, stmts: list[s.Stmt]) -> list[s.Stmt]:
        assert self.scope is not None
        self.scope.push()
        out: list[s.Stmt] = []
        for stmt in stmts:
            with contextlib.suppress(_Abort):
                out.append(self._stmt(stmt))
        self.scope.pop()
        return out

    def _stmt(self, stmt: s.Stmt) -> s.Stmt:
        if isinstance(stmt, s.Assign):
            return self._assign(stmt)
        if isinstance(stmt, s.LocalDecl):
            return self._local_decl(stmt)
        if isinstance(stmt, s.Return):
            return self._return(stmt)
        if isinstance(stmt, s.Assert):
            return s.Assert(stmt.loc, self._expect(stmt.cond, BOOL))
        if isinstance(stmt, s.CallStmt):
            call = self._call(stmt.call, as_statement=True)
            assert isinstance(call, s.Call)
            return s.CallStmt(stmt.loc, call)
        if isinstance(stmt, s.If):
            arms = [(self._expect(c, BOOL), self._block(b)) for c, b in stmt.arms]
            orelse = self._block(stmt.orelse) if stmt.orelse is not None else None
            return s.If(stmt.loc, arms, orelse)
        if isinstance(stmt, s.Case):
            return self._case(stmt)
        if isinstance(stmt, s.For):
            return self._for(stmt)
        if isinstance(stmt, s.Clear):
            return self._clear(stmt)
        raise self._error(stmt.loc, "unknown statement")

    def _local_decl(self, stmt: s.LocalDecl) -> s.Stmt:
        assert self.scope is not None
        try:
            ty = self._type(stmt.type_syntax, allow_map=False)
            value = self._expect(stmt.value, ty) if stmt.value is not None else None
        except _Abort:
            self._poison(stmt.name)
            raise
        self._check_fresh(stmt.name, stmt.loc)
        unique = self.scope.declare(stmt.name, ty)
        decl = s.LocalDecl(stmt.loc, stmt.type_syntax, unique, value)
        decl.ty = ty
        return decl

    def _check_fresh(self, name: str, loc: s.Loc) -> None:
        assert self.scope is not None
        if self.scope.lookup(name) is not None:
            raise self._error(loc, f"'{name}' is already declared in this function")
        if self._is_global(name):
            raise self._error(loc, f"local '{name}' would hide the global '{name}'")

    def _poison(self, name: str) -> None:
        assert self.scope is not None
        if self.scope.lookup(name) is None and not self._is_global(name):
            self.scope.declare(name, _POISONED)

    def _is_global(self, name: str) -> bool:
        return name in self.p.globals or name in self.p.constants or name in self.p.enum_values

    def _return(self, stmt: s.Return) -> s.Stmt:
        func = self.current
        assert func is not None
        if func.result_ty is None:
            if stmt.value is not None:
                raise self._error(stmt.loc, f"procedure {func.name} cannot return a value")
            return stmt
        if stmt.value is None:
            raise self._error(stmt.loc, f"{func.name} must return a value of type {func.result_ty}")
        return s.Return(stmt.loc, self._expect(stmt.value, func.result_ty))

    def _assign(self, stmt: s.Assign) -> s.Stmt:
        assert self.scope is not None
        target = stmt.target
        if isinstance(target, s.Name) and "." not in target.name:
            known = self.scope.lookup(target.name)
            is_global = target.name in self.p.globals
            if known is None and not is_global:
                if target.name in self.p.constants or target.name in self.p.enum_values:
                    raise self._error(target.loc, f"cannot assign to constant '{target.name}'")
                try:
                    value = self._expr(stmt.value)
                except _Abort:
                    self._poison(target.name)
                    raise
                if value.ty is None:
                    raise _Abort()
                self._check_fresh(target.name, target.loc)
                unique = self.scope.declare(target.name, value.ty)
                var = s.Var(target.loc, unique, "local")
                var.ty = value.ty
                return s.Assign(stmt.loc, var, value)
        lhs = self._lvalue(target)
        assert lhs.ty is not None
        return s.Assign(stmt.loc, lhs, self._expect(stmt.value, lhs.ty))

    def _lvalue(self, target: s.Expr) -> s.Expr:
        assert self.scope is not None
        if isinstance(target, s.Name):
            lhs = self._name(target)
            root = s.target_root(lhs)
            if isinstance(root, s.Var):
                if root.scope == "const":
                    raise self._error(target.loc, "cannot assign to a constant")
                if root.name in self.scope.readonly:
                    raise self._error(target.loc, f"cannot assign to loop variable '{root.name}'")
                return lhs
            raise self._error(target.loc, f"cannot assign to '{target.name}'")
        if isinstance(target, s.Slice):
            base = self._lvalue(target.base)
            return self._slice(s.Slice(target.loc, base, target.items), base_checked=True)
        if isinstance(target, s.Index):
            base = self._lvalue(target.base)
            return self._index(target, base)
        raise self._error(target.loc, "this cannot be assigned to")

    def _case(self, stmt: s.Case) -> s.Stmt:
        subject = self._expr(stmt.subject)
        if not isinstance(subject.ty, Bits | Enum | Int):
            raise self._error(stmt.subject.loc, f"cannot select on a value of type {subject.ty}")
        arms = []
        for patterns, body in stmt.arms:
            checked = [self._pattern(p, subject.ty) for p in patterns]
            arms.append((checked, self._block(body)))
        otherwise = self._block(stmt.otherwise) if stmt.otherwise is not None else None
        return s.Case(stmt.loc, subject, arms, otherwise)

    def _pattern(self, pattern: s.Expr, ty: Type) -> s.Expr:
        checked = self._coerce(self._operand(pattern, ty), ty)
        if not isinstance(checked, s.BitsLit | s.IntLit | s.EnumLit | s.BoolLit):
            raise self._error(pattern.loc, "a pattern must be a constant")
        return checked

    def _for(self, stmt: s.For) -> s.Stmt:
        assert self.scope is not None
        first, last = self._const_int(stmt.start), self._const_int(stmt.stop)
        if first is None or last is None:
            bad = stmt.start if first is None else stmt.stop
            raise self._error(bad.loc, "a loop bound must be a constant (loops are bounded)")
        self.scope.push()
        self._check_fresh(stmt.var, stmt.loc)
        unique = self.scope.declare(stmt.var, INT)
        self.scope.readonly.add(unique)
        body = self._block(stmt.body)
        self.scope.pop()
        loop = s.For(stmt.loc, unique, stmt.start, stmt.stop, stmt.down, body)
        loop.first, loop.last = first, last
        return loop

    def _clear(self, stmt: s.Clear) -> s.Stmt:
        """`clear M[k] where cond;` over a global map. Its condition is evaluated for every key:
        it must not act, and it reads nothing that could change while a key waits to be read
        (a recording map applies it lazily): no calls but built-ins, no UNKNOWN, no map
        ([CLEAR-COND])."""
        assert self.scope is not None
        target = self._name(stmt.map)
        if not (isinstance(target, s.Var) and target.scope == "global" and isinstance(target.ty, Map)):
            raise self._error(stmt.map.loc, f"'{stmt.map.name}' is not a global map: only the keys of a "
                                            f"map can be cleared")
        self.scope.push()
        self._check_fresh(stmt.key, stmt.loc)
        unique = self.scope.declare(stmt.key, target.ty.key)
        self.scope.readonly.add(unique)
        try:
            cond = self._expect(stmt.cond, BOOL)
        finally:
            self.scope.pop()
        for part in s.walk(cond):
            if isinstance(part, s.Call) and part.func not in BUILTINS:
                raise self._error(part.loc, f"the condition of a clear is evaluated for every key and cannot "
                                            f"call {part.func}; write the test out")
            if isinstance(part, s.Index) and isinstance(part.base.ty, Map):
                raise self._error(part.loc, "the condition of a clear is evaluated for every key and cannot "
                                            "read a map; read what it needs into a local first")
            if isinstance(part, s.Unknown):
                raise self._error(part.loc, "the condition of a clear is evaluated for every key and cannot "
                                            "be UNKNOWN")
        clear = s.Clear(stmt.loc, target, unique, cond)
        clear.key_ty = target.ty.key
        return clear

    def _reject_recursion(self) -> None:
        state: dict[str, int] = {}

        def visit(name: str) -> None:
            state[name] = 1
            for callee, loc in self.calls.get(name, []):
                if state.get(callee) == 1:
                    self.r.error(loc, f"recursive call to {callee} (the language is total)")
                elif callee not in state:
                    visit(callee)
            state[name] = 2

        for name in self.calls:
            if name not in state:
                visit(name)

    # ---- expressions ---------------------------------------------------------------

    def _expect(self, expr: s.Expr, ty: Type) -> s.Expr:
        return self._coerce(self._expr(expr, ty), ty)

    def _coerce(self, expr: s.Expr, ty: Type) -> s.Expr:
        if expr.ty == ty:
            return expr
        if isinstance(ty, Bits) and isinstance(expr, s.IntLit):
            if not 0 <= expr.value <= mask(ty.width):
                raise self._error(expr.loc, f"{expr.value} does not fit in {ty}")
            return _typed(s.BitsLit(expr.loc, expr.value, ty.width, mask(ty.width)), Bits(ty.width))
        raise self._error(expr.loc, f"expected {_describe(ty)}, found {_describe(expr.ty)}")

    def _expr(self, expr: s.Expr, hint: Type | None = None) -> s.Expr:
        checked = self._expr_inner(expr, hint)
        if checked.ty is None:
            raise self._error(expr.loc, "expression has no value")
        return checked

    def _expr_inner(self, expr: s.Expr, hint: Type | None) -> s.Expr:
        if isinstance(expr, s.IntLit):
            return _typed(s.IntLit(expr.loc, expr.value), INT)
        if isinstance(expr, s.BitsLit):
            if expr.width == 0:
                raise self._error(expr.loc, "a bit string needs at least one bit")
            if expr.care != mask(expr.width):
                raise self._error(
                    expr.loc, "a bit string with 'x' bits is a pattern: use it after when, "
                    "in IN {...}, or as a side of == or !="
                )
            return _typed(s.BitsLit(expr.loc, expr.value, expr.width, expr.care), Bits(expr.width))
        if isinstance(expr, s.BoolLit):
            return _typed(s.BoolLit(expr.loc, expr.value), BOOL)
        if isinstance(expr, s.Name):
            return self._name(expr)
        if isinstance(expr, s.Unknown):
            unknown = s.Unknown(expr.loc, expr.type_syntax)
            return _typed(unknown, self._type(expr.type_syntax, allow_map=False))
        if isinstance(expr, s.Call):
            return self._call(expr, as_statement=False)
        if isinstance(expr, s.BinOp):
            return self._binop(expr)
        if isinstance(expr, s.UnOp):
            return self._unop(expr)
        if isinstance(expr, s.Slice):
            return self._slice(expr, base_checked=False)
        if isinstance(expr, s.Index):
            return self._index(expr, self._expr(expr.base))
        if isinstance(expr, s.Field):
            return self._field(self._expr(expr.base), expr.name, expr.loc)
        if isinstance(expr, s.InSet):
            subject = self._expr(expr.subject)
            patterns = [self._pattern(p, subject.ty) for p in expr.patterns]  # type: ignore[arg-type]
            return _typed(s.InSet(expr.loc, subject, patterns), BOOL)
        if isinstance(expr, s.CondExpr):
            cond = self._expect(expr.cond, BOOL)
            then = self._expr(expr.then, hint)
            orelse = self._expr(expr.orelse, then.ty)
            then, orelse = self._unify(then, orelse, expr.loc)
            return _typed(s.CondExpr(expr.loc, cond, then, orelse), then.ty)
        if isinstance(expr, s.Forall):
            return self._forall(expr)
        raise self._error(expr.loc, "unknown expression")

    def _operand(self, expr: s.Expr, hint: Type | None = None) -> s.Expr:
        """An operand that may be a pattern with 'x' bits: a `when` or `IN` pattern, or a
        side of == or != (both semantics compare only the bits that are not 'x')."""
        if isinstance(expr, s.BitsLit) and expr.width > 0:
            return _typed(s.BitsLit(expr.loc, expr.value, expr.width, expr.care), Bits(expr.width))
        return self._expr(expr, hint)

    def _forall(self, expr: s.Forall) -> s.Expr:
        assert self.scope is not None and self.current is not None
        if not self.current.is_property:
            raise self._error(expr.loc, "forall may only appear in a property")
        self.scope.push()
        params = []
        for param in expr.params:
            ty = self._type(param.type_syntax, allow_map=False)
            self._check_fresh(param.name, param.loc)
            bound = s.Param(param.loc, param.type_syntax, self.scope.declare(param.name, ty))
            bound.ty = ty
            params.append(bound)
        body = self._expect(expr.body, BOOL)
        self.scope.pop()
        return _typed(s.Forall(expr.loc, params, body), BOOL)

    def _name(self, expr: s.Name) -> s.Expr:
        assert self.scope is not None
        parts = expr.name.split(".")
        for cut in range(len(parts), 0, -1):
            root = ".".join(parts[:cut])
            base = self._root_name(root, expr.loc, whole=cut == len(parts))
            if base is not None:
                for part in parts[cut:]:
                    base = self._field(base, part, expr.loc)
                return base
        if expr.name in self.p.functions or expr.name in BUILTINS:
            raise self._error(expr.loc, f"function {expr.name} is used without calling it")
        raise self._error(expr.loc, f"unknown name '{expr.name}'")

    def _root_name(self, name: str, loc: s.Loc, whole: bool) -> s.Expr | None:
        assert self.scope is not None
        unique = self.scope.lookup(name)
        if unique is not None and self.scope.types[unique] is _POISONED:
            raise _Abort()
        if unique is not None:
            return _typed(s.Var(loc, unique, "local"), self.scope.types[unique])
        if name in self.p.globals:
            return _typed(s.Var(loc, name, "global"), self.p.globals[name].ty)
        if name in self.p.constants:
            ty, value = self.p.constants[name]
            if isinstance(ty, Bits):
                return _typed(s.BitsLit(loc, int(value), ty.width, mask(ty.width)), ty)
            if isinstance(ty, Bool):
                return _typed(s.BoolLit(loc, bool(value)), BOOL)
            return _typed(s.IntLit(loc, int(value)), INT)
        if whole and name in self.p.enum_values:
            enum, value = self.p.enum_values[name]
            return _typed(s.EnumLit(loc, name, value), enum)
        return None

    def _field(self, base: s.Expr, name: str, loc: s.Loc) -> s.Expr:
        ty = base.ty
        if isinstance(ty, Record):
            index = ty.index_of(name)
            if index is None:
                raise self._error(loc, f"record {ty.name} has no field '{name}'")
            return _typed(s.Field(loc, base, name), ty.fields[index][1])
        if isinstance(ty, Bits) and ty.layout is not None:
            position = ty.layout.get(name)
            if position is None:
                known = ", ".join(f for f, _, _ in ty.layout.fields)
                raise self._error(loc, f"{ty.layout.name} has no field '{name}' (fields: {known})")
            hi, lo = position
            item = s.SliceItem("range", _typed(s.IntLit(loc, hi), INT), _typed(s.IntLit(loc, lo), INT))
            item.width, item.static_lo = hi - lo + 1, lo
            return _typed(s.Slice(loc, base, [item]), Bits(hi - lo + 1))
        raise self._error(loc, f"a value of type {_describe(ty)} has no field '{name}'")

    def _index(self, expr: s.Index, base: s.Expr) -> s.Expr:
        ty = base.ty
        if isinstance(ty, Array):
            index = self._expect(expr.index, INT)
            return _typed(s.Index(expr.loc, base, index), ty.elem)
        if isinstance(ty, Map):
            index = self._expect(expr.index, ty.key)
            return _typed(s.Index(expr.loc, base, index), ty.elem)
        raise self._error(expr.loc, f"a value of type {_describe(ty)} cannot be indexed")

    def _slice(self, expr: s.Slice, base_checked: bool) -> s.Expr:
        base = expr.base if base_checked else self._expr(expr.base)
        if isinstance(base.ty, Int):
            width = INTEGER_BITS
        elif isinstance(base.ty, Bits):
            width = base.ty.width
        else:
            raise self._error(expr.loc, f"cannot slice a value of type {_describe(base.ty)}")
        items = [self._slice_item(item, width, expr.loc) for item in expr.items]
        total = sum(i.width for i in items)
        return _typed(s.Slice(expr.loc, base, items), Bits(total))

    def _slice_item(self, item: s.SliceItem, width: int, loc: s.Loc) -> s.SliceItem:
        if item.kind == "range":
            assert item.second is not None
            hi, lo = self._const_int(item.first), self._const_int(item.second)
            if hi is None or lo is None:
                raise self._error(loc, "<hi:lo> needs constant bounds; use <lo+:width> instead")
            if not 0 <= lo <= hi < width:
                raise self._error(loc, f"slice <{hi}:{lo}> is outside a {width}-bit value")
            out = s.SliceItem("range", self._expect(item.first, INT), self._expect(item.second, INT))
            out.width, out.static_lo = hi - lo + 1, lo
            return out
        if item.kind == "bit":
            position = self._expect(item.first, INT)
            const = self._const_int(item.first)
            if const is not None and not 0 <= const < width:
                raise self._error(loc, f"bit {const} is outside a {width}-bit value")
            out = s.SliceItem("bit", position, None)
            out.width, out.static_lo = 1, const
            return out
        assert item.second is not None
        size = self._const_int(item.second)
        if size is None or size < 1:
            raise self._error(loc, "<lo+:width> needs a constant width of at least 1")
        if size > width:
            raise self._error(loc, f"slice <lo+:{size}> is wider than a {width}-bit value")
        lo_const = self._const_int(item.first)
        if lo_const is not None and not (lo_const >= 0 and lo_const + size <= width):
            raise self._error(loc, f"slice <{lo_const}+:{size}> is outside a {width}-bit value")
        out = s.SliceItem("width", self._expect(item.first, INT), self._expect(item.second, INT))
        out.width, out.static_lo = size, lo_const
        return out

    def _call(self, call: s.Call, as_statement: bool) -> s.Expr:
        if call.func in BUILTINS:
            return self._builtin(call)
        func = self.p.functions.get(call.func)
        if func is None:
            raise self._error(call.loc, f"unknown function '{call.func}'")
        if func.is_property or func.role in _UNCALLABLE:
            what = "a property" if func.is_property else _UNCALLABLE[func.role]
            raise self._error(call.loc, f"{call.func} is {what} and cannot be called")
        if self.current is not None:
            self.calls[self.current.name].append((call.func, call.loc))
        if len(call.args) != len(func.params):
            raise self._error(
                call.loc,
                f"{call.func} takes {len(func.params)} argument(s), {len(call.args)} given",
            )
        args = []
        for arg, param in zip(call.args, func.params, strict=True):
            if param.ty is None:
                raise _Abort()
            args.append(self._expect(arg, param.ty))
        if func.result_ty is None and not as_statement:
            raise self._error(call.loc, f"procedure {call.func} returns no value")
        checked = s.Call(call.loc, call.func, args)
        checked.ty = func.result_ty
        return checked

    def _builtin(self, call: s.Call) -> s.Expr:
        builtin = BUILTINS[call.func]
        if len(call.args) != builtin.arity:
            raise self._error(
                call.loc, f"{call.func} takes {builtin.arity} argument(s), {len(call.args)} given"
            )
        args = [self._expr(a) for a in call.args]
        consts = [self._const_int(a) for a in call.args]
        try:
            result = builtin.result([a.ty for a in args], consts)  # type: ignore[misc]
        except BuiltinTypeError as err:
            raise self._error(call.loc, str(err)) from None
        return _typed(s.Call(call.loc, call.func, args), result)

    def _unify(self, left: s.Expr, right: s.Expr, loc: s.Loc) -> tuple[s.Expr, s.Expr]:
        """Make two operands the same type, turning an integer literal into bits."""
        if left.ty == right.ty:
            return left, right
        if isinstance(left.ty, Bits) and isinstance(right, s.IntLit):
            return left, self._coerce(right, left.ty)
        if isinstance(right.ty, Bits) and isinstance(left, s.IntLit):
            return self._coerce(left, right.ty), right
        raise self._error(
            loc, f"operands differ: {_describe(left.ty)} and {_describe(right.ty)}"
        )

    def _binop(self, expr: s.BinOp) -> s.Expr:
        op = expr.op
        if op in {"&&", "||", "-->"}:
            left, right = self._expect(expr.left, BOOL), self._expect(expr.right, BOOL)
            return _typed(s.BinOp(expr.loc, op, left, right), BOOL)
        get = self._operand if op in {"==", "!="} else self._expr
        left, right = get(expr.left), get(expr.right, None)
        if op == ":":
            if not (isinstance(left.ty, Bits) and isinstance(right.ty, Bits)):
                raise self._error(expr.loc, "':' joins two bit strings")
            return _typed(s.BinOp(expr.loc, op, left, right), Bits(left.ty.width + right.ty.width))
        if op in {"==", "!="}:
            left, right = self._unify(left, right, expr.loc)
            if isinstance(left.ty, Record | Array | Map):
                raise self._error(expr.loc, f"cannot compare values of type {left.ty}")
            return _typed(s.BinOp(expr.loc, op, left, right), BOOL)
        if op in {"<", "<=", ">", ">="}:
            if not (isinstance(left.ty, Int) and isinstance(right.ty, Int)):
                raise self._error(
                    expr.loc, f"'{op}' compares integers; convert bit strings with UInt()"
                )
            return _typed(s.BinOp(expr.loc, op, left, right), BOOL)
        if op in {"AND", "OR", "EOR"}:
            left, right = self._unify(left, right, expr.loc)
            if not isinstance(left.ty, Bits):
                raise self._error(expr.loc, f"'{op}' works on bit strings")
            return _typed(s.BinOp(expr.loc, op, left, right), left.ty)
        return self._arith(expr, left, right)

    def _arith(self, expr: s.BinOp, left: s.Expr, right: s.Expr) -> s.Expr:
        op = expr.op
        if op in {"*", "DIV", "MOD"}:
            lconst, rconst = self._folded(left), self._folded(right)
            if op == "*" and lconst is None and rconst is None:
                raise self._error(expr.loc, "'*' needs a constant operand (arithmetic stays linear)")
            if op in {"DIV", "MOD"} and (rconst is None or rconst <= 0):
                raise self._error(expr.loc, f"'{op}' needs a positive constant divisor")
        if isinstance(left.ty, Int) and isinstance(right.ty, Int):
            folded = self._fold_int(op, left, right)
            if folded is not None:
                return _typed(s.IntLit(expr.loc, folded), INT)
            return _typed(s.BinOp(expr.loc, op, left, right), INT)
        if op in {"DIV", "MOD"}:
            raise self._error(expr.loc, f"'{op}' works on integers")
        if isinstance(left.ty, Bits) and isinstance(right.ty, Int | Bits):
            if isinstance(right.ty, Bits):
                left, right = self._unify(left, right, expr.loc)
            return _typed(s.BinOp(expr.loc, op, left, right), Bits(left.ty.width))
        if isinstance(right.ty, Bits) and isinstance(left.ty, Int) and op != "-":
            return _typed(s.BinOp(expr.loc, op, right, left), Bits(right.ty.width))
        raise self._error(
            expr.loc, f"'{op}' cannot combine {_describe(left.ty)} and {_describe(right.ty)}"
        )

    @staticmethod
    def _folded(expr: s.Expr) -> int | None:
        if isinstance(expr, s.IntLit):
            return expr.value
        if isinstance(expr, s.BitsLit) and expr.care == mask(expr.width):
            return expr.value
        return None

    @staticmethod
    def _fold_int(op: str, left: s.Expr, right: s.Expr) -> int | None:
        if not (isinstance(left, s.IntLit) and isinstance(right, s.IntLit)):
            return None
        a, b = left.value, right.value
        results = {"+": a + b, "-": a - b, "*": a * b}
        if b > 0:
            results |= {"DIV": a // b, "MOD": a % b}
        return to_signed(results[op])

    def _unop(self, expr: s.UnOp) -> s.Expr:
        if expr.op == "!":
            return _typed(s.UnOp(expr.loc, "!", self._expect(expr.operand, BOOL)), BOOL)
        operand = self._expr(expr.operand)
        if expr.op == "-" and isinstance(operand, s.IntLit):
            return _typed(s.IntLit(expr.loc, -operand.value), INT)
        if expr.op == "-" and isinstance(operand.ty, Int | Bits):
            return _typed(s.UnOp(expr.loc, "-", operand), operand.ty)
        if expr.op == "NOT" and isinstance(operand.ty, Bits):
            return _typed(s.UnOp(expr.loc, "NOT", operand), operand.ty)
        raise self._error(expr.loc, f"'{expr.op}' cannot apply to {_describe(operand.ty)}")


def _typed(expr: s.Expr, ty: Type | None) -> s.Expr:
    expr.ty = ty
    return expr


def _describe(ty: Type | None) -> str:
    return "no value" if ty is None else str(ty)


def _always_returns(stmts: list[s.Stmt]) -> bool:
    """True when every path through the block ends in a return (or assert FALSE)."""
    for stmt in stmts:
        if isinstance(stmt, s.Return):
            return True
        if isinstance(stmt, s.Assert) and isinstance(stmt.cond, s.BoolLit) and not stmt.cond.value:
            return True
        if isinstance(stmt, s.If | s.Case):
            last = stmt.orelse if isinstance(stmt, s.If) else stmt.otherwise
            arms = [b for _, b in stmt.arms]
            if last is not None and all(_always_returns(b) for b in [*arms, last]):
                return True
    return False
