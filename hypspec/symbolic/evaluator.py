"""The symbolic semantics: evaluate the checked tree to Z3 terms (QF_ABV).

Execution is *guarded* rather than forked: every statement runs once, under
the condition that control reaches it, and an assignment becomes
`x := If(reached, new, old)`. A `return` records its value under its guard
and marks the rest of the function unreached. Branches therefore merge with
`If` as they go, loops unroll (their bounds are constants), calls inline, and
there is no path explosion. Values that are known constants stay Python ints
and bools, so constant parts of the spec fold before Z3 sees them; the folding
reuses the concrete semantics' own definitions of each operation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Union

import z3

from hypspec.lang import syntax as s
from hypspec.lang.checker import Program, mask, to_signed
from hypspec.lang.types import (
    INTEGER_BITS,
    Array,
    Bits,
    Bool,
    Enum,
    Int,
    Map,
    Record,
    Type,
    width_of,
    zero_value,
)

SymValue = Union[int, bool, z3.ExprRef, tuple]  # noqa: UP007 - used at run time
Guard = Union[bool, z3.BoolRef]  # noqa: UP007


def sort_of(ty: Type) -> z3.SortRef:
    if isinstance(ty, Bool):
        return z3.BoolSort()
    if isinstance(ty, Bits):
        return z3.BitVecSort(ty.width)
    if isinstance(ty, Enum):
        return z3.BitVecSort(ty.width)
    if isinstance(ty, Int):
        return z3.BitVecSort(INTEGER_BITS)
    if isinstance(ty, Map):
        return z3.ArraySort(z3.BitVecSort(ty.key.width), sort_of(ty.elem))
    raise TypeError(f"{ty} has no single Z3 sort")


def to_z3(value: SymValue, ty: Type) -> z3.ExprRef:
    """A scalar value as a Z3 term (constants become literals)."""
    if isinstance(value, z3.ExprRef):
        return value
    if isinstance(ty, Bool):
        return z3.BoolVal(bool(value))
    return z3.BitVecVal(int(value) & mask(width_of(ty)), width_of(ty))


def fresh(name: str, ty: Type) -> SymValue:
    """An unconstrained value of a type (records and arrays component-wise)."""
    if isinstance(ty, Record):
        return tuple(fresh(f"{name}.{f}", t) for f, t in ty.fields)
    if isinstance(ty, Array):
        return tuple(fresh(f"{name}[{i}]", ty.elem) for i in range(ty.length))
    return z3.Const(name, sort_of(ty))


def domain(value: SymValue, ty: Type) -> list[z3.BoolRef]:
    """Constraints that keep a fresh value inside its type (enumerations)."""
    if isinstance(ty, Enum) and isinstance(value, z3.ExprRef):
        return [z3.ULT(value, len(ty.members))] if len(ty.members) < 2**ty.width else []
    if isinstance(ty, Record):
        assert isinstance(value, tuple)
        return [c for v, (_, t) in zip(value, ty.fields, strict=True) for c in domain(v, t)]
    if isinstance(ty, Array):
        assert isinstance(value, tuple)
        return [c for v in value for c in domain(v, ty.elem)]
    return []


def g_and(a: Guard, b: Guard) -> Guard:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return z3.And(a, b)


def g_or(a: Guard, b: Guard) -> Guard:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return z3.Or(a, b)


def g_not(a: Guard) -> Guard:
    if isinstance(a, bool):
        return not a
    return z3.Not(a)


def merge(guard: Guard, new: SymValue, old: SymValue, ty: Type) -> SymValue:
    """`If(guard, new, old)`, component-wise for records and arrays."""
    if guard is True:
        return new
    if guard is False:
        return old
    if isinstance(ty, Record):
        return tuple(
            merge(guard, n, o, t) for n, o, (_, t) in zip(new, old, ty.fields, strict=True)  # type: ignore[arg-type]
        )
    if isinstance(ty, Array):
        return tuple(merge(guard, n, o, ty.elem) for n, o in zip(new, old, strict=True))  # type: ignore[arg-type]
    if not isinstance(new, z3.ExprRef) and not isinstance(old, z3.ExprRef) and new == old:
        return new
    return z3.If(guard, to_z3(new, ty), to_z3(old, ty))


# Structure of map keys and stores, by Z3 node id. Each entry keeps its node alive, so an id is
# never reused for another node while it is cached.
_KEY_PARTS: dict[int, tuple[z3.ExprRef, tuple]] = {}
_STORES: dict[int, tuple[z3.ExprRef, tuple, z3.ExprRef, z3.ExprRef]] = {}
# A map after `clear M[k] where cond;`, by node id: the map, its bound key, the condition over
# that key (the path's guard included), the element's zero and the map before the clear.
_CLEARS: dict[int, tuple[z3.ExprRef, z3.ExprRef, z3.BoolRef, z3.ExprRef, z3.ExprRef]] = {}


def _key_parts(key: z3.ExprRef) -> tuple:
    """A key as a tuple of parts, each (kind, width, payload): ('v', width, value) for a
    constant, ('t', width, node id) for any other term; a concatenation is its parts' parts."""
    ident = key.get_id()
    cached = _KEY_PARTS.get(ident)
    if cached is not None:
        return cached[1]
    if z3.is_bv_value(key):
        parts: tuple = (("v", key.size(), key.as_long()),)  # type: ignore[attr-defined]
    elif z3.is_app_of(key, z3.Z3_OP_CONCAT):
        parts = tuple(p for child in key.children() for p in _key_parts(child))
    else:
        parts = (("t", key.size(), ident),)  # type: ignore[attr-defined]
    if len(_KEY_PARTS) > 200_000:
        _KEY_PARTS.clear()
    _KEY_PARTS[ident] = (key, parts)
    return parts


