"""The concrete semantics: compile the checked tree to Python source and load it.

Each spec function becomes a Python function `f(S, *args)` where `S` is the
architectural state (one attribute per global). The generated code keeps the
spec's shape, with a `# file:line` comment per statement, so a stack trace
points back at the chapter. ARM names are mangled `.` -> `_`.

Records are tuples. A record-typed local is kept as one Python local per leaf
field (scalar replacement), so that updating a field assigns one name instead
of rebuilding the nested tuple; the tuple is assembled only where the whole
record is used (returned, passed, stored).
"""

from __future__ import annotations

import marshal
import re
import sys
from dataclasses import dataclass
from types import CodeType, ModuleType

from hypspec import cache
from hypspec.concrete import runtime
from hypspec.concrete.ranges import RangeAnalysis
from hypspec.lang import syntax as s
from hypspec.lang.builtins import BUILTINS
from hypspec.lang.checker import Program, mask
from hypspec.lang.types import INTEGER_BITS, Array, Bits, Bool, Int, Map, Record, Type, width_of, zero_value

# A `case` with at least this many arms, all constant numbers, finds its arm by table lookup.
CASE_TABLE_ARMS = 8
# What a compiled expression reads: a register or variable of the state, a local.
_GLOBAL_READ = re.compile(r"\bS\.(\w+)")
_LOCAL_READ = re.compile(r"\bl_\w+")


def py_name(name: str) -> str:
    return "f_" + name.replace(".", "_")


def local_name(name: str) -> str:
    """A spec local as a Python name: prefixed, so no spec name is a keyword or a helper."""
    return "l_" + name


@dataclass
class CompiledSpec:
    module: ModuleType
    source: str

    def function(self, name: str):
        return getattr(self.module, py_name(name))


