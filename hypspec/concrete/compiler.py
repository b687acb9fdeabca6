"""The concrete semantics: compile the checked tree to Python source and load it.

Each spec function becomes a Python function `f(S, *args)` where `S` is the
architectural state (one attribute per global). The generated code keeps the
spec's shape, with a `# file:line` comment per statement, so a stack trace
points back at the chapter. ARM names are mangled `.` -> `_`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from hypspec.concrete import runtime
from hypspec.concrete.ranges import RangeAnalysis
from hypspec.lang import syntax as s
from hypspec.lang.builtins import BUILTINS
from hypspec.lang.checker import Program, mask
from hypspec.lang.types import Array, Bool, Int, Map, Record, Type, width_of, zero_value


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
        self.temp = 0
        self.ranges: RangeAnalysis | None = None
        self.subst: dict[str, str] = {}  # parameter -> argument code, inside an inlined body
        # A traced build keeps every function whole, so each decision is recorded.
        self.inline = {name: _inlinable(f) and not trace for name, f in program.functions.items()}

    # ---- module ----------------------------------------------------------------------

    def module(self) -> str:
        self.lines = [
            "# Generated from the spec chapters by hypspec.concrete.compiler. Do not edit.",
            "from hypspec.concrete.runtime import (SpecAssertionError, NotExecutable,",
            "    wrap, sint, sign_extend, check_index, tuple_set)",
            "",
        ]
        seen: dict[str, str] = {}
        for name, func in self.p.functions.items():
            mangled = py_name(name)
            if mangled in seen:
                raise ValueError(f"{name} and {seen[mangled]} compile to the same Python name")
            seen[mangled] = name
            self.function(func)
        return "\n".join(self.lines) + "\n"

    def function(self, func: s.FuncDecl) -> None:
        self.ranges = RangeAnalysis(func)
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
            self.assign(stmt.target, self.expr(stmt.value), depth, stmt.loc)
        elif isinstance(stmt, s.LocalDecl):
            assert stmt.ty is not None
            value = self.expr(stmt.value) if stmt.value is not None else repr(zero_value(stmt.ty))
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
        elif isinstance(stmt, s.For):
            step = -1 if stmt.down else 1
            stop = stmt.last + step
            loop = f"for {local_name(stmt.var)} in range({stmt.first}, {stop}, {step}):"
            self.emit(depth, f"{loop}  # {stmt.loc}")
            self.block(stmt.body, depth + 1)

    def case(self, stmt: s.Case, depth: int) -> None:
        self.temp += 1
        subject = f"_case{self.temp}"
        self.emit(depth, f"{subject} = {self.expr(stmt.subject)}  # {stmt.loc}")
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

    def match(self, subject: str, pattern: s.Expr) -> str:
        if isinstance(pattern, s.BitsLit) and pattern.care != mask(pattern.width):
            return f"({subject} & {pattern.care:#x}) == {pattern.value:#x}"
        return f"{subject} == {self.expr(pattern)}"

    def assign(self, target: s.Expr, value: str, depth: int, loc: s.Loc) -> None:
        """Assign through a chain of field, slice and index selections."""
        if isinstance(target, s.Var):
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
            return self.user_call(e.func, args)
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
            return f"({shifted} if {bind} < {width} else 0)"
        if e.func == "ASR":
            return f"((sint({args[0]}, {width}) >> min({args[1]}, {width})) & {mask(width):#x})"
        if e.func == "Min":
            return f"min({args[0]}, {args[1]})"
        if e.func == "Max":
            return f"max({args[0]}, {args[1]})"
        raise AssertionError(f"builtin {e.func} has no concrete meaning")

    def user_call(self, name: str, args: list[str]) -> str:
        """A call; a function whose body is only decisions and returns becomes an expression.

        The arguments are bound once, in order, to fresh names (as a call would
        evaluate them), then the body's conditional expression uses them.
        """
        func = self.p.functions[name]
        simple = all(a.isidentifier() or a.lstrip("-").isdigit() for a in args)
        if not self.inline[name] or not (simple or len(func.body) == 1):
            return f"{py_name(name)}({', '.join(['S', *args])})"
        saved = self.subst, self.ranges
        bindings = []
        self.subst = {}
        for param, arg in zip(func.params, args, strict=True):
            if arg.isidentifier() or arg.lstrip("-").isdigit():
                self.subst[param.name] = arg
            else:
                self.temp += 1
                self.subst[param.name] = f"_a{self.temp}"
                bindings.append(f"(_a{self.temp} := {arg})")
        self.ranges = RangeAnalysis(func)
        code = self.body_expression(func.body)
        self.subst, self.ranges = saved
        if not bindings:
            return f"({code})"
        return f"({', '.join(bindings)}, {code})[{len(bindings)}]"

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


def compile_program(program: Program, trace: bool = False) -> CompiledSpec:
    """Compile every function; a traced build appends each decision to `module._T`."""
    source = _Emitter(program, trace).module()
    module = ModuleType("hypspec_compiled_spec")
    module.__dict__["_T"] = []
    module.__dict__["_not_executable"] = _not_executable
    module.__dict__["_assertion_failed"] = _assertion_failed
    code = compile(source, "<hypspec compiled spec>", "exec")
    exec(code, module.__dict__)
    return CompiledSpec(module, source)


def _assertion_failed(loc: str) -> None:
    raise runtime.SpecAssertionError(loc)


def _not_executable(loc: str) -> bool:
    raise runtime.NotExecutable(f"{loc}: forall has no concrete meaning; it is proof-only")