def key_terms(key: z3.ExprRef) -> list[z3.ExprRef]:
    """A map key as the terms it concatenates (`v : i<6:0>` is `v` and the index), constants
    included."""
    if z3.is_app_of(key, z3.Z3_OP_CONCAT):
        return [p for child in key.children() for p in key_terms(child)]
    return [key]


def _keys_compare(a: tuple, b: tuple) -> bool | None:
    """True if two keys (as parts) are surely equal, False if surely different, None if it depends.

    Keys are mostly an id joined to a constant index (`v : i<6:0>`): when both keys split at the
    same bit positions, two constant parts that differ make the keys differ."""
    if a == b:
        return True
    if len(a) != len(b) or any(x[1] != y[1] for x, y in zip(a, b, strict=True)):
        return None
    if any(x[0] == "v" and y[0] == "v" and x[2] != y[2] for x, y in zip(a, b, strict=True)):
        return False
    return None


def _store(array: z3.ExprRef) -> tuple[z3.ExprRef, tuple, z3.ExprRef, z3.ExprRef] | None:
    ident = array.get_id()
    cached = _STORES.get(ident)
    if cached is None:
        if not z3.is_store(array):
            return None
        if len(_STORES) > 200_000:
            _STORES.clear()
        cached = (array, _key_parts(array.arg(1)), array.arg(0), array.arg(2))
        _STORES[ident] = cached
    return cached


# How many stores whose key may or may not equal the one read `select` turns into a test each.
_UNDECIDED_STORES = 48


def select(array: z3.ArrayRef, key: z3.BitVecRef) -> z3.ExprRef:
    """`Select(array, key)` over a chain of stores, resolved as far as the keys' structure allows:
    a store to a key that surely differs is skipped, one to the same key gives its value, and one
    that may or may not alias becomes `If(its key == key, its value, the rest)`. A read after a
    long run of writes to other indexes of the same id thus stays as small as the writes that
    matter, instead of leaving the solver a deep chain of stores to reason through."""
    parts = _key_parts(key)
    pending: list[tuple[z3.ExprRef, z3.ExprRef]] = []
    while True:
        store = _store(array)
        if store is None:
            break
        decided = _keys_compare(store[1], parts)
        if decided is True:
            return _through_stores(pending, store[3])
        if decided is None:
            if len(pending) == _UNDECIDED_STORES:
                return _through_stores(pending, z3.Select(array, key))
            pending.append((store[0].arg(1) == key, store[3]))
        array = store[2]
    cleared = _CLEARS.get(array.get_id())
    if cleared is not None:
        _, bound, cond, empty, before = cleared
        matches = z3.substitute(cond, (bound, key))
        base = empty if z3.is_true(matches) else z3.If(matches, empty, select(before, key))  # type: ignore[arg-type]
    elif z3.is_const_array(array):
        base = array.arg(0)
    else:
        base = z3.Select(array, key)
    return _through_stores(pending, base)


def cleared_map(before: z3.ArrayRef, bound: z3.ExprRef, cond: z3.BoolRef, empty: z3.ExprRef) -> z3.ArrayRef:
    """The map after `clear M[k] where cond;` (`bound` is `k`): a lambda, which `select` reads
    by putting the key read in for `k`, so no query ever sees the lambda itself unless a map is
    compared whole."""
    after = z3.Lambda([bound], z3.If(cond, empty, z3.Select(before, bound)))
    _CLEARS[after.get_id()] = (after, bound, cond, empty, before)
    return after


def _through_stores(pending: list[tuple[z3.ExprRef, z3.ExprRef]], rest: z3.ExprRef) -> z3.ExprRef:
    for same, value in reversed(pending):
        rest = z3.If(same, value, rest)
    return rest


