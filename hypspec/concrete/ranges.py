"""Integer ranges, so compiled code wraps to 64 bits only where it could overflow.

Integers are 64-bit two's complement in both semantics. Python's ints never
overflow, so the compiled code must wrap every result that could leave the
64-bit range, and that costs a call per operation. Most spec integers are
levels, shifts and indices with tiny ranges; this analysis bounds each local
(flow-insensitively: the hull of everything assigned to it) and each
expression, and the compiler omits the wrap where the bound shows it is
never needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypspec.lang import syntax as s
from hypspec.lang.types import INTEGER_BITS, Bits, Int

LOW, HIGH = -(1 << (INTEGER_BITS - 1)), (1 << (INTEGER_BITS - 1)) - 1


@dataclass(frozen=True)
class Range:
    low: int
    high: int

    @property
    def fits(self) -> bool:
        return self.low >= LOW and self.high <= HIGH

    def hull(self, other: Range | None) -> Range:
        if other is None:
            return self
        return Range(min(self.low, other.low), max(self.high, other.high))


FULL = Range(LOW, HIGH)


class RangeAnalysis:
    """Bounds for the integer locals of one function and for its expressions."""

    def __init__(self, func: s.FuncDecl) -> None:
        self.locals: dict[str, Range] = {p.name: FULL for p in func.params if isinstance(p.ty, Int)}
        self._solve(func.body)

    def _solve(self, body: list[s.Stmt]) -> None:
        for _ in range(4):
            before = dict(self.locals)
            self._visit(body)
            if self.locals == before:
                return
        for name in self.locals:  # not settled: give up on precision, stay sound
            self.locals[name] = FULL

    def _visit(self, stmts: list[s.Stmt]) -> None:
        for stmt in stmts:
            target = stmt.target if isinstance(stmt, s.Assign) else None
            if isinstance(target, s.Var) and isinstance(target.ty, Int):
                self._widen(target.name, self.of(stmt.value))  # type: ignore[union-attr]
            elif isinstance(stmt, s.LocalDecl) and isinstance(stmt.ty, Int):
                value = self.of(stmt.value) if stmt.value is not None else Range(0, 0)
                self._widen(stmt.name, value)
            elif isinstance(stmt, s.For):
                self.locals[stmt.var] = Range(min(stmt.first, stmt.last), max(stmt.first, stmt.last))
                self._visit(stmt.body)
            elif isinstance(stmt, s.If):
                for _, body in stmt.arms:
                    self._visit(body)
                self._visit(stmt.orelse or [])
            elif isinstance(stmt, s.Case):
                for _, body in stmt.arms:
                    self._visit(body)
                self._visit(stmt.otherwise or [])

    def _widen(self, name: str, value: Range) -> None:
        self.locals[name] = value.hull(self.locals.get(name))

    def of(self, expr: s.Expr | None) -> Range:
        """A range that contains every value the integer expression can take."""
        if isinstance(expr, s.IntLit):
            return Range(expr.value, expr.value)
        if isinstance(expr, s.Var) and expr.scope == "local":
            return self.locals.get(expr.name, FULL)
        if isinstance(expr, s.Call) and expr.func in {"UInt", "SInt"} and expr.args:
            width = expr.args[0].ty.width if isinstance(expr.args[0].ty, Bits) else INTEGER_BITS
            if expr.func == "UInt":
                return Range(0, (1 << width) - 1)
            return Range(-(1 << (width - 1)), (1 << (width - 1)) - 1)
        if isinstance(expr, s.BinOp) and expr.op in {"+", "-", "*"} and isinstance(expr.ty, Int):
            return _fitting(self._arith(expr.op, self.of(expr.left), self.of(expr.right)))
        if isinstance(expr, s.UnOp) and expr.op == "-" and isinstance(expr.ty, Int):
            a = self.of(expr.operand)
            return _fitting(Range(-a.high, -a.low))
        return FULL

    @staticmethod
    def _arith(op: str, a: Range, b: Range) -> Range:
        if op == "+":
            return Range(a.low + b.low, a.high + b.high)
        if op == "-":
            return Range(a.low - b.high, a.high - b.low)
        corners = [a.low * b.low, a.low * b.high, a.high * b.low, a.high * b.high]
        return Range(min(corners), max(corners))


def _fitting(result: Range) -> Range:
    """A result that may overflow is wrapped, and then can be anything."""
    return result if result.fits else FULL
