"""Parse spec code into syntax trees, with every position in its source file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.indenter import Indenter
from lark.lexer import PatternStr

from hypspec.lang import syntax as s
from hypspec.lang.diagnostics import Reporter, split_lines

GRAMMAR = Path(__file__).with_name("grammar.lark")


class SpecIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]  # noqa: RUF012 - lark reads class attributes
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]  # noqa: RUF012
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 4


@cache
def _lark() -> Lark:
    return Lark.open(
        str(GRAMMAR),
        parser="lalr",
        postlex=SpecIndenter(),
        propagate_positions=True,
        maybe_placeholders=True,
    )


def keywords() -> frozenset[str]:
    """The words the grammar spells out (`if`, `clear`, `bits`, ...): read from the grammar, so a
    keyword added there is known everywhere at once."""
    return frozenset(t.pattern.value for t in _lark().terminals
                     if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier())


_READABLE = {
    "NAME": "a name",
    "INT": "a number",
    "HEX": "a hexadecimal number",
    "BITS": "a bit string",
    "_NL": "end of line",
    "_INDENT": "an indented block",
    "_DEDENT": "end of the indented block",
    "$END": "end of the code block",
    "SLICE_OPEN": "'<' touching its operand (a slice)",
    "LT": "'<'",
    "GT": "'>'",
    "PLUS": "'+'",
    "MINUS": "'-'",
}

# How an unexpected token is named: layout tokens by what they mean, others by their text.
_SEEN = {
    "_NL": "end of line",
    "_INDENT": "indentation",
    "_DEDENT": "end of the indented block",
    "$END": "end of the code block",
}
_KIND = {"NAME": "name ", "INT": "number ", "HEX": "number ", "BITS": "bit string "}


def _readable(terminal: str) -> str:
    if terminal in _READABLE:
        return _READABLE[terminal]
    for term in _lark().terminals:
        if term.name == terminal and term.pattern.type == "str":
            return f"'{term.pattern.value}'"
    return terminal


def _expected(names: set[str]) -> str:
    shown = sorted({_readable(n) for n in names})
    if len(shown) > 8:
        shown = [*shown[:8], "..."]
    return ", ".join(shown)


class _Builder(Transformer):
    """Turns lark's parse tree into syntax nodes, placing them in their file."""

    def __init__(self, file: str, line_offset: int) -> None:
        super().__init__()
        self.file = file
        self.offset = line_offset

    def _loc(self, meta_or_token: object) -> s.Loc:
        line = getattr(meta_or_token, "line", 1)
        col = getattr(meta_or_token, "column", 1)
        return s.Loc(self.file, line + self.offset, col)

    # -- declarations
    @v_args(meta=True)
    def start(self, meta, items):
        return [i for i in items if isinstance(i, s.Decl)]

    @v_args(meta=True)
    def enum_decl(self, meta, items):
        name, *members = items
        return s.EnumDecl(self._loc(name), str(name), [(self._loc(m), str(m)) for m in members])

    @v_args(meta=True)
    def record_decl(self, meta, items):
        name, *fields = items
        return s.RecordDecl(self._loc(name), str(name), fields)

    @v_args(meta=True)
    def record_field(self, meta, items):
        ty, name = items
        return s.Param(self._loc(name), ty, str(name))

    @v_args(meta=True)
    def field_spec(self, meta, items):
        hi, lo, name = items
        high = int(hi)
        return s.FieldSpec(self._loc(hi), high, int(lo) if lo is not None else high, str(name))

    @v_args(meta=True)
    def bitfield_decl(self, meta, items):
        name, bits, *fields = items
        return s.BitfieldDecl(self._loc(name), str(name), bits.width, fields)

    @v_args(meta=True)
    def register_decl(self, meta, items):
        shared = bool(items) and isinstance(items[0], Token) and items[0].type == "SHARED"
        bits, name, *rest = items[1:] if shared else items
        reset = rest.pop()
        return s.RegisterDecl(self._loc(name), str(name), bits.width, rest, reset, shared=shared)

    @v_args(meta=True)
    def var_decl(self, meta, items):
        *shared, ty, name = items
        return s.GlobalDecl(self._loc(name), str(name), ty, shared=bool(shared))

    @v_args(meta=True)
    def const_decl(self, meta, items):
        ty, name, value = items
        return s.ConstDecl(self._loc(name), str(name), ty, value)

    def _params(self, items):
        return [p for p in items if p is not None]

    @v_args(meta=True)
    def func_decl(self, meta, items):
        result, name, *params, body = items
        return s.FuncDecl(self._loc(name), str(name), self._params(params), result, body)

    @v_args(meta=True)
    def proc_decl(self, meta, items):
        name, *params, body = items
        return s.FuncDecl(self._loc(name), str(name), self._params(params), None, body)

    @v_args(meta=True)
    def property_decl(self, meta, items):
        name, *params, body = items
        return s.FuncDecl(
            self._loc(name), str(name), self._params(params), None, body, is_property=True
        )

    @v_args(meta=True)
    def invariant_decl(self, meta, items):
        name, *params, assuming, body = items
        return s.FuncDecl(self._loc(name), str(name), self._params(params), None, body, role="invariant",
                          assuming=assuming)

    def assuming(self, items):
        return [(self._loc(name), str(name)) for name in items]

    @v_args(meta=True)
    def transition_decl(self, meta, items):
        name, *params, body = items
        return s.FuncDecl(self._loc(name), str(name), self._params(params), None, body, role="transition")

    @v_args(meta=True)
    def observation_decl(self, meta, items):
        result, name, *params, body = items
        return s.FuncDecl(self._loc(name), str(name), self._params(params), result, body, role="observation")

    @v_args(meta=True)
    def declassified_decl(self, meta, items):
        result, name, *params, body = items
        return s.FuncDecl(self._loc(name), str(name), self._params(params), result, body, role="declassified")

    @v_args(meta=True)
    def witness_decl(self, meta, items):
        result, name, *params, body = items
        return s.FuncDecl(self._loc(name), str(name), self._params(params), result, body, role="witness")

    @v_args(meta=True)
    def secret_decl(self, meta, items):
        name, *params, body = items
        return s.FuncDecl(self._loc(name), str(name), self._params(params), None, body, role="secret")

    @v_args(meta=True)
    def param(self, meta, items):
        ty, name = items
        return s.Param(self._loc(name), ty, str(name))

    # -- types
    @v_args(meta=True)
    def bits_type(self, meta, items):
        return s.BitsSyntax(self._loc(meta), items[0])

    @v_args(meta=True)
    def bool_type(self, meta, items):
        return s.BoolSyntax(self._loc(meta))

    @v_args(meta=True)
    def int_type(self, meta, items):
        return s.IntSyntax(self._loc(meta))

    @v_args(meta=True)
    def named_type(self, meta, items):
        return s.NamedSyntax(self._loc(items[0]), str(items[0]))

    @v_args(meta=True)
    def array_type(self, meta, items):
        return s.ArraySyntax(self._loc(meta), items[0], items[1])

    @v_args(meta=True)
    def map_type(self, meta, items):
        return s.MapSyntax(self._loc(meta), items[0], items[1])

    # -- statements
    def block(self, items):
        return [i for i in items if isinstance(i, s.Stmt)]

    @v_args(meta=True)
    def assign_stmt(self, meta, items):
        return s.Assign(self._loc(meta), items[0], items[1])

    @v_args(meta=True)
    def decl_stmt(self, meta, items):
        ty, name, value = items
        return s.LocalDecl(self._loc(meta), ty, str(name), value)

    @v_args(meta=True)
    def return_stmt(self, meta, items):
        return s.Return(self._loc(meta), items[0])

    @v_args(meta=True)
    def assert_stmt(self, meta, items):
        return s.Assert(self._loc(meta), items[0])

    @v_args(meta=True)
    def call_stmt(self, meta, items):
        name, args = items
        return s.CallStmt(self._loc(meta), s.Call(self._loc(name), str(name), args or []))

    @v_args(meta=True)
    def lname(self, meta, items):
        return s.Name(self._loc(items[0]), str(items[0]))

    @v_args(meta=True)
    def lslice(self, meta, items):
        base, _open, slices, _close = items
        return s.Slice(self._loc(meta), base, slices)

    @v_args(meta=True)
    def lindex(self, meta, items):
        return s.Index(self._loc(meta), items[0], items[1])

    def then_part(self, items):
        return items[0] if isinstance(items[0], list) else [items[0]]

    def else_part(self, items):
        return items[0] if isinstance(items[0], list) else [items[0]]

    def elsif_part(self, items):
        return (items[0], items[1])

    @v_args(meta=True)
    def if_stmt(self, meta, items):
        cond, body, *rest = items
        arms = [(cond, body)]
        orelse = None
        for part in rest:
            if isinstance(part, tuple):
                arms.append(part)
            else:
                orelse = part
        return s.If(self._loc(meta), arms, orelse)

    @v_args(meta=True)
    def case_stmt(self, meta, items):
        subject, *arms = items
        otherwise = None
        if arms and isinstance(arms[-1], list):
            otherwise = arms.pop()
        return s.Case(self._loc(meta), subject, arms, otherwise)

    def when_arm(self, items):
        *patterns, body = items
        return (patterns, body if isinstance(body, list) else [body])

    def otherwise_arm(self, items):
        body = items[0]
        return body if isinstance(body, list) else [body]

    @v_args(meta=True)
    def clear_stmt(self, meta, items):
        target, key, cond = items
        return s.Clear(self._loc(meta), s.Name(self._loc(target), str(target)), str(key), cond)

    @v_args(meta=True)
    def for_stmt(self, meta, items):
        var, start, direction, stop, body = items
        return s.For(self._loc(meta), str(var), start, stop, str(direction) == "downto", body)

    # -- expressions
    def _bin(op):
        @v_args(meta=True)
        def build(self, meta, items):
            left, right = items[0], items[-1]
            return s.BinOp(self._loc(meta), op, left, right)

        return build

    implies = _bin("-->")
    or_ = _bin("||")
    and_ = _bin("&&")
    concat = _bin(":")
    bits_or = _bin("OR")
    bits_eor = _bin("EOR")
    bits_and = _bin("AND")
    add = _bin("+")
    sub = _bin("-")
    mul = _bin("*")
    div = _bin("DIV")
    mod = _bin("MOD")

    @v_args(meta=True)
    def compare(self, meta, items):
        left, op, right = items
        return s.BinOp(self._loc(meta), op, left, right)

    def cmp_op(self, items):
        return str(items[0])

    @v_args(meta=True)
    def not_(self, meta, items):
        return s.UnOp(self._loc(meta), "!", items[0])

    @v_args(meta=True)
    def neg(self, meta, items):
        return s.UnOp(self._loc(meta), "-", items[-1])

    @v_args(meta=True)
    def bits_not(self, meta, items):
        return s.UnOp(self._loc(meta), "NOT", items[0])

    @v_args(meta=True)
    def in_set(self, meta, items):
        return s.InSet(self._loc(meta), items[0], items[1:])

    @v_args(meta=True)
    def slice(self, meta, items):
        base, _open, slices, _close = items
        return s.Slice(self._loc(meta), base, slices)

    def slice_list(self, items):
        return items

    def slice_bit(self, items):
        return s.SliceItem("bit", items[0], None)

    def slice_range(self, items):
        return s.SliceItem("range", items[0], items[1])

    def slice_width(self, items):
        return s.SliceItem("width", items[0], items[1])

    @v_args(meta=True)
    def index(self, meta, items):
        return s.Index(self._loc(meta), items[0], items[1])

    @v_args(meta=True)
    def field(self, meta, items):
        return s.Field(self._loc(items[1]), items[0], str(items[1]))

    @v_args(meta=True)
    def name(self, meta, items):
        return s.Name(self._loc(items[0]), str(items[0]))

    @v_args(meta=True)
    def call(self, meta, items):
        name, args = items
        return s.Call(self._loc(name), str(name), args or [])

    def args(self, items):
        return list(items)

    @v_args(meta=True)
    def int_lit(self, meta, items):
        return s.IntLit(self._loc(items[0]), int(items[0]))

    @v_args(meta=True)
    def hex_lit(self, meta, items):
        return s.IntLit(self._loc(items[0]), int(str(items[0]).replace("_", ""), 16))

    @v_args(meta=True)
    def bits_lit(self, meta, items):
        text = str(items[0])[1:-1].replace(" ", "")
        value = int(text.replace("x", "0"), 2) if text else 0
        care = int("".join("0" if c == "x" else "1" for c in text), 2) if text else 0
        return s.BitsLit(self._loc(items[0]), value, len(text), care)

    @v_args(meta=True)
    def true_lit(self, meta, items):
        return s.BoolLit(self._loc(meta), True)

    @v_args(meta=True)
    def false_lit(self, meta, items):
        return s.BoolLit(self._loc(meta), False)

    @v_args(meta=True)
    def unknown(self, meta, items):
        return s.Unknown(self._loc(meta), items[0])

    @v_args(meta=True)
    def cond_expr(self, meta, items):
        return s.CondExpr(self._loc(meta), items[0], items[1], items[2])

    @v_args(meta=True)
    def forall(self, meta, items):
        *params, body = items
        return s.Forall(self._loc(meta), params, body)