def zero(ty: Type) -> SymValue:
    """The concrete zero, except that an unwritten map is a constant Z3 array."""
    if isinstance(ty, Map):
        return z3.K(z3.BitVecSort(ty.key.width), to_z3(zero(ty.elem), ty.elem))
    return zero_value(ty)  # type: ignore[return-value]


def _rejoin(live: Guard, arms: list[tuple[Guard, Guard]]) -> Guard:
    """The guard after a branch: `live` itself when no arm returned (the usual case, and the
    simplest term), else the disjunction of what each arm fell through with."""
    if all(after is guard for guard, after in arms):
        return live
    joined: Guard = False
    for _, after in arms:
        joined = g_or(joined, after)
    return joined


@dataclass
class _Frame:
    locals: dict[str, SymValue]
    types: dict[str, Type]
    result: SymValue | None = None

    def bind(self, name: str, value: SymValue, live: Guard, ty: Type) -> None:
        """Assign a local under `live`. Its first binding in the call is the value itself, not
        an ite on the path that reached it: no path reads a local before binding it (the
        compiled model would fail on such a read). So a word index bound in a function called
        under a guard (`v = HTPIDR<7:0>`, `b = KVM.CP15Base`) stays the term it is, and so do the
        map keys built from it."""
        if name in self.locals:
            self.locals[name] = merge(live, value, self.locals[name], ty)
        else:
            self.locals[name] = value


@dataclass
class Decision:
    """One `if` or `case` reached during evaluation: the guard of taking each arm.

    The last guard is the implicit arm: `else`/`otherwise`, or falling through
    a statement that has none. Arms are numbered as the concrete trace numbers them.
    """

    loc: str
    arms: list[Guard]


@dataclass
class Invocation:
    """One evaluated call of a spec function and the decisions made inside it."""

    function: str
    reached: Guard
    decisions: list[Decision] = field(default_factory=list)


@dataclass(frozen=True)
class MemoryAccess:
    function: str  # the spec function that made the access
    guard: Guard
    map: str
    key: z3.ExprRef
    write: bool


@dataclass
class Evaluation:
    """What evaluating a call produced: its result and the final global state."""

    result: SymValue | None
    globals: dict[str, SymValue]
    assertions: list[tuple[str, z3.BoolRef]]  # (location, must hold) from spec asserts
    unknowns: list[tuple[str, z3.ExprRef]]  # (location, fresh constant) from UNKNOWN
    invocations: list[Invocation]
    accesses: list[MemoryAccess]