class _Emitter:
    def __init__(self, program: Program, trace: bool) -> None:
        self.p = program
        self.trace = trace
        self.lines: list[str] = []
        self.tables: list[str] = []  # module-level arm tables of long `case` statements
        self.temp = 0
        self.ranges: RangeAnalysis | None = None
        self.subst: dict[str, str] = {}  # parameter -> argument code, inside an inlined body
        self.scalar: dict[str, Record] = {}  # record locals kept as one Python local per leaf
        # inside an inlined body: parameter -> the scalar-replaced (sub-)record passed to it
        self.alias: dict[str, tuple[str, tuple[int, ...], Type]] = {}
        # inside an inlined straight-line body: leaf local -> the expression it holds
        self.leaf_env: dict[str, str] = {}
        self.straight = {name: _straight(f) and not trace for name, f in program.functions.items()}
        # A traced build keeps every function whole, so each decision is recorded.
        self.inline = {name: _inlinable(f) and not trace for name, f in program.functions.items()}

    # ---- module ----------------------------------------------------------------------

    def module(self) -> str:
        self.lines = [
            "# Generated from the spec chapters by hypspec.concrete.compiler. Do not edit.",
            "from hypspec.concrete.runtime import (SpecAssertionError, NotExecutable,",
            "    wrap, sint, sign_extend, check_index, tuple_set, clear_where)",
            "",
        ]
        seen: dict[str, str] = {}
        for name, func in self.p.functions.items():
            mangled = py_name(name)
            if mangled in seen:
                raise ValueError(f"{name} and {seen[mangled]} compile to the same Python name")
            seen[mangled] = name
            self.function(func)
        return "\n".join(self.lines + self.tables) + "\n"

    def function(self, func: s.FuncDecl) -> None:
        self.ranges = RangeAnalysis(func)
        self.scalar = _record_locals(func)
        params = ", ".join(["S", *(local_name(p.name) for p in func.params)])
        self.lines.append(f"def {py_name(func.name)}({params}):  # {func.loc}")
        if self.trace:
            self.emit(1, f"_T.append(('>', {func.name!r}))")
            self.emit(1, "try:")
            self.block(func.body, 2)
            self.emit(1, "finally:")
            self.emit(2, "_T.append(('<',))")
        else:
            self.block(func.body, 1)
        self.lines.append("")

    def arm(self, stmt: s.Stmt, index: int, body: list[s.Stmt], depth: int) -> None:
        """One arm of a decision; a traced build first records which arm it is."""
        if self.trace:
            self.emit(depth, f"_T.append(({stmt.loc.key!r}, {index}))")
        self.block(body, depth)

    # ---- statements ------------------------------------------------------------------

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def block(self, stmts: list[s.Stmt], depth: int) -> None:
        if not stmts:
            self.emit(depth, "pass")
        for stmt in stmts:
            self.stmt(stmt, depth)

    def stmt(self, stmt: s.Stmt, depth: int) -> None:
        if isinstance(stmt, s.Assign):
            if not self.copy_leaves(stmt.target, stmt.value, depth, stmt.loc):
                self.assign(stmt.target, self.expr(stmt.value), depth, stmt.loc)
        elif isinstance(stmt, s.LocalDecl):
            assert stmt.ty is not None
            value = self.expr(stmt.value) if stmt.value is not None else repr(zero_value(stmt.ty))
            if stmt.name in self.scalar:
                self.emit(depth, f"{self.pattern(stmt.name, (), stmt.ty)} = {value}  # {stmt.loc}")
            else:
                self.emit(depth, f"{local_name(stmt.name)} = {value}  # {stmt.loc}")
        elif isinstance(stmt, s.Return):
            value = self.expr(stmt.value) if stmt.value is not None else ""
            self.emit(depth, f"return {value}".rstrip() + f"  # {stmt.loc}")
        elif isinstance(stmt, s.Assert):
            self.emit(depth, f"if not ({self.expr(stmt.cond)}):  # {stmt.loc}")
            self.emit(depth + 1, f"raise SpecAssertionError({str(stmt.loc)!r})")
        elif isinstance(stmt, s.CallStmt):
            self.emit(depth, f"{self.expr(stmt.call)}  # {stmt.loc}")
        elif isinstance(stmt, s.If):
            for i, (cond, body) in enumerate(stmt.arms):
                keyword = "if" if i == 0 else "elif"
                self.emit(depth, f"{keyword} {self.expr(cond)}:  # {cond.loc}")
                self.arm(stmt, i, body, depth + 1)
            if stmt.orelse is not None or self.trace:
                self.emit(depth, "else:")
                self.arm(stmt, len(stmt.arms), stmt.orelse or [], depth + 1)
        elif isinstance(stmt, s.Case):
            self.case(stmt, depth)
        elif isinstance(stmt, s.Clear):
            assert isinstance(stmt.key_ty, Bits) and isinstance(stmt.map.ty, Map)
            table, empty = self.expr(stmt.map), repr(zero_value(stmt.map.ty.elem))
            self.emit(depth, f"clear_where({table}, {self.matches(stmt)}, {empty})  # {stmt.loc}")
        elif isinstance(stmt, s.For):
            step = -1 if stmt.down else 1
            stop = stmt.last + step
            loop = f"for {local_name(stmt.var)} in range({stmt.first}, {stop}, {step}):"
            self.emit(depth, f"{loop}  # {stmt.loc}")
            self.block(stmt.body, depth + 1)

    def matches(self, stmt: s.Clear) -> str:
        """A clear's condition as a function of the key. A recording map applies it later, to
        keys it supplies after the clear, so every other value the condition reads (locals and
        registers: never a map, [CLEAR-COND]) is bound when the clear runs, not when it is read."""
        key = local_name(stmt.key)
        cond = self.expr(stmt.cond)
        registers = sorted(set(_GLOBAL_READ.findall(cond)))
        cond = _GLOBAL_READ.sub(r"g_\1", cond)
        bound = [f"{name}={name}" for name in sorted(set(_LOCAL_READ.findall(cond)) - {key})]
        bound += [f"g_{name}=S.{name}" for name in registers]
        return f"lambda {', '.join([key, *bound])}: {cond}"

    def case(self, stmt: s.Case, depth: int) -> None:
        self.temp += 1
        subject = f"_case{self.temp}"
        self.emit(depth, f"{subject} = {self.expr(stmt.subject)}  # {stmt.loc}")
        table = self.arm_table(stmt)
        if table is not None:
            self.case_by_table(stmt, subject, table, depth)
            return
        for i, (patterns, body) in enumerate(stmt.arms):
            test = " or ".join(self.match(subject, p) for p in patterns)
            self.emit(depth, f"{'if' if i == 0 else 'elif'} {test}:")
            self.arm(stmt, i, body, depth + 1)
        if stmt.otherwise is not None or self.trace:
            if stmt.arms:
                self.emit(depth, "else:")
                self.arm(stmt, len(stmt.arms), stmt.otherwise or [], depth + 1)
            else:
                self.arm(stmt, 0, stmt.otherwise or [], depth)

    def arm_table(self, stmt: s.Case) -> dict[int, int] | None:
        """For a long `case` whose patterns are all constant numbers, each pattern's arm: the
        arm is then found by one dictionary lookup and a few comparisons instead of a test per
        pattern in turn (`KVM.Live` has eighty arms and runs for every word of every check)."""
        if len(stmt.arms) < CASE_TABLE_ARMS:
            return None
        table: dict[int, int] = {}
        for index, (patterns, _) in enumerate(stmt.arms):
            for pattern in patterns:
                if isinstance(pattern, s.BitsLit) and pattern.care != mask(pattern.width):
                    return None
                try:
                    value = int(self.expr(pattern), 0)
                except ValueError:
                    return None
                table.setdefault(value, index)  # the first arm that names a value takes it
        return table

    def case_by_table(self, stmt: s.Case, subject: str, table: dict[int, int], depth: int) -> None:
        name = f"_arms{self.temp}"
        self.tables.append(f"{name} = {table!r}")
        chosen = f"_arm{self.temp}"
        last = len(stmt.arms)  # the otherwise arm, or no arm at all
        self.emit(depth, f"{chosen} = {name}.get({subject}, {last})")

        def split(low: int, high: int, level: int) -> None:
            if low == high:
                if low < last:
                    self.arm(stmt, low, stmt.arms[low][1], level)
                elif stmt.otherwise is not None or self.trace:
                    self.arm(stmt, last, stmt.otherwise or [], level)
                else:
                    self.emit(level, "pass")
                return
            middle = (low + high + 1) // 2
            self.emit(level, f"if {chosen} < {middle}:")
            split(low, middle - 1, level + 1)
            self.emit(level, "else:")
            split(middle, high, level + 1)

        split(0, last, depth)

    def match(self, subject: str, pattern: s.Expr) -> str:
        if isinstance(pattern, s.BitsLit) and pattern.care != mask(pattern.width):
            return f"({subject} & {pattern.care:#x}) == {pattern.value:#x}"
        return f"{subject} == {self.expr(pattern)}"

    def assign(self, target: s.Expr, value: str, depth: int, loc: s.Loc) -> None:
        """Assign through a chain of field, slice and index selections."""
        scalar = self.scalar_path(target)
        if scalar is not None:
            name, path, ty = scalar
            self.emit(depth, f"{self.pattern(name, path, ty)} = {value}  # {loc}")
        elif isinstance(target, s.Var):
            name = f"S.{target.name}" if target.scope == "global" else local_name(target.name)
            self.emit(depth, f"{name} = {value}  # {loc}")
        elif isinstance(target, s.Field):
            assert isinstance(target.base.ty, Record)
            index = target.base.ty.index_of(target.name)
            base = self.expr(target.base)
            parts = [value if i == index else f"{base}[{i}]" for i in range(len(target.base.ty.fields))]
            self.assign(target.base, f"({', '.join(parts)},)", depth, loc)
        elif isinstance(target, s.Index) and isinstance(target.base.ty, Map):
            self.emit(depth, f"{self.expr(target.base)}[{self.expr(target.index)}] = {value}")
        elif isinstance(target, s.Index):
            assert isinstance(target.base.ty, Array)
            base = self.expr(target.base)
            index = self.checked_index(target)
            self.assign(target.base, f"tuple_set({base}, {index}, {value})", depth, loc)
        elif isinstance(target, s.Slice):
            self.assign(target.base, self.slice_update(target, value), depth, loc)
        else:
            raise AssertionError(f"unexpected assignment target {target}")

    # ---- scalar replacement of record locals -------------------------------------------

    def scalar_path(self, e: s.Expr) -> tuple[str, tuple[int, ...], Type] | None:
        """(local, field path, type) when `e` is a scalar-replaced local or a field chain into one."""
        path: list[int] = []
        while isinstance(e, s.Field) and isinstance(e.base.ty, Record):
            index = e.base.ty.index_of(e.name)
            assert index is not None
            path.append(index)
            e = e.base
        if not (isinstance(e, s.Var) and e.scope == "local"):
            return None
        if e.name in self.alias:
            root, prefix, ty = self.alias[e.name]
        elif e.name in self.scalar and e.name not in self.subst:
            root, prefix, ty = e.name, (), self.scalar[e.name]
        else:
            return None
        for index in reversed(path):
            assert isinstance(ty, Record)
            ty = ty.fields[index][1]
        return root, (*prefix, *reversed(path)), ty

    def copy_leaves(self, target: s.Expr, value: s.Expr, depth: int, loc: s.Loc) -> bool:
        """A record copied between two different scalar-replaced locals, one leaf at a time."""
        into, source = self.scalar_path(target), self.scalar_path(value)
        if into is None or source is None or into[0] == source[0] or not isinstance(into[2], Record):
            return False
        for (to, _), (frm, _) in zip(self.leaves(*into), self.leaves(*source), strict=True):
            self.emit(depth, f"{to} = {frm}  # {loc}")
        return True

    def leaves(self, name: str, path: tuple[int, ...], ty: Type, raw: bool = False) -> list[tuple[str, Type]]:
        """The leaves of a (sub-)record in order: their values, or with `raw` their local names."""
        if not isinstance(ty, Record):
            return [(self.pattern(name, path, ty, raw), ty)]
        return [
            leaf for i, (_, f_ty) in enumerate(ty.fields) for leaf in self.leaves(name, (*path, i), f_ty, raw)
        ]

    def pattern(self, name: str, path: tuple[int, ...], ty: Type, raw: bool = False) -> str:
        """The leaf locals of a (sub-)record, nested as the tuple is: a target or a value."""
        if not isinstance(ty, Record):
            leaf = f"{local_name(name)}__{'_'.join(map(str, path))}"
            return leaf if raw else self.leaf_env.get(leaf, leaf)
        parts = [self.pattern(name, (*path, i), f_ty) for i, (_, f_ty) in enumerate(ty.fields)]
        return f"({', '.join(parts)},)"

    def slice_update(self, target: s.Slice, value: str) -> str:
        """The base with the sliced bits replaced by `value` (high item first)."""
        self.temp += 1
        pieces = f"_v{self.temp}"
        result = self.expr(target.base)
        offset = sum(item.width for item in target.items)
        updates = []
        for item in target.items:
            offset -= item.width
            part = f"(({pieces} >> {offset}) & {mask(item.width):#x})"
            lo = self.item_lo(item)
            field = f"({mask(item.width):#x} << {lo})"
            updates.append((field, f"({part} << {lo})"))
        expr = result
        for field, shifted in updates:
            expr = f"(({expr}) & ~{field} | {shifted})"
        if any(item.static_lo is None for item in target.items):
            expr = f"({expr}) & {mask(width_of(target.base.ty)):#x}"  # a dynamic slice may overhang
        # Bind the value once; a walrus keeps this an expression.
        return f"(({pieces} := {value}), {expr})[1]"

    def item_lo(self, item: s.SliceItem) -> str:
        if item.static_lo is not None:
            return str(item.static_lo)
        lo = item.second if item.kind == "range" else item.first
        assert lo is not None
        return f"({self.expr(lo)})"

    def checked_index(self, expr: s.Index) -> str:
        assert isinstance(expr.base.ty, Array)
        if isinstance(expr.index, s.IntLit):
            if not 0 <= expr.index.value < expr.base.ty.length:
                return f"check_index({expr.index.value}, {expr.base.ty.length}, {str(expr.loc)!r})"
            return str(expr.index.value)
        return f"check_index({self.expr(expr.index)}, {expr.base.ty.length}, {str(expr.loc)!r})"

    # ---- expressions -----------------------------------------------------------------

    def expr(self, e: s.Expr) -> str:
        if isinstance(e, s.IntLit):
            return str(e.value)
        if isinstance(e, s.BitsLit):
            return f"{e.value:#x}"
        if isinstance(e, s.BoolLit):
            return str(e.value)
        if isinstance(e, s.EnumLit):
            return str(e.value)
        scalar = self.scalar_path(e) if isinstance(e, s.Var | s.Field) else None
        if scalar is not None:
            return self.pattern(*scalar)
        if isinstance(e, s.Var):
            if e.scope == "global":
                return f"S.{e.name}"
            return self.subst.get(e.name, local_name(e.name))
        if isinstance(e, s.Unknown):
            return self.unknown(e.ty, e.loc)
        if isinstance(e, s.Call):
            return self.call(e)
        if isinstance(e, s.BinOp):
            return self.binop(e)
        if isinstance(e, s.UnOp):
            return self.unop(e)
        if isinstance(e, s.Slice):
            return self.slice(e)
        if isinstance(e, s.Index):
            if isinstance(e.base.ty, Map):
                default = repr(zero_value(e.base.ty.elem))
                return f"{self.expr(e.base)}.get({self.expr(e.index)}, {default})"
            return f"{self.expr(e.base)}[{self.checked_index(e)}]"
        if isinstance(e, s.Field):
            assert isinstance(e.base.ty, Record)
            return f"{self.expr(e.base)}[{e.base.ty.index_of(e.name)}]"
        if isinstance(e, s.InSet):
            self.temp += 1
            name = f"_in{self.temp}"
            tests = " or ".join(self.match(name, p) for p in e.patterns)
            return f"(({name} := {self.expr(e.subject)}), ({tests}))[1]"
        if isinstance(e, s.CondExpr):
            return f"({self.expr(e.then)} if {self.expr(e.cond)} else {self.expr(e.orelse)})"
        if isinstance(e, s.Forall):
            return f"_not_executable({str(e.loc)!r})"
        raise AssertionError(f"unexpected expression {e}")

    def unknown(self, ty: Type | None, loc: s.Loc) -> str:
        if isinstance(ty, Bool):
            return f"bool(S.oracle.choose({loc.key!r}, 1))"
        if isinstance(ty, Int):
            return f"wrap(S.oracle.choose({loc.key!r}, 64))"
        return f"S.oracle.choose({loc.key!r}, {width_of(ty)})"

    def call(self, e: s.Call) -> str:
        args = [self.expr(a) for a in e.args]
        if e.func not in BUILTINS:
            return self.user_call(e.func, args, [self.scalar_path(a) for a in e.args])
        first = e.args[0].ty
        width = width_of(first)
        if e.func in {"UInt", "ZeroExtend"}:
            return args[0]
        if e.func == "SInt":
            bind, use = self.shift_amount(args[0])
            return f"({use} - {1 << width:#x} if {bind} & {1 << (width - 1):#x} else {use})"
        if e.func == "SignExtend":
            return f"sign_extend({args[0]}, {width}, {width_of(e.ty)})"
        if e.func == "Zeros":
            return "0"
        if e.func == "Ones":
            return f"{mask(width_of(e.ty)):#x}"
        if e.func == "IsZero":
            return f"({args[0]} == 0)"
        if e.func == "IsOnes":
            return f"({args[0]} == {mask(width):#x})"
        if e.func == "Align":
            keep = f"~({args[1]} - 1)"
            return f"({args[0]} & {keep})" if isinstance(first, Int) else (
                f"({args[0]} & {keep} & {mask(width):#x})"
            )
        if e.func in {"LSL", "LSR"}:
            bind, use = self.shift_amount(args[1])
            shifted = f"(({args[0]} << {use}) & {mask(width):#x})" if e.func == "LSL" else (
                f"({args[0]} >> {use})"
            )
            # The amount is a 64-bit integer compared unsigned, as in the symbolic semantics: a
            # negative one is out of range, like any at least the width.
            return f"({shifted} if 0 <= {bind} < {width} else 0)"
        if e.func == "ASR":
            return (f"((sint({args[0]}, {width}) >> min({args[1]} & {mask(INTEGER_BITS):#x}, {width}))"
                    f" & {mask(width):#x})")
        if e.func == "Min":
            return f"min({args[0]}, {args[1]})"
        if e.func == "Max":
            return f"max({args[0]}, {args[1]})"
        raise AssertionError(f"builtin {e.func} has no concrete meaning")

    def user_call(
        self, name: str, args: list[str], scalars: list[tuple[str, tuple[int, ...], Type] | None]
    ) -> str:
        """A call; a function whose body is only decisions and returns becomes an expression.

        The arguments are bound once, in order, to fresh names (as a call would
        evaluate them), then the body's conditional expression uses them. A
        scalar-replaced record argument is not assembled: the body reads its leaves.
        """
        func = self.p.functions[name]
        simple = all(
            a.isidentifier() or a.lstrip("-").isdigit() or v for a, v in zip(args, scalars, strict=True)
        )
        inlined = self.inline[name] and (simple or len(func.body) == 1)
        if not inlined and not self.straight[name]:
            return f"{py_name(name)}({', '.join(['S', *args])})"
        saved = self.subst, self.ranges, self.scalar, self.alias, self.leaf_env
        bindings = []
        self.subst, self.scalar, self.alias, self.leaf_env = {}, {}, {}, {}
        for param, arg, scalar in zip(func.params, args, scalars, strict=True):
            if scalar is not None:
                self.alias[param.name] = scalar
            elif arg.isidentifier() or arg.lstrip("-").isdigit():
                self.subst[param.name] = arg
            else:
                self.temp += 1
                self.subst[param.name] = f"_a{self.temp}"
                bindings.append(f"(_a{self.temp} := {arg})")
        self.ranges = RangeAnalysis(func)
        if inlined:
            code = self.body_expression(func.body)
        else:
            self.scalar = _record_locals(func)
            code = self.straight_expression(func.body)
        self.subst, self.ranges, self.scalar, self.alias, self.leaf_env = saved
        if not bindings:
            return f"({code})"
        return f"({', '.join(bindings)}, {code})[{len(bindings)}]"

    def straight_expression(self, stmts: list[s.Stmt]) -> str:
        """A straight-line body (declarations and assignments, then a return) as one expression.

        Each local, and each leaf of a record local, stands for the expression last
        assigned to it; `_straight` admits only bodies whose expressions are pure, so
        repeating one is safe.
        """
        *body, last = stmts
        for stmt in body:
            if isinstance(stmt, s.LocalDecl):
                assert stmt.ty is not None
                target: s.Expr = s.Var(stmt.loc, name=stmt.name, scope="local")
                target.ty = stmt.ty
                value = stmt.value
            else:
                assert isinstance(stmt, s.Assign)
                target, value = stmt.target, stmt.value
            self.bind(target, value)
        assert isinstance(last, s.Return) and last.value is not None
        return self.expr(last.value)

    def bind(self, target: s.Expr, value: s.Expr | None) -> None:
        """One step of `straight_expression`: the target now holds `value` (None: zero)."""
        assert target.ty is not None
        scalar = self.scalar_path(target)
        if scalar is None:
            assert isinstance(target, s.Var)
            code = repr(zero_value(target.ty)) if value is None else self.expr(value)
            self.subst[target.name] = f"({code})"
            return
        name, path, ty = scalar
        if value is None or not isinstance(ty, Record):
            zero = zero_value(ty)
            sources = [repr(v) for v in _flatten(zero)] if value is None else [f"({self.expr(value)})"]
        else:
            source = self.scalar_path(value)
            assert source is not None, "_straight admits only copies between record locals"
            sources = [code for code, _ in self.leaves(*source)]
        for (leaf, _), code in zip(self.leaves(name, path, ty, raw=True), sources, strict=True):
            self.leaf_env[leaf] = code

    def body_expression(self, stmts: list[s.Stmt]) -> str:
        """A block of asserts, decisions and returns, as one conditional expression."""
        first = stmts[0]
        rest = stmts[1:]
        if isinstance(first, s.Return):
            assert first.value is not None
            return self.expr(first.value)
        if isinstance(first, s.Assert):
            failure = f"_assertion_failed({str(first.loc)!r})"
            if isinstance(first.cond, s.BoolLit) and not first.cond.value:
                return failure
            return f"({self.body_expression(rest)} if {self.expr(first.cond)} else {failure})"
        if isinstance(first, s.If):
            assert first.orelse is not None
            code = self.body_expression(first.orelse)
            for cond, body in reversed(first.arms):
                code = f"({self.body_expression(body)} if {self.expr(cond)} else {code})"
            return code
        assert isinstance(first, s.Case) and first.otherwise is not None
        self.temp += 1
        subject = f"_c{self.temp}"
        code = self.body_expression(first.otherwise)
        for patterns, body in reversed(first.arms):
            test = " or ".join(self.match(subject, p) for p in patterns)
            code = f"({self.body_expression(body)} if {test} else {code})"
        return f"(({subject} := {self.expr(first.subject)}), {code})[1]"

    def shift_amount(self, amount: str) -> tuple[str, str]:
        """(binding, use) for a value used twice: bind it once if it is not simple."""
        if amount.lstrip("-").isdigit() or amount.isidentifier():
            return amount, amount
        self.temp += 1
        name = f"_n{self.temp}"
        return f"({name} := {amount})", name

    def binop(self, e: s.BinOp) -> str:
        op = e.op
        left, right = self.expr(e.left), self.expr(e.right)
        if op == "&&":
            return f"({left} and {right})"
        if op == "||":
            return f"({left} or {right})"
        if op == "-->":
            return f"((not {left}) or {right})"
        if op == ":":
            if isinstance(e.right, s.BitsLit) and e.right.value == 0:
                return f"({left} << {width_of(e.right.ty)})"
            return f"(({left} << {width_of(e.right.ty)}) | {right})"
        if op in {"==", "!="}:
            for pattern, other in ((e.right, left), (e.left, right)):
                if isinstance(pattern, s.BitsLit) and pattern.care != mask(pattern.width):
                    test = f"(({other} & {pattern.care:#x}) == {pattern.value:#x})"
                    return test if op == "==" else f"(not {test})"
            return f"({left} {op} {right})"
        if op in {"<", "<=", ">", ">="}:
            return f"({left} {op} {right})"
        if op in {"AND", "OR", "EOR"}:
            python = {"AND": "&", "OR": "|", "EOR": "^"}[op]
            return f"({left} {python} {right})"
        if isinstance(e.ty, Int):
            if op == "DIV":
                return f"({left} // {right})"
            if op == "MOD":
                return f"({left} % {right})"
            return self.wrapped(f"{left} {op} {right}", e)
        return f"(({left} {op} {right}) & {mask(width_of(e.ty)):#x})"

    def wrapped(self, code: str, e: s.Expr) -> str:
        """Integer arithmetic, wrapped to 64 bits unless its range shows it cannot overflow."""
        assert self.ranges is not None
        if self.ranges.of(e).fits:
            return f"({code})"
        return f"wrap({code})"

    def unop(self, e: s.UnOp) -> str:
        operand = self.expr(e.operand)
        if e.op == "!":
            return f"(not {operand})"
        if e.op == "NOT":
            return f"({operand} ^ {mask(width_of(e.ty)):#x})"
        if isinstance(e.ty, Int):
            return self.wrapped(f"-{operand}", e)
        return f"((-{operand}) & {mask(width_of(e.ty)):#x})"

    def slice(self, e: s.Slice) -> str:
        base = self.expr(e.base)
        if len(e.items) > 1:
            self.temp += 1
            name = f"_s{self.temp}"
            parts = []
            offset = sum(item.width for item in e.items)
            for item in e.items:
                offset -= item.width
                parts.append(f"({self.item(name, item)} << {offset})")
            return f"(({name} := {base}), ({' | '.join(parts)}))[1]"
        return self.item(base, e.items[0])

    def item(self, base: str, item: s.SliceItem) -> str:
        lo = self.item_lo(item)
        if lo == "0":
            return f"({base} & {mask(item.width):#x})"
        return f"(({base} >> {lo}) & {mask(item.width):#x})"