def _dedent_location(code: str) -> tuple[int, int]:
    """The line and column of the first line that dedents to no open level."""
    stack = [0]
    depth = 0
    for number, raw in enumerate(split_lines(code), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("//"):
            continue
        indent = len(raw) - len(raw.lstrip(" \t"))
        if depth == 0:
            if indent > stack[-1]:
                stack.append(indent)
            while indent < stack[-1]:
                stack.pop()
            if indent != stack[-1]:
                return number, indent + 1
        depth += raw.count("(") + raw.count("[") + raw.count("{")
        depth -= raw.count(")") + raw.count("]") + raw.count("}")
        depth = max(depth, 0)
    return 1, 1


def parse_block(code: str, file: str, line_offset: int, reporter: Reporter) -> list[s.Decl]:
    """Parse one code block; report a syntax error instead of raising it."""
    text = code if code.endswith("\n") else code + "\n"
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as err:
        slice_open = _open_slice(err)
        if slice_open is not None:
            loc = s.Loc(file, slice_open.line + line_offset, slice_open.column)
            reporter.error(loc, _open_slice_message(err))
        else:
            reporter.error(_error_loc(err, text, file, line_offset), _error_message(err))
        return []
    except LarkError as err:  # the indenter's DedentError carries no position
        line, col = _dedent_location(text)
        loc = s.Loc(file, line + line_offset, col)
        reporter.error(loc, f"inconsistent indentation: {err}")
        return []
    try:
        return _Builder(file, line_offset).transform(tree)
    except (RecursionError, VisitError) as err:  # lark's Transformer recurses per tree level
        if isinstance(err, VisitError) and not isinstance(err.orig_exc, RecursionError):
            raise
        loc = s.Loc(file, line_offset + 1, 1)
        reporter.error(loc, "this definition nests too deeply; split it into smaller parts")
        return []


def _open_slice(err: UnexpectedInput) -> Token | None:
    """The `<` of a slice still open when the parser wanted its `>`, if that is the error.

    By [SLICE-TOUCH] `a<b` opens a slice, so a comparison written without spaces
    fails later, at the token after `b`; the `<` is where the fix belongs.
    """
    if not isinstance(err, UnexpectedToken) or "GT" not in _expected_terminals(err):
        return None
    state = getattr(err.interactive_parser, "parser_state", None)
    for value in reversed(getattr(state, "value_stack", None) or []):
        if isinstance(value, Token) and value.type == "SLICE_OPEN":
            return value
    return None


def _open_slice_message(err: UnexpectedInput) -> str:
    assert isinstance(err, UnexpectedToken)
    return (
        f"'<' touching its operand opens a slice, but {_seen(err.token)} follows "
        f"where '>' was expected; a comparison needs spaces around '<', as in 'a < b'"
    )


def _expected_terminals(err: UnexpectedInput) -> set[str]:
    """The terminals the parser could take next.

    An error the contextual lexer finds lists only what it can lex in that state, which
    leaves out the indenter's _INDENT and _DEDENT; the parser's own table is exact.
    """
    parser = getattr(err, "interactive_parser", None)
    if parser is not None:
        choices = {name for name in parser.choices() if name.isupper()}
        if choices:
            return choices
    return set(getattr(err, "expected", None) or ())


def _seen(token: Token) -> str:
    if token.type in _SEEN:
        return _SEEN[token.type]
    return f"{_KIND.get(token.type, '')}{str(token)!r}"


def _error_loc(err: UnexpectedInput, text: str, file: str, offset: int) -> s.Loc:
    line = getattr(err, "line", None)
    col = getattr(err, "column", None)
    if isinstance(err, UnexpectedToken) and err.token.type in {"_INDENT", "_DEDENT"}:
        # the indenter places these on the line break before the line; point at the line
        token = err.token
        line, col = getattr(token, "end_line", line), getattr(token, "end_column", col)
    if isinstance(err, UnexpectedToken) and (not isinstance(line, int) or line < 1):
        token = err.token
        line, col = getattr(token, "line", None), getattr(token, "column", None)
    if isinstance(err, UnexpectedToken) and err.token.type == "$END":
        line = None  # lark places the end on the last token; point past the last text
    if not isinstance(line, int) or line < 1:
        lines = split_lines(text.rstrip("\n")) or [""]
        line, col = len(lines), len(lines[-1]) + 1
    return s.Loc(file, line + offset, col if isinstance(col, int) and col > 0 else 1)


def _error_message(err: UnexpectedInput) -> str:
    if isinstance(err, UnexpectedCharacters):
        char = err.char if err.char != "\n" else "end of line"
        hint = ""
        if err.char == "<":
            hint = " (a comparison needs spaces around '<'; a slice's '<' touches its operand)"
        return f"unexpected character {char!r}{hint}"
    if isinstance(err, UnexpectedToken):
        return f"unexpected {_seen(err.token)}; expected {_expected(_expected_terminals(err))}"
    if isinstance(err, UnexpectedEOF):
        return f"unexpected end of the code block; expected {_expected(_expected_terminals(err))}"
    return str(err)