@dataclass
class SymbolicEvaluator:
    program: Program
    globals: dict[str, SymValue] = field(default_factory=dict)
    assertions: list[tuple[str, z3.BoolRef]] = field(default_factory=list)
    unknowns: list[tuple[str, z3.ExprRef]] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    accesses: list[MemoryAccess] = field(default_factory=list)
    # Decides that a path condition cannot hold (under whatever the caller assumes), so that the
    # arm it guards is not evaluated: see `hypspec.model.induction`. None: every arm is evaluated.
    infeasible: Callable[[z3.BoolRef], bool] | None = None
    _active: list[Invocation] = field(default_factory=list)

    def call(self, name: str, args: list[SymValue]) -> Evaluation:
        """Evaluate one function on the current global state (which it updates)."""
        result = self._invoke(name, args, True)
        return Evaluation(result, dict(self.globals), list(self.assertions), list(self.unknowns),
                          list(self.invocations), list(self.accesses))

    # ---- statements ------------------------------------------------------------------

    def _invoke(self, name: str, args: list[SymValue], guard: Guard) -> SymValue | None:
        func = self.program.functions[name]
        types = self.program.locals[func.name]
        frame = _Frame({p.name: a for p, a in zip(func.params, args, strict=True)}, types)
        invocation = Invocation(name, guard)
        self.invocations.append(invocation)
        self._active.append(invocation)
        self._block(func.body, frame, guard)
        self._active.pop()
        if frame.result is None and func.result_ty is not None:
            return zero(func.result_ty)  # called only where it is never reached (guard FALSE)
        return frame.result

    def _split(self, live: Guard, cond: Guard) -> tuple[Guard, Guard]:
        """The guards of taking a branch on `cond` under `live` and of not taking it. Where the
        caller's oracle shows one of them can never hold, it is False and the other is `live`
        itself, so the arm taken runs under the path's own guard, with no ite for a test whose
        outcome is already known."""
        taken, skipped = g_and(live, cond), g_and(live, g_not(cond))
        if self.infeasible is None:
            return taken, skipped
        if not isinstance(taken, bool) and self.infeasible(taken):
            return False, live
        if not isinstance(skipped, bool) and self.infeasible(skipped):
            return live, False
        return taken, skipped

    def _decision(self, stmt: s.Stmt) -> list[Guard]:
        """Record a decision where it starts (the order a concrete trace sees it in).

        The caller fills in the returned list of arm guards as it evaluates the arms.
        """
        decision = Decision(stmt.loc.key, [])
        self._active[-1].decisions.append(decision)
        return decision.arms

    def _block(self, stmts: list[s.Stmt], frame: _Frame, guard: Guard) -> Guard:
        """Evaluate a block under `guard`; return the guard under which it falls through (did not
        return).

        Each statement runs under the guard the one before it fell through with, so an early
        `if C then return;` leaves `guard AND NOT C` for the rest, rather than `guard AND NOT
        (guard AND C)`: the path conditions stay conjunctions of the tests taken, which keeps the
        solver's problems small (a loop of early returns otherwise nests the negations of every
        earlier path)."""
        live = guard
        for stmt in stmts:
            if live is False:
                break
            live = self._stmt(stmt, frame, live)
        return live

    def _stmt(self, stmt: s.Stmt, frame: _Frame, live: Guard) -> Guard:
        if isinstance(stmt, s.Assign):
            self._assign(stmt.target, self._expr(stmt.value, frame, live), frame, live)
        elif isinstance(stmt, s.LocalDecl):
            assert stmt.ty is not None
            value = self._expr(stmt.value, frame, live) if stmt.value is not None else zero(stmt.ty)
            frame.bind(stmt.name, value, live, stmt.ty)
        elif isinstance(stmt, s.Return):
            if stmt.value is not None:
                value = self._expr(stmt.value, frame, live)
                ty = stmt.value.ty
                assert ty is not None
                old = frame.result if frame.result is not None else value
                frame.result = merge(live, value, old, ty)
            return False
        elif isinstance(stmt, s.Assert):
            cond = self._expr(stmt.cond, frame, live)
            holds = z3.Implies(to_z3(live, Bool()), to_z3(cond, Bool()))
            if not z3.is_true(holds):
                self.assertions.append((str(stmt.loc), holds))
        elif isinstance(stmt, s.CallStmt):
            self._expr(stmt.call, frame, live)
        elif isinstance(stmt, s.If):
            rest: Guard = live
            arms = self._decision(stmt)
            through: list[tuple[Guard, Guard]] = []  # (an arm's guard, the guard it falls through with)
            for cond_expr, body in stmt.arms:
                if rest is False:  # an earlier arm is always taken: this one is never reached
                    arms.append(False)
                    continue
                taken, rest = self._split(rest, self._expr(cond_expr, frame, rest))
                arms.append(taken)
                through.append((taken, self._block(body, frame, taken)))
            arms.append(rest)
            after = rest if stmt.orelse is None else self._block(stmt.orelse, frame, rest)
            through.append((rest, after))
            return _rejoin(live, through)
        elif isinstance(stmt, s.Case):
            subject = self._expr(stmt.subject, frame, live)
            rest = live
            taken = self._decision(stmt)
            through = []
            for patterns, body in stmt.arms:
                hit: Guard = False
                for pattern in patterns:
                    hit = g_or(hit, self._match(subject, pattern, stmt.subject.ty))
                arm, rest = self._split(rest, hit)
                taken.append(arm)
                through.append((arm, self._block(body, frame, arm)))
            taken.append(rest)
            after = rest if stmt.otherwise is None else self._block(stmt.otherwise, frame, rest)
            through.append((rest, after))
            return _rejoin(live, through)
        elif isinstance(stmt, s.Clear):
            self._clear(stmt, frame, live)
        elif isinstance(stmt, s.For):
            step = -1 if stmt.down else 1
            for i in range(stmt.first, stmt.last + step, step):
                if live is False:
                    break
                frame.locals[stmt.var] = i
                live = self._block(stmt.body, frame, live)
        return live

    def _clear(self, stmt: s.Clear, frame: _Frame, live: Guard) -> None:
        """Every key the condition holds for, on this path, reads as zero afterwards. The key is
        a fresh constant while the condition is evaluated, bound by the lambda it ends up in.
        A clear names no key, so it is not a `MemoryAccess`."""
        ty = stmt.map.ty
        assert isinstance(ty, Map) and isinstance(stmt.map, s.Var)
        bound = fresh(f"clear!{stmt.key}@{stmt.loc}", ty.key)
        frame.locals[stmt.key] = bound
        cond = to_z3(g_and(live, self._expr(stmt.cond, frame, live)), Bool())
        before = self.globals[stmt.map.name]
        empty = to_z3(zero(ty.elem), ty.elem)
        self.globals[stmt.map.name] = cleared_map(before, bound, cond, empty)  # type: ignore[arg-type]

    def _assign(self, target: s.Expr, value: SymValue, frame: _Frame, live: Guard) -> None:
        if isinstance(target, s.Var):
            ty = target.ty
            assert ty is not None
            if target.scope == "global":
                self.globals[target.name] = merge(live, value, self.globals[target.name], ty)
            else:
                frame.bind(target.name, value, live, ty)
        elif isinstance(target, s.Field):
            assert isinstance(target.base.ty, Record)
            index = target.base.ty.index_of(target.name)
            assert index is not None
            base = self._expr(target.base, frame, live)
            assert isinstance(base, tuple)
            self._assign(target.base, (*base[:index], value, *base[index + 1 :]), frame, live)
        elif isinstance(target, s.Index):
            base = self._expr(target.base, frame, live)
            index = self._expr(target.index, frame, live)
            base_ty = target.base.ty
            if isinstance(base_ty, Map):
                key = to_z3(index, base_ty.key)
                self.accesses.append(
                    MemoryAccess(self._active[-1].function, live, _root_name(target.base), key, True)
                )
                # Guard the element, not the array: a chain of stores stays a chain, which
                # `select` below can see through.
                element = to_z3(value, base_ty.elem)
                if live is not True:
                    element = z3.If(live, element, select(base, key))  # type: ignore[arg-type]
                stored = z3.Store(base, key, element)  # type: ignore[arg-type]
                self._assign(target.base, stored, frame, True)
            else:
                assert isinstance(base_ty, Array) and isinstance(base, tuple)
                updated = tuple(
                    merge(self._equal_int(index, i), value, old, base_ty.elem)
                    for i, old in enumerate(base)
                )
                self._assign(target.base, updated, frame, live)
        elif isinstance(target, s.Slice):
            base = self._expr(target.base, frame, live)
            self._assign(target.base, self._slice_update(target, base, value, frame, live), frame, live)

    # ---- expressions -----------------------------------------------------------------

    def _expr(self, e: s.Expr | None, frame: _Frame, live: Guard) -> SymValue:
        assert e is not None
        if isinstance(e, s.IntLit | s.BoolLit):
            return e.value
        if isinstance(e, s.BitsLit):
            return e.value
        if isinstance(e, s.EnumLit):
            return e.value
        if isinstance(e, s.Var):
            if e.scope == "global":
                return self.globals[e.name]
            return frame.locals[e.name]
        if isinstance(e, s.Unknown):
            assert e.ty is not None
            key = e.loc.key
            const = z3.Const(f"unknown!{len(self.unknowns)}@{key}", sort_of(e.ty))
            self.unknowns.append((key, const))
            return const
        if isinstance(e, s.Call):
            args = [self._expr(a, frame, live) for a in e.args]
            if e.func in self.program.functions:
                result = self._invoke(e.func, args, live)
                return result if result is not None else 0
            return self._builtin(e, args)
        if isinstance(e, s.BinOp):
            return self._binop(e, frame, live)
        if isinstance(e, s.UnOp):
            return self._unop(e, self._expr(e.operand, frame, live))
        if isinstance(e, s.Slice):
            base = self._expr(e.base, frame, live)
            return self._slice(e, base, frame, live)
        if isinstance(e, s.Index):
            base = self._expr(e.base, frame, live)
            index = self._expr(e.index, frame, live)
            if isinstance(e.base.ty, Map):
                key = to_z3(index, e.base.ty.key)
                function = self._active[-1].function
                self.accesses.append(MemoryAccess(function, live, _root_name(e.base), key, False))
                return select(base, key)  # type: ignore[arg-type]
            assert isinstance(base, tuple) and e.ty is not None
            if isinstance(index, int):
                return base[index]
            result = base[-1]
            for i in range(len(base) - 2, -1, -1):
                result = merge(self._equal_int(index, i), base[i], result, e.ty)
            return result
        if isinstance(e, s.Field):
            assert isinstance(e.base.ty, Record)
            base = self._expr(e.base, frame, live)
            assert isinstance(base, tuple)
            index = e.base.ty.index_of(e.name)
            assert index is not None
            return base[index]
        if isinstance(e, s.InSet):
            subject = self._expr(e.subject, frame, live)
            hit: Guard = False
            for pattern in e.patterns:
                hit = g_or(hit, self._match(subject, pattern, e.subject.ty))
            return hit
        if isinstance(e, s.CondExpr):
            cond = self._expr(e.cond, frame, live)
            assert e.ty is not None
            if isinstance(cond, bool):
                return self._expr(e.then if cond else e.orelse, frame, live)
            then = self._expr(e.then, frame, g_and(live, cond))  # type: ignore[arg-type]
            orelse = self._expr(e.orelse, frame, g_and(live, g_not(cond)))  # type: ignore[arg-type]
            return merge(cond, then, orelse, e.ty)  # type: ignore[arg-type]
        if isinstance(e, s.Forall):
            bound = []
            constraints = []
            for param in e.params:
                assert param.ty is not None
                value = fresh(f"forall!{param.name}", param.ty)
                frame.locals[param.name] = value
                bound.extend(_leaves(value))
                constraints.extend(domain(value, param.ty))
            body = to_z3(self._expr(e.body, frame, live), Bool())
            if constraints:
                body = z3.Implies(z3.And(constraints), body)
            return z3.ForAll(bound, body)
        raise AssertionError(f"unexpected expression {e}")

    def _equal_int(self, index: SymValue, i: int) -> Guard:
        if isinstance(index, int):
            return index == i
        return index == z3.BitVecVal(i, INTEGER_BITS)

    def _match(self, subject: SymValue, pattern: s.Expr, ty: Type | None) -> Guard:
        assert ty is not None
        if isinstance(pattern, s.BitsLit):
            care, value = pattern.care, pattern.value
        elif isinstance(pattern, s.IntLit | s.EnumLit):
            care, value = mask(width_of(ty)), pattern.value
        else:
            assert isinstance(pattern, s.BoolLit)
            return _eq(subject, pattern.value, ty)
        if isinstance(subject, int):
            return (subject & care) == (value & care) if isinstance(ty, Bits) else subject == value
        width = width_of(ty)
        if care == mask(width):
            return subject == z3.BitVecVal(value & mask(width), width)
        return (subject & z3.BitVecVal(care, width)) == z3.BitVecVal(value & care, width)

    def _binop(self, e: s.BinOp, frame: _Frame, live: Guard) -> SymValue:
        op = e.op
        left = self._expr(e.left, frame, live)
        if op in {"&&", "||", "-->"}:
            # Short-circuit: the right operand only runs where the left lets it.
            if op == "&&":
                if left is False:
                    return False
                right = self._expr(e.right, frame, g_and(live, left))  # type: ignore[arg-type]
                return g_and(left, right)  # type: ignore[arg-type]
            if op == "||":
                if left is True:
                    return True
                right = self._expr(e.right, frame, g_and(live, g_not(left)))  # type: ignore[arg-type]
                return g_or(left, right)  # type: ignore[arg-type]
            if left is False:
                return True
            right = self._expr(e.right, frame, g_and(live, left))  # type: ignore[arg-type]
            if left is True:
                return right
            # Kept as an implication so the prover can check its hypothesis is satisfiable.
            return z3.Implies(left, to_z3(right, Bool()))  # type: ignore[arg-type]
        right = self._expr(e.right, frame, live)
        lty, rty = e.left.ty, e.right.ty
        assert lty is not None and rty is not None
        if op == ":":
            if isinstance(left, int) and isinstance(right, int):
                return (left << width_of(rty)) | right
            return z3.Concat(to_z3(left, lty), to_z3(right, rty))
        if op in {"==", "!="}:
            for pattern, other, ty in ((e.right, left, lty), (e.left, right, rty)):
                if isinstance(pattern, s.BitsLit) and pattern.care != mask(pattern.width):
                    hit = self._match(other, pattern, ty)
                    return hit if op == "==" else g_not(hit)
            equal = _eq(left, right, lty)
            return equal if op == "==" else g_not(equal)
        if op in {"<", "<=", ">", ">="}:
            if isinstance(left, int) and isinstance(right, int):
                return {"<": left < right, "<=": left <= right, ">": left > right,
                        ">=": left >= right}[op]
            a, b = to_z3(left, lty), to_z3(right, rty)
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        assert e.ty is not None
        width = width_of(e.ty)
        if isinstance(rty, Int) and not isinstance(e.ty, Int):
            right = _int_to_bits(right, width)  # bits +/- integer: the integer's low bits
            rty = e.ty
        if isinstance(left, int) and isinstance(right, int):
            return _fold(op, left, right, e.ty)
        a, b = to_z3(left, lty), to_z3(right, rty)
        if op == "AND":
            return a & b
        if op == "OR":
            return a | b
        if op == "EOR":
            return a ^ b
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "DIV":
            return (a - (a % b)) / b  # exact division: floor semantics as in the concrete code
        if op == "MOD":
            return a % b  # SMod: the sign of the (positive) divisor, as Python's %
        raise AssertionError(f"unexpected operator {op}")

    def _unop(self, e: s.UnOp, value: SymValue) -> SymValue:
        assert e.ty is not None
        if e.op == "!":
            return g_not(value)  # type: ignore[arg-type]
        width = width_of(e.ty)
        if isinstance(value, int):
            if e.op == "NOT":
                return value ^ mask(width)
            return to_signed(-value) if isinstance(e.ty, Int) else (-value) & mask(width)
        if e.op == "NOT":
            return ~value  # type: ignore[operator]
        return -value  # type: ignore[operator]

    def _lo(self, item: s.SliceItem, frame: _Frame, live: Guard) -> SymValue:
        if item.static_lo is not None:
            return item.static_lo
        lo = item.second if item.kind == "range" else item.first
        return self._expr(lo, frame, live)

    def _slice(self, e: s.Slice, base: SymValue, frame: _Frame, live: Guard) -> SymValue:
        width = width_of(e.base.ty)
        parts = [
            _extract(base, width, self._lo(item, frame, live), item.width) for item in e.items
        ]
        result = parts[0]
        result_width = e.items[0].width
        for part, item in zip(parts[1:], e.items[1:], strict=True):
            if isinstance(result, int) and isinstance(part, int):
                result = (result << item.width) | part
            else:
                result = z3.Concat(
                    to_z3(result, Bits(result_width)), to_z3(part, Bits(item.width))
                )
            result_width += item.width
        return result

    def _slice_update(
        self, target: s.Slice, base: SymValue, value: SymValue, frame: _Frame, live: Guard
    ) -> SymValue:
        width = width_of(target.base.ty)
        offset = sum(item.width for item in target.items)
        total = offset
        for item in target.items:
            offset -= item.width
            part = _extract(value, total, offset, item.width)
            lo = self._lo(item, frame, live)
            base = _insert(base, width, lo, item.width, part)
        return base

    def _builtin(self, e: s.Call, args: list[SymValue]) -> SymValue:
        first_ty = e.args[0].ty
        width = width_of(first_ty)
        x = args[0]
        name = e.func
        if name in {"Zeros", "Ones"}:
            return 0 if name == "Zeros" else mask(width_of(e.ty))
        if isinstance(x, int) and all(isinstance(a, int) for a in args):
            return _fold_builtin(name, args, width, width_of(e.ty), isinstance(first_ty, Int))
        xz = to_z3(x, first_ty)  # type: ignore[arg-type]
        if name == "UInt":
            return z3.ZeroExt(INTEGER_BITS - width, xz)
        if name == "SInt":
            return z3.SignExt(INTEGER_BITS - width, xz) if width < INTEGER_BITS else xz
        if name == "ZeroExtend":
            return z3.ZeroExt(width_of(e.ty) - width, xz) if width_of(e.ty) > width else xz
        if name == "SignExtend":
            return z3.SignExt(width_of(e.ty) - width, xz) if width_of(e.ty) > width else xz
        if name == "IsZero":
            return xz == 0
        if name == "IsOnes":
            return xz == mask(width)
        if name == "Align":
            return xz & z3.BitVecVal(~(int(args[1]) - 1) & mask(width), width)  # type: ignore[arg-type]
        if name in {"LSL", "LSR", "ASR"}:
            return _shift(name, xz, width, args[1])
        if name in {"Min", "Max"}:
            y = to_z3(args[1], Int())
            pick = xz < y if name == "Min" else xz > y
            return z3.If(pick, xz, y)
        raise AssertionError(f"builtin {name} has no symbolic meaning")