def _record_locals(func: s.FuncDecl) -> dict[str, Record]:
    """The function's record-typed locals (parameters excluded: they arrive as tuples)."""
    params = {p.name for p in func.params}
    found: dict[str, Record] = {}

    def visit(stmts: list[s.Stmt]) -> None:
        for stmt in stmts:
            if isinstance(stmt, s.LocalDecl) and isinstance(stmt.ty, Record):
                found[stmt.name] = stmt.ty
            elif isinstance(stmt, s.Assign) and isinstance(stmt.target, s.Var):
                target = stmt.target
                if target.scope == "local" and target.name not in params and isinstance(target.ty, Record):
                    found[target.name] = target.ty
            elif isinstance(stmt, s.If):
                for _, body in stmt.arms:
                    visit(body)
                visit(stmt.orelse or [])
            elif isinstance(stmt, s.Case):
                for _, body in stmt.arms:
                    visit(body)
                visit(stmt.otherwise or [])
            elif isinstance(stmt, s.For):
                visit(stmt.body)

    visit(func.body)
    return found


def _flatten(value: object) -> list[object]:
    return [leaf for part in value for leaf in _flatten(part)] if isinstance(value, tuple) else [value]


def _straight(func: s.FuncDecl) -> bool:
    """Declarations and assignments of locals (record fields included), then a return; every
    expression pure (no UNKNOWN, no call but a builtin), every record assigned whole either
    zero or a copy of another record local. Such a function inlines as one expression."""
    if func.result_ty is None or len(func.body) < 2:
        return False
    *body, last = func.body
    if not isinstance(last, s.Return) or last.value is None or not _pure(last.value):
        return False
    for stmt in body:
        if isinstance(stmt, s.LocalDecl):
            value, target_ty = stmt.value, stmt.ty
        elif isinstance(stmt, s.Assign) and _field_chain_to_local(stmt.target):
            value, target_ty = stmt.value, stmt.target.ty
        else:
            return False
        if value is None:
            continue
        if not _pure(value):
            return False
        if isinstance(target_ty, Record) and not _field_chain_to_local(value):
            return False
    return True