def _root_name(expr: s.Expr) -> str:
    assert isinstance(expr, s.Var)
    return expr.name


def _leaves(value: SymValue) -> list[z3.ExprRef]:
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    assert isinstance(value, z3.ExprRef)
    return [value]


def _eq(left: SymValue, right: SymValue, ty: Type) -> Guard:
    if isinstance(ty, Record | Array):
        assert isinstance(left, tuple) and isinstance(right, tuple)
        types = [t for _, t in ty.fields] if isinstance(ty, Record) else [ty.elem] * ty.length
        result: Guard = True
        for a, b, t in zip(left, right, types, strict=True):
            result = g_and(result, _eq(a, b, t))
        return result
    if not isinstance(left, z3.ExprRef) and not isinstance(right, z3.ExprRef):
        return left == right
    return to_z3(left, ty) == to_z3(right, ty)


def _int_to_bits(value: SymValue, width: int) -> SymValue:
    if isinstance(value, int):
        return value & mask(width)
    if width <= INTEGER_BITS:
        return z3.Extract(width - 1, 0, value)  # type: ignore[arg-type]
    return z3.SignExt(width - INTEGER_BITS, value)  # type: ignore[arg-type]


def _fold(op: str, a: int, b: int, ty: Type) -> int:
    """Constant folding, with exactly the concrete semantics' arithmetic."""
    if isinstance(ty, Int):
        results = {"+": a + b, "-": a - b, "*": a * b}
        if op in results:
            return to_signed(results[op])
        return a // b if op == "DIV" else a % b
    width = width_of(ty)
    results = {"AND": a & b, "OR": a | b, "EOR": a ^ b, "+": a + b, "-": a - b, "*": a * b}
    return results[op] & mask(width)