def _field_chain_to_local(e: s.Expr) -> bool:
    while isinstance(e, s.Field):
        e = e.base
    return isinstance(e, s.Var) and e.scope == "local"


def _pure(e: s.Expr) -> bool:
    """No UNKNOWN and no call to a spec function anywhere in `e` (builtins are pure)."""
    if isinstance(e, s.IntLit | s.BitsLit | s.BoolLit | s.EnumLit | s.Var):
        return True
    if isinstance(e, s.Call):
        return e.func in BUILTINS and all(_pure(a) for a in e.args)
    if isinstance(e, s.BinOp):
        return _pure(e.left) and _pure(e.right)
    if isinstance(e, s.UnOp):
        return _pure(e.operand)
    if isinstance(e, s.Slice):
        items = [x for item in e.items for x in (item.first, item.second) if x is not None]
        return _pure(e.base) and all(_pure(x) for x in items)
    if isinstance(e, s.Index):
        return _pure(e.base) and _pure(e.index)
    if isinstance(e, s.Field):
        return _pure(e.base)
    if isinstance(e, s.InSet):
        return _pure(e.subject) and all(_pure(p) for p in e.patterns)
    if isinstance(e, s.CondExpr):
        return _pure(e.cond) and _pure(e.then) and _pure(e.orelse)
    return False


def _inlinable(func: s.FuncDecl) -> bool:
    """A body made only of asserts, if/case decisions and returns of a value."""
    return func.result_ty is not None and _decides(func.body)


def _decides(stmts: list[s.Stmt]) -> bool:
    if not stmts:
        return False
    first, rest = stmts[0], stmts[1:]
    if isinstance(first, s.Return):
        return first.value is not None
    if isinstance(first, s.Assert):
        failing = isinstance(first.cond, s.BoolLit) and not first.cond.value
        return failing or _decides(rest)
    if isinstance(first, s.If) and not rest and first.orelse is not None:
        return all(_decides(b) for _, b in first.arms) and _decides(first.orelse)
    if isinstance(first, s.Case) and not rest and first.otherwise is not None:
        return all(_decides(b) for _, b in first.arms) and _decides(first.otherwise)
    return False


def compile_program(program: Program, trace: bool = False, loaded: str | None = None) -> CompiledSpec:
    """Compile every function; a traced build appends each decision to `module._T`. Given the
    load's cache key (`LoadedSpec.cache_key`), the code comes from the on-disk cache when this
    engine and this Python have compiled that load before (`hypspec.cache`)."""
    entry = cache.key("code", loaded, str(trace), sys.version) if loaded is not None else None
    found = _cached_code(entry) if entry is not None else None
    if found is None:
        source = _Emitter(program, trace).module()
        code = compile(source, "<hypspec compiled spec>", "exec")
        if entry is not None:
            cache.write(entry, marshal.dumps((source, code)))
    else:
        source, code = found
    module = ModuleType("hypspec_compiled_spec")
    module.__dict__["_T"] = []
    module.__dict__["_not_executable"] = _not_executable
    module.__dict__["_assertion_failed"] = _assertion_failed
    exec(code, module.__dict__)
    return CompiledSpec(module, source)


def _cached_code(entry: str) -> tuple[str, CodeType] | None:
    data = cache.read(entry)
    if data is None:
        return None
    try:
        source, code = marshal.loads(data)
    except (EOFError, ValueError, TypeError):  # a damaged entry is a miss
        return None
    return (source, code) if isinstance(source, str) and isinstance(code, CodeType) else None


def _assertion_failed(loc: str) -> None:
    raise runtime.SpecAssertionError(loc)


def _not_executable(loc: str) -> bool:
    raise runtime.NotExecutable(f"{loc}: forall has no concrete meaning; it is proof-only")