def _fold_builtin(name: str, args: list[SymValue], width: int, out: int, is_int: bool) -> int | bool:
    x = int(args[0])
    if name in {"UInt", "ZeroExtend"}:
        return x
    if name == "SInt":
        return x - (1 << width) if x >> (width - 1) & 1 else x
    if name == "SignExtend":
        return (x - (1 << width) if x >> (width - 1) & 1 else x) & mask(out)
    if name == "IsZero":
        return x == 0
    if name == "IsOnes":
        return x == mask(width)
    if name == "Align":
        keep = ~(int(args[1]) - 1)
        return x & keep if is_int else x & keep & mask(width)
    n = int(args[1])
    if name == "LSL":
        return (x << n) & mask(width) if 0 <= n < width else 0
    if name == "LSR":
        return x >> n if 0 <= n < width else 0
    if name == "ASR":
        signed = x - (1 << width) if x >> (width - 1) & 1 else x
        return (signed >> min(n & mask(INTEGER_BITS), width)) & mask(width)
    if name == "Min":
        return min(x, n)
    if name == "Max":
        return max(x, n)
    raise AssertionError(f"builtin {name} cannot fold")


def _amount(amount: SymValue, width: int) -> tuple[z3.BoolRef, z3.BitVecRef]:
    """A 64-bit shift amount as a `width`-bit one, and whether it is in range."""
    amount_z = to_z3(amount, Int())
    in_range = z3.ULT(amount_z, z3.BitVecVal(width, INTEGER_BITS))
    if width < INTEGER_BITS:
        return in_range, z3.Extract(width - 1, 0, amount_z)
    if width > INTEGER_BITS:
        return in_range, z3.ZeroExt(width - INTEGER_BITS, amount_z)
    return in_range, amount_z  # type: ignore[return-value]


def _shift(name: str, x: z3.BitVecRef, width: int, amount: SymValue) -> z3.ExprRef:
    if isinstance(amount, int):
        n = amount & mask(INTEGER_BITS)  # an integer is 64 bits, its shift amount unsigned
        if name == "LSL":
            return x << n if n < width else z3.BitVecVal(0, width)
        if name == "LSR":
            return z3.LShR(x, n) if n < width else z3.BitVecVal(0, width)
        return x >> min(n, width - 1)
    in_range, n_z = _amount(amount, width)
    if name == "LSL":
        return z3.If(in_range, x << n_z, z3.BitVecVal(0, width))
    if name == "LSR":
        return z3.If(in_range, z3.LShR(x, n_z), z3.BitVecVal(0, width))
    return z3.If(in_range, x >> n_z, x >> (width - 1))


def _extract(base: SymValue, width: int, lo: SymValue, size: int) -> SymValue:
    """Bits [lo+size-1:lo] of a `width`-bit value; bits past the top read as 0."""
    if isinstance(base, int) and isinstance(lo, int):
        return (base >> lo) & mask(size)
    base_z = to_z3(base, Bits(width))
    if isinstance(lo, int):
        if lo + size <= width:
            return z3.Extract(lo + size - 1, lo, base_z)
        base_z = z3.ZeroExt(lo + size - width, base_z)
        return z3.Extract(lo + size - 1, lo, base_z)
    wide = max(width, size)
    if wide > width:
        base_z = z3.ZeroExt(wide - width, base_z)
    in_range, n_z = _amount(lo, wide)
    shifted = z3.If(in_range, z3.LShR(base_z, n_z), z3.BitVecVal(0, wide))
    return z3.Extract(size - 1, 0, shifted)


def _insert(base: SymValue, width: int, lo: SymValue, size: int, part: SymValue) -> SymValue:
    """`base` with bits [lo+size-1:lo] replaced by `part` (bits past the top dropped)."""
    field = mask(size)
    if isinstance(base, int) and isinstance(lo, int) and isinstance(part, int):
        return (base & ~(field << lo) | (part << lo)) & mask(width)
    base_z = to_z3(base, Bits(width))
    part_z = to_z3(part, Bits(size))
    part_w = z3.ZeroExt(width - size, part_z) if width > size else z3.Extract(width - 1, 0, part_z)
    field_w = z3.BitVecVal(field & mask(width), width)
    if isinstance(lo, int):
        return (base_z & ~(field_w << lo)) | (part_w << lo)
    in_range, n_z = _amount(lo, width)
    updated = (base_z & ~(field_w << n_z)) | (part_w << n_z)
    return z3.If(in_range, updated, base_z)
