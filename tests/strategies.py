"""Reusable Hypothesis strategies for the hypspec test suites.

Each group of strategies lives in its own headed section; add new groups
below the existing ones rather than editing them.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

# =====================================================================================
# Spec-language text (tests/lang): random text and mutations of real chapters
# =====================================================================================

#: Tokens of the specification language, plus the Markdown that frames a block.
SPEC_TOKENS: tuple[str, ...] = (
    # keywords
    "enumeration", "type", "is", "register", "var", "constant", "property",
    "bits", "boolean", "integer", "array", "map", "of", "return", "assert",
    "if", "then", "elsif", "else", "case", "when", "otherwise", "for", "to",
    "downto", "forall", "UNKNOWN", "TRUE", "FALSE", "IN",
    "AND", "OR", "EOR", "NOT", "DIV", "MOD",
    # punctuation and operators
    "(", ")", "[", "]", "{", "}", ",", ";", ":", "::", "+:", ".", "=", "==",
    "!=", "<", "<=", ">", ">=", "+", "-", "*", "!", "&&", "||", "-->",
    # literals and names
    "0", "1", "7", "32", "64", "0x1F", "0xFFFF_FFFF", "'0'", "'01x1'", "''",
    "x", "a", "F", "HCR", "HCR.VM", "desc.fault", "AArch32.SecondStageWalk",
    "UInt", "Zeros", "ZeroExtend", "AccType_NORMAL",
    # layout
    " ", "\n", "\n    ", "\n        ", "\t", "// comment\n",
    # Markdown framing
    "```", "```spec\n", "\n```\n", "### `F`\n", "*Source:* x.\n", "#",
)

#: Characters that are not UTF-8 encodable (lone surrogates) are excluded.
_TEXT_CHARS = st.characters(blacklist_categories=("Cs",))


def spec_tokens() -> st.SearchStrategy[str]:
    """One language token, or a short run of arbitrary characters."""
    return st.one_of(st.sampled_from(SPEC_TOKENS), st.text(_TEXT_CHARS, min_size=1, max_size=3))


@st.composite
def random_spec_text(draw: st.DrawFn) -> str:
    """Random text: a token soup, optionally framed as a chapter with one spec block."""
    soup = "".join(draw(st.lists(spec_tokens(), max_size=40)))
    if draw(st.booleans()):
        return soup
    source = "*Source:* fuzz.\n\n" if draw(st.booleans()) else ""
    return f"# Fuzz\n\n### `F`\n\n{source}```spec\n{soup}\n```\n"


def random_chapter_bytes() -> st.SearchStrategy[bytes]:
    """Raw bytes for a chapter file: random text encoded, or arbitrary (maybe not UTF-8)."""
    return st.one_of(
        random_spec_text().map(lambda t: t.encode("utf-8")),
        st.text(_TEXT_CHARS, max_size=200).map(lambda t: t.encode("utf-8")),
        st.binary(max_size=200),
    )


MUTATIONS: tuple[str, ...] = (
    "delete", "duplicate", "swap", "insert_chars", "insert_token", "replace_token",
    "indent", "truncate",
)

#: A lexical token of a line, roughly: a (dotted) name, a number, a bit string, a symbol.
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|0x[0-9A-Fa-f_]+|[0-9]+|'[01x ]*'|\S")


def _code_lines(lines: list[str]) -> list[int]:
    """Indices of the lines inside ```spec blocks (fence lines included)."""
    inside, found = False, []
    for i, line in enumerate(lines):
        if line.startswith("```"):
            found.append(i)
            inside = not inside and line.strip() == "```spec"
        elif inside:
            found.append(i)
    return found


@st.composite
def mutated_text(draw: st.DrawFn, text: str, max_mutations: int = 4) -> str:
    """`text` after 1..max_mutations random edits: delete, duplicate or swap lines,
    insert characters or tokens, change a line's indentation, or truncate."""
    lines = text.split("\n")
    words = sorted(set(_TOKEN.findall(text)))  # replacements that the spec itself uses
    for _ in range(draw(st.integers(1, max_mutations))):
        kind = draw(st.sampled_from(MUTATIONS))
        if not lines:
            lines = [""]
        code = _code_lines(lines)
        if code and draw(st.integers(0, 9)) < 8:  # mostly edit code, sometimes prose
            i = draw(st.sampled_from(code))
        else:
            i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind in {"insert_chars", "insert_token"}:
            line = lines[i]
            at = draw(st.integers(0, len(line)))
            piece = (
                draw(st.text(_TEXT_CHARS, min_size=1, max_size=4))
                if kind == "insert_chars"
                else draw(st.sampled_from(SPEC_TOKENS))
            )
            lines[i] = line[:at] + piece + line[at:]
        elif kind == "replace_token":
            spans = [m.span() for m in _TOKEN.finditer(lines[i])]
            if spans:
                start, end = draw(st.sampled_from(spans))
                pool = st.sampled_from(words) if words else st.sampled_from(SPEC_TOKENS)
                new = draw(st.one_of(pool, st.sampled_from(SPEC_TOKENS)))
                lines[i] = lines[i][:start] + new + lines[i][end:]
        elif kind == "indent":
            stripped = lines[i].lstrip(" \t")
            indent = draw(st.sampled_from(["", " ", "  ", "    ", "      ", "        ", "\t"]))
            lines[i] = indent + stripped
        else:  # truncate
            joined = "\n".join(lines)
            cut = draw(st.integers(0, len(joined)))
            lines = joined[:cut].split("\n")
    return "\n".join(lines)


@st.composite
def mutated_chapter(draw: st.DrawFn, chapters: dict[str, str]) -> tuple[str, str]:
    """One of `chapters` (name -> text), mutated: (name, new text)."""
    name = draw(st.sampled_from(sorted(chapters)))
    return name, draw(mutated_text(chapters[name]))


# ---- generated definitions: mostly parseable, so they reach the checker --------------

#: Names a generated definition may use: locals it declares, parameters, and names the
#: real chapters declare (registers, fields, enumeration members, records, functions).
GEN_NAMES: tuple[str, ...] = (
    "a", "b", "i", "x", "y", "r", "HCR", "HCR.VM", "HCR.BSU", "VTCR.T0SZ", "VTTBR.BADDR",
    "VTTBR", "PhysMem", "AccType_NORMAL", "Fault_None", "r.fault", "r.paddress",
    "r.fault.statuscode", "MemWrite", "IsFault", "Gen",
)
GEN_FUNCTIONS: tuple[str, ...] = (
    "UInt", "SInt", "ZeroExtend", "SignExtend", "Zeros", "Ones", "IsZero", "IsOnes",
    "Align", "LSL", "LSR", "ASR", "Min", "Max", "MemRead64", "MemRead", "MemWrite",
    "IsFault", "NoFault", "AArch32.S2LevelShift", "AArch32.SecondStageTranslate", "Gen",
    "Nope",
)
GEN_TYPES: tuple[str, ...] = (
    "bits(1)", "bits(4)", "bits(8)", "bits(32)", "bits(40)", "bits(64)", "bits(0)",
    "bits(65)", "bits(a)", "bits(0xFFFFFFFFFFFF)", "boolean", "integer", "AccType",
    "FaultRecord", "AddressDescriptor", "S2Descriptor", "HCR", "Unknown",
    "array [4] of bits(8)", "array [0] of integer", "map bits(4) of bits(8)",
)
GEN_BINOPS: tuple[str, ...] = (
    "+", "-", "*", "DIV", "MOD", "AND", "OR", "EOR", ":", "==", "!=", "<", "<=", ">",
    ">=", "&&", "||", "-->",
)
_GEN_LEAVES = st.one_of(
    st.sampled_from(GEN_NAMES),
    st.integers(-3, 70).map(str),
    st.sampled_from(["0x0", "0xFF", "0xFFFFFFFFFFFFFFFFFF", "''", "'0'", "'1x'", "'0101'"]),
    st.sampled_from(["TRUE", "FALSE", "bits(4) UNKNOWN", "integer UNKNOWN"]),
)


def _gen_slice(base: str, draw: st.DrawFn) -> str:
    lo = draw(st.sampled_from(["0", "3", "7", "39", "64", "i", "a"]))
    form = draw(st.sampled_from(["{hi}:{lo}", "{lo}", "{lo}+:{w}", "{lo}:{hi}"]))
    hi = draw(st.sampled_from(["0", "3", "7", "31", "39", "63", "64", "i"]))
    width = draw(st.sampled_from(["1", "4", "8", "0", "99", "i"]))
    return f"{base}<{form.format(hi=hi, lo=lo, w=width)}>"


def gen_expressions() -> st.SearchStrategy[str]:
    """Expressions of the language, type-correct only by chance."""

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        @st.composite
        def compound(draw: st.DrawFn) -> str:
            kind = draw(st.integers(0, 7))
            if kind == 0:
                op = draw(st.sampled_from(GEN_BINOPS))
                return f"({draw(inner)} {op} {draw(inner)})"
            if kind == 1:
                return f"{draw(st.sampled_from(['-', 'NOT ', '!']))}{draw(inner)}"
            if kind == 2:
                return _gen_slice(f"({draw(inner)})", draw)
            if kind == 3:
                args = draw(st.lists(inner, max_size=3))
                return f"{draw(st.sampled_from(GEN_FUNCTIONS))}({', '.join(args)})"
            if kind == 4:
                return f"(if {draw(inner)} then {draw(inner)} else {draw(inner)})"
            if kind == 5:
                return f"({draw(inner)} IN {{{draw(inner)}, {draw(inner)}}})"
            if kind == 6:
                return f"({draw(inner)})[{draw(inner)}]"
            ty = draw(st.sampled_from(GEN_TYPES))
            return f"(forall ({ty} q) :: {draw(inner)})"

        return compound()

    return st.recursive(_GEN_LEAVES, extend, max_leaves=8)


def _flatten(groups: list[list[str]]) -> list[str]:
    return [line for group in groups for line in group]


def gen_statements(depth: int = 2) -> st.SearchStrategy[list[str]]:
    """A list of statement lines (without the leading indentation of the body)."""
    expr = gen_expressions()
    target = st.one_of(
        st.sampled_from(GEN_NAMES),
        st.builds(lambda n, e: f"{n}[{e}]", st.sampled_from(GEN_NAMES), expr),
        st.sampled_from(["x<3:0>", "HCR<0>", "r.paddress<11:0>", "VTCR.T0SZ", "i"]),
    )
    simple = st.one_of(
        st.builds(lambda t, e: [f"{t} = {e};"], target, expr),
        st.builds(
            lambda ty, n, e: [f"{ty} {n} = {e};"], st.sampled_from(GEN_TYPES),
            st.sampled_from(GEN_NAMES), expr,
        ),
        st.builds(lambda ty, n: [f"{ty} {n};"], st.sampled_from(GEN_TYPES),
                  st.sampled_from(GEN_NAMES)),
        st.builds(lambda e: [f"return {e};"], expr),
        st.just(["return;"]),
        st.builds(lambda e: [f"assert {e};"], expr),
        st.builds(lambda f, a: [f"{f}({', '.join(a)});"], st.sampled_from(GEN_FUNCTIONS),
                  st.lists(expr, max_size=3)),
    )
    if depth == 0:
        return st.lists(simple, min_size=1, max_size=3).map(_flatten)

    inner = gen_statements(depth - 1)

    def indent(lines: list[str]) -> list[str]:
        return ["    " + line for line in lines]

    compound = st.one_of(
        st.builds(
            lambda c, body, other: [f"if {c} then", *indent(body)]
            + (["else", *indent(other)] if other else []),
            expr, inner, st.one_of(st.none(), inner),
        ),
        st.builds(
            lambda subject, pat, body, other: [f"case {subject} of", f"    when {pat}",
                                               *indent(indent(body))]
            + (["    otherwise", *indent(indent(other))] if other else []),
            expr, expr, inner, st.one_of(st.none(), inner),
        ),
        st.builds(
            lambda v, lo, hi, body: [f"for {v} = {lo} to {hi}", *indent(body)],
            st.sampled_from(["i", "x", "HCR"]), expr, expr, inner,
        ),
    )
    return st.lists(st.one_of(simple, compound), min_size=1, max_size=4).map(_flatten)


@st.composite
def gen_definition_chapter(draw: st.DrawFn) -> str:
    """A chapter with one generated function, procedure or property named `Gen`."""
    kind = draw(st.sampled_from(["function", "procedure", "property"]))
    params = draw(
        st.lists(
            st.builds(lambda t, n: f"{t} {n}", st.sampled_from(GEN_TYPES),
                      st.sampled_from(["a", "b", "r", "HCR"])),
            max_size=3,
        )
    )
    signature = f"Gen({', '.join(params)})"
    if kind == "function":
        signature = f"{draw(st.sampled_from(GEN_TYPES))} {signature}"
    elif kind == "property":
        signature = f"property {signature}"
    body = "\n".join("    " + line for line in draw(gen_statements()))
    return f"# Generated\n\n### `Gen()`\n\n*Source:* fuzz.\n\n```spec\n{signature}\n{body}\n```\n"


# =====================================================================================
# Stage 2 translation (tests/spec): worlds of VTCR, VTTBR, table memory and one access
# =====================================================================================

from hypspec.categories.stage2.stimulus import ANYWHERE, Layout, World, random_world  # noqa: E402

#: A guest with its MMU off: its 32-bit virtual address is its IPA.
GUEST_MMU_OFF = Layout(ipa_bits=32)


def stage2_worlds(layout: Layout = ANYWHERE) -> st.SearchStrategy[World]:
    """A walk-shaped world: the builder places a descriptor at every index the IPA selects."""
    return st.randoms(use_true_random=False).map(lambda rng: random_world(rng, layout))


@st.composite
def stage2_noise_worlds(draw: st.DrawFn) -> World:
    """A world of arbitrary words near the table base: malformed tables of every shape."""
    base = 0x48000000
    words = draw(st.dictionaries(st.integers(0, 1023).map(lambda i: base + 8 * i),
                                 st.integers(0, 2**64 - 1), max_size=24))
    return World(
        vtcr=draw(st.integers(0, 2**32 - 1)),
        vttbr=base | draw(st.integers(0, 0xFFF)) | (draw(st.integers(0, 255)) << 48),
        memory=words,
        access=draw(st.sampled_from(["read", "write", "fetch"])),
        ipa=draw(st.integers(0, 2**40 - 1)),
        size=4, signed=False, rt=draw(st.integers(0, 12)), value=draw(st.integers(0, 2**32 - 1)),
    )


# =====================================================================================
# Processor state (tests/spec): CPSRs and register files for the mode and exception tests
# =====================================================================================

from tests.helpers.processor_state import MODES, SPSR_OF  # noqa: E402

WORD = st.integers(0, 2**32 - 1)
FLAGS = st.integers(0, 2**27 - 1).map(lambda bits: bits << 5)  # every CPSR bit above M


@st.composite
def cpsrs(draw: st.DrawFn, modes: tuple[int, ...] = MODES) -> int:
    """A CPSR in a real mode, every other bit random."""
    return draw(FLAGS) | draw(st.sampled_from(modes))


@st.composite
def processor_states(draw: st.DrawFn, modes: tuple[int, ...] = MODES) -> dict[str, Any]:
    """Every register the mode and exception chapters read, random."""
    spsr_mode = st.one_of(st.sampled_from(MODES), st.integers(0, 31))  # sometimes illegal
    spsrs = {name: draw(FLAGS) | draw(spsr_mode) for name in SPSR_OF.values()}
    return {
        "CPSR": draw(cpsrs(modes)), "HCR": draw(st.integers(0, 2**28 - 1)),
        "SCTLR": draw(WORD), "HSCTLR": draw(WORD), "VBAR": draw(WORD), "HVBAR": draw(WORD),
        "ELR_hyp": draw(WORD), "_PC": draw(WORD), "HSR": draw(WORD),
        "_R": draw(st.lists(WORD, min_size=31, max_size=31)), **spsrs,
    }


# =====================================================================================
# A32 instruction words (tests/spec): templates of the decoded classes, operands random
# =====================================================================================

from tests.helpers.a32 import AL, bxj, eret, hvc, mrs_banked, msr_banked, smc, wfe, wfi  # noqa: E402


@st.composite
def interesting_words(draw: st.DrawFn) -> int:
    """Words aimed at the decoded classes: a template with random operand fields."""
    cond = draw(st.sampled_from([AL, AL, 0x0, 0x1, 0xB, 0xF]))
    kind = draw(st.integers(0, 7))
    rnd = draw(st.integers(0, 2**32 - 1))
    if kind == 0:   # coprocessor space, bits 27:26 = 11
        return cond << 28 | 0b11 << 26 | rnd & 0x03FFFFFF
    if kind == 1:   # MCR/MRC to CP14/15/10/11
        cp = draw(st.sampled_from([10, 11, 14, 15]))
        return cond << 28 | 0b1110 << 24 | rnd & 0x00FFF0FF | cp << 8 | 1 << 4
    if kind == 2:   # miscellaneous space
        return cond << 28 | 0b00010 << 23 | rnd & 0x006FFF7F
    if kind == 3:   # MSR immediate and hints
        return cond << 28 | 0b00110 << 23 | 0b10 << 20 | rnd & 0x004FFFFF
    if kind == 4:   # unconditional space
        return 0xF << 28 | rnd & 0x0FFFFFFF
    if kind == 5:   # banked forms with a valid layout
        banked = mrs_banked if rnd >> 21 & 1 else msr_banked
        conditional = cond if cond != 0xF else AL
        return banked(rnd & 0xF, rnd >> 8 & 0x1F, spsr=bool(rnd >> 20 & 1), cond=conditional)
    if kind == 6:
        return [wfi(), wfe(), eret(), smc(), hvc(rnd & 0xFFFF), bxj(rnd >> 4 & 0xF)][rnd % 6]
    return rnd


# =====================================================================================
# Trap configurations (tests/spec): the registers Model.TrapDecision reads, and the
# instructions their controls select
# =====================================================================================

#: Non-secure PL0 and PL1 modes: User, FIQ, IRQ, Supervisor, Abort, Undefined, System.
TRAP_MODES: tuple[int, ...] = (0x10, 0x11, 0x12, 0x13, 0x17, 0x1B, 0x1F)
_GUEST_MODE = {"svc": 0x13, "usr": 0x10}
#: Nothing trapped and the floating-point unit on (CPACR cp10/cp11 full access, FPEXC.EN):
#: the registers a catalogue row's control is armed over when the others are kept quiet.
QUIET_TRAP_REGISTERS = {
    "HCR": 0, "HSTR": 0, "HCPTR": 0, "HDCR": 0, "CNTHCTL": 0, "CNTKCTL": 0,
    "CPACR": 0x00F0_0000, "FPEXC": 0x4000_0000, "PMUSERENR": 0, "EventRegister": 0,
}


@st.composite
def trap_states(draw: st.DrawFn) -> dict[str, Any]:
    """Every register the trap decision reads: each zero or uniformly random (so each control
    bit takes both values: Hypothesis's own integers favour small values, which leave the high
    trap bits of HCR clear), any flags, any PL0/PL1 mode, either Event Register value."""
    rng = draw(st.randoms(use_true_random=False))

    def word() -> int:
        return 0 if draw(st.integers(0, 3)) == 0 else rng.getrandbits(32)

    return {
        "CPSR": draw(st.integers(0, 15)) << 28 | 0x1C0 | draw(st.sampled_from(TRAP_MODES)),
        "HCR": word(), "HSTR": word(), "HCPTR": word(), "HDCR": word(), "CNTHCTL": word(),
        "CNTKCTL": word(), "CPACR": word(), "FPEXC": word(), "PMUSERENR": word(),
        "EventRegister": draw(st.integers(0, 1)),
    }


@st.composite
def catalogue_trap_states(draw: st.DrawFn, row: Any) -> dict[str, Any]:
    """The registers for a row of the trap catalogue (`hypspec.categories.traps.generate.CATALOGUE`: a
    control and an instruction it selects), in one of the row's modes: the row's registers
    written over quiet ones (nothing trapped, the floating-point unit on), so that the armed
    control decides, or over random ones, where an earlier rule may decide first."""
    config = draw(trap_states())
    if not draw(st.booleans()):
        config = {**QUIET_TRAP_REGISTERS, "CPSR": config["CPSR"]}
    mode = _GUEST_MODE[draw(st.sampled_from(row.modes))]
    config["CPSR"] = config["CPSR"] & 0xF000_0000 | 0x1C0 | mode
    config.update(row.registers)
    return config


# =====================================================================================
# GIC virtual interface (tests/spec): GICH state, list registers and GICV/GICH offsets
# =====================================================================================

#: Word offsets of the GICV frame (ARM IHI 0048B.b §5.4) and of the GICH frame (§5.3).
GICV_OFFSETS: tuple[int, ...] = (
    0x000, 0x004, 0x008, 0x00C, 0x010, 0x014, 0x018, 0x01C, 0x020, 0x024, 0x028,
    0x0D0, 0x0D4, 0x0E0, 0x0FC, 0x1000,
)
GICH_OFFSETS: tuple[int, ...] = (
    0x000, 0x004, 0x008, 0x010, 0x020, 0x024, 0x030, 0x034, 0x0F0,
    0x100, 0x104, 0x108, 0x10C, 0x110,
)
#: A few virtual IDs, so that EOI values and list registers often name the same interrupt.
VIRTUAL_IDS = st.sampled_from([1, 5, 27, 40, 1019, 1023])


@st.composite
def gich_list_entries(draw: st.DrawFn) -> int:
    """A GICH_LRn value (IHI 0048B.b §5.3): any state, priority, group, HW and IDs."""
    entry = draw(VIRTUAL_IDS) | draw(st.integers(0, 0x3FF)) << 10
    entry |= draw(st.integers(0, 31)) << 23 | draw(st.integers(0, 3)) << 28
    entry |= draw(st.integers(0, 1)) << 30 | draw(st.integers(0, 1)) << 31
    return entry if draw(st.integers(0, 9)) else draw(st.integers(0, 2**32 - 1))


@st.composite
def gic_virtual_states(draw: st.DrawFn) -> dict[str, Any]:
    """GICH_HCR, GICH_VMCR, GICH_APR and the four list registers, biased to enabled groups."""
    vmcr = draw(st.integers(0, 2**32 - 1)) & 0xF8FC021F
    if draw(st.booleans()):
        vmcr |= 0xF8000003  # both groups on, mask wide open
    return {
        "GICH_HCR": draw(st.integers(0, 2**32 - 1)) & 0xF80000FF | draw(st.integers(0, 1)),
        "GICH_VMCR": vmcr,
        "GICH_APR": draw(st.one_of(st.just(0), st.integers(0, 2**32 - 1))),
        **{f"GICH_LR{n}": draw(gich_list_entries()) for n in range(4)},
    }


def gicv_offsets() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(GICV_OFFSETS), st.integers(0, 2**13 - 1))


def gich_offsets() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(GICH_OFFSETS), st.integers(0, 2**12 - 1))


@st.composite
def gicv_write_values(draw: st.DrawFn) -> int:
    """A value written to GICV: mostly an interrupt ID (with a CPUID), sometimes any word."""
    if draw(st.booleans()):
        return draw(VIRTUAL_IDS) | draw(st.integers(0, 7)) << 10
    return draw(st.integers(0, 2**32 - 1))


#: The GICV registers that acknowledge or name the pending interrupt (IAR, HPPIR, AIAR, AHPPIR)
#: and those that end one (EOIR, AEOIR, DIR): IHI 0048B.b §5.4.
GICV_ACKNOWLEDGE_OFFSETS: tuple[int, ...] = (0x00C, 0x018, 0x020, 0x028)
GICV_EOI_OFFSETS: tuple[int, ...] = (0x010, 0x024, 0x1000)
_LR_PENDING, _LR_ACTIVE = 0b01, 0b10


@st.composite
def _listed_interrupt(draw: st.DrawFn, lr_state: int) -> tuple[int, int]:
    """(list register index, list register value) of one interrupt in `lr_state`: a software
    entry (HW clear, so the source CPU is in bits 12:10) with a real ID, any priority and group."""
    index = draw(st.integers(0, 3))
    entry = draw(st.sampled_from([1, 5, 27, 40, 1019])) | draw(st.integers(0, 7)) << 10
    entry |= draw(st.integers(0, 31)) << 23 | lr_state << 28 | draw(st.integers(0, 1)) << 30
    return index, entry


@st.composite
def gicv_pending_states(draw: st.DrawFn) -> dict[str, Any]:
    """A virtual interface with an interrupt to acknowledge: the interface enabled, both groups
    on and the priority mask open, and at least one list register pending; the binary points,
    AckCtl, the active priorities and the other list registers random. Random states reach an
    acknowledge in under 2% of the cases; most of these do."""
    state = draw(gic_virtual_states())
    state["GICH_HCR"] |= 1
    state["GICH_VMCR"] |= 0xF800_0003
    if not draw(st.booleans()):
        state["GICH_APR"] = 0
    index, entry = draw(_listed_interrupt(_LR_PENDING))
    state[f"GICH_LR{index}"] = entry
    return state


@st.composite
def gicv_eoi_cases(draw: st.DrawFn) -> tuple[dict[str, Any], int, int]:
    """(state, GICV offset, value) ending an active interrupt: a list register active with its
    priority's bit set in GICH_APR, the interface and both groups enabled, and a write of its ID
    and source CPU to EOIR, AEOIR or DIR (DIR with EOImode set, or not)."""
    state = draw(gic_virtual_states())
    state["GICH_HCR"] |= 1
    state["GICH_VMCR"] |= 0x0000_0003
    index, entry = draw(_listed_interrupt(_LR_ACTIVE))
    state[f"GICH_LR{index}"] = entry
    state["GICH_APR"] |= 1 << (entry >> 23 & 0x1F)
    return state, draw(st.sampled_from(GICV_EOI_OFFSETS)), entry & 0x1FFF


# =====================================================================================
# GIC distributor (tests/spec): distributor and CPU interface state, GICD/GICC offsets
# =====================================================================================

#: INTIDs the GIC tests draw from: SGIs, PPIs, low SPIs and the last implemented ones.
GIC_INTIDS = st.one_of(st.integers(0, 47), st.integers(280, 287))
#: GICD offsets: every register bank, near its start and at its implemented end.
GICD_BANKS = [0x000, 0x004, 0x008, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380,
              0x400, 0x800, 0xC00, 0xF00, 0xF10, 0xF20, 0xFD0]


@st.composite
def gic_distributor_offsets(draw: st.DrawFn) -> int:
    """A GICD offset: a register bank's start plus a few words, or any 12-bit offset."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.integers(0, 0xFFF))
    return draw(st.sampled_from(GICD_BANKS)) + 4 * draw(st.sampled_from([0, 0, 1, 2, 8, 9, 71, 72]))


@st.composite
def gic_cpu_offsets(draw: st.DrawFn) -> int:
    """A GICC offset: a defined register (mostly IAR/HPPIR), or any 13-bit offset."""
    defined = [0x00, 0x04, 0x08, 0x0C, 0x0C, 0x10, 0x14, 0x18, 0x18, 0x1C, 0x20, 0xD0, 0xD8,
               0xE0, 0xE8, 0xFC, 0x1000]
    if draw(st.integers(0, 5)) == 0:
        return draw(st.integers(0, 0x1FFF))
    return draw(st.sampled_from(defined))


def _gic_key(cpu: int, intid: int) -> int:
    """GIC.Key(): banked INTIDs below 32 carry the CPU number in bits [12:10]."""
    return (cpu << 10 | intid) if intid < 32 else intid


#: An interrupt word that is enabled, pending and inactive (a candidate for acknowledge).
_GIC_LIVE = st.integers(0, 2**32 - 1).map(lambda w: w & ~0x4 | 0x3)


@st.composite
def gic_states(draw: st.DrawFn) -> dict[str, Any]:
    """Random distributor and CPU interface state (as `spec.state()` takes it), CPU 0 mostly.

    Interrupt words are often live (enabled, pending, inactive), the priority mask often open
    and the active priorities often empty, so that acknowledges happen as well as refusals.
    """
    cpu = draw(st.sampled_from([0, 0, 0, 1, 5]))
    word = st.one_of(st.integers(0, 2**32 - 1), _GIC_LIVE, _GIC_LIVE)
    interrupts = {
        _gic_key(draw(st.sampled_from([cpu, cpu, 3])), intid): draw(word)
        for intid in draw(st.lists(GIC_INTIDS, min_size=1, max_size=12))
    }
    cpus = [cpu, draw(st.integers(0, 7))]
    apr = st.sampled_from([0, 0, 0, 0, 1 << 127, 1 << 64]) | st.integers(0, 2**128 - 1)
    return {
        "GIC_CurrentCPU": cpu,
        "GICD_CTLR": draw(st.sampled_from([3, 3, 1, 2, 0])),
        "GIC_Interrupts": interrupts,
        "GICC_CTLR": {c: draw(st.sampled_from([0x7, 0x7, 0x1, 0x3, 0x207, 0x219, 0xF])) for c in cpus},
        "GICC_PMR": {c: draw(st.one_of(st.just(0xFF), st.integers(0, 255))) for c in cpus},
        "GICC_BPR": {c: draw(st.integers(0, 7)) for c in cpus},
        "GICC_ABPR": {c: draw(st.integers(0, 7)) for c in cpus},
        "GICC_APR": {c: draw(apr) for c in cpus},
        "GICC_NSAPR": {c: draw(apr) for c in cpus},
    }


@st.composite
def gic_pending_states(draw: st.DrawFn) -> dict[str, Any]:
    """A distributor and CPU interface with an interrupt to acknowledge: both enabled for both
    groups (with AckCtl), the priority mask open, no active priority, and a PPI of the current
    CPU live (enabled, pending, inactive); every other interrupt word and the binary points
    random. Random states acknowledge on under 10% of IAR reads; most of these do."""
    state = draw(gic_states())
    cpu = state["GIC_CurrentCPU"]
    state["GICD_CTLR"] = 3
    state["GICC_CTLR"][cpu] = 0x7
    state["GICC_PMR"][cpu] = 0xFF
    state["GICC_APR"][cpu] = state["GICC_NSAPR"][cpu] = 0
    state["GIC_Interrupts"][_gic_key(cpu, draw(st.integers(16, 31)))] = draw(_GIC_LIVE)
    return state


# =====================================================================================
# System registers (tests/spec): register state for the storage chapter's accessors
# =====================================================================================

#: 32-bit registers the system register accessors read or write, drawn as any word.
SYSREG_WORDS: tuple[str, ...] = (
    "SCTLR", "HSCTLR", "VBAR", "HVBAR", "HSTR", "HCPTR", "CNTHCTL", "CNTKCTL", "CPACR",
    "FPEXC", "PMUSERENR", "VTCR", "HSR", "HDFAR", "HIFAR", "HPFAR", "MPIDR", "VPIDR",
    "VMPIDR", "ACTLR", "HACTLR", "HACR", "TTBCR", "DACR", "HTCR", "DFSR", "IFSR", "ADFSR",
    "AIFSR", "HADFSR", "HAIFSR", "DFAR", "IFAR", "PRRR", "NMRR", "HMAIR0", "HMAIR1",
    "AMAIR0", "AMAIR1", "HAMAIR0", "HAMAIR1", "CONTEXTIDR", "TPIDRURW", "TPIDRURO",
    "TPIDRPRW", "HTPIDR", "PMCR", "PMCNTENSET", "PMOVSR", "PMINTENSET", "PMCCNTR",
    "PMCCFILTR", "DBGDSCR", "DBGDTRRX", "DBGDTRTX", "DBGOSLSR", "DBGOSDLR", "DBGPRCR",
    "DBGBVR0", "TEECR", "TEEHBR", "FPSCR", "CNTFRQ", "CNTP_CTL", "CNTV_CTL", "CNTHP_CTL",
)
#: 64-bit registers of the same accessors.
SYSREG_DWORDS: tuple[str, ...] = (
    "TTBR0", "TTBR1", "PAR", "HTTBR", "VTTBR", "CNTVOFF", "CNTP_CVAL", "CNTV_CVAL",
    "CNTHP_CVAL",
)
#: Modes the accessors distinguish: Supervisor and System (PL1), User (PL0), Hyp (PL2).
SYSREG_MODES: tuple[int, ...] = (0x1D3, 0x1DF, 0x1D0, 0x1DA)
_ALL_ONES_32 = 2**32 - 1


def _biased_word(bits: int) -> st.SearchStrategy[int]:
    """Any value of `bits` bits, often zero or all ones (reserved bits, counter wrap)."""
    return st.one_of(st.sampled_from([0, 2**bits - 1]), st.integers(0, 2**bits - 1))


@st.composite
def system_register_states(draw: st.DrawFn) -> dict[str, Any]:
    """Every register `Model.SysRegRead`/`Model.SysRegWrite` touch, random, in a random mode.

    `PMSELR.SEL` mostly names an event counter or the cycle counter's filter, `CSSELR` mostly
    an implemented cache, `HDCR.HPMN` mostly a counter count (0..6); event types are often
    SW_INCR (0x00) and counters often about to wrap, so that `PMSWINC` increments and
    overflows. The GIC state is the distributor strategy's, for `ISR`.
    """
    state: dict[str, Any] = {name: draw(_biased_word(32)) for name in SYSREG_WORDS}
    state.update({name: draw(_biased_word(64)) for name in SYSREG_DWORDS})
    state["CPSR"] = draw(st.sampled_from(SYSREG_MODES)) | draw(st.integers(0, 7)) << 6
    state["HCR"] = draw(st.integers(0, 2**28 - 1))
    state["HDCR"] = draw(st.integers(0, 7)) | draw(st.integers(0, 2**7 - 1)) << 5
    if draw(st.integers(0, 4)) == 0:
        state["HDCR"] = draw(st.integers(0, 2**12 - 1))
    state["PMSELR"] = draw(st.one_of(st.integers(0, 5), st.just(31), st.integers(0, 31)))
    state["CSSELR"] = draw(st.one_of(st.sampled_from([0, 1, 2]), st.integers(0, 15)))
    state["PMEVCNTR"] = draw(st.lists(st.one_of(st.just(_ALL_ONES_32), _biased_word(32)),
                                      min_size=6, max_size=6))
    state["PMEVTYPER"] = draw(st.lists(st.one_of(st.just(0), _biased_word(32)),
                                       min_size=6, max_size=6))
    state.update(draw(gic_states()))
    return state


# =====================================================================================
# Command-line arguments (tests/test_cli_bad_arguments.py): argument lists with something wrong
# =====================================================================================

#: What one argument of a real command line can hold: any text but a NUL byte (execve cannot
#: pass one), and now and then a lone surrogate, which is how Python decodes an argument that is
#: not UTF-8.
_ARGUMENT_TEXT = st.one_of(
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(["\udcff", "caf\udce9"]),
)
#: Text that is no integer in any notation the options accept.
NOT_INTEGERS: tuple[str, ...] = (
    "", " ", "abc", "0x", "0b2", "1.5", "1e3", "nan", "inf", "-inf", "1_", "_1", "9" * 5000, "--", "-x",
)
#: Timeouts `hypspec prove` refuses: zero, negative, below Z3's millisecond, beyond its 32 bits, or
#: not a finite number.
BAD_TIMEOUTS: tuple[str, ...] = ("0", "-1", "0.0001", "1e9", "nan", "inf", "-inf", "abc", "", "1e400", "0x10")


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except (ValueError, OverflowError):
        return False
    return True


def _int_any_base(text: str) -> int:
    return int(text, 0)


def argument_text() -> st.SearchStrategy[str]:
    """One argument as a user might mistype it."""
    return _ARGUMENT_TEXT


def not_an_integer() -> st.SearchStrategy[str]:
    """Text that neither int(text) nor int(text, 0) accepts."""
    random = _ARGUMENT_TEXT.filter(lambda text: not (_parses(int, text) or _parses(_int_any_base, text)))
    return st.one_of(st.sampled_from(NOT_INTEGERS), random)


def integer_outside(low: int | None = None, high: int | None = None) -> st.SearchStrategy[str]:
    """A whole number below `low` or above `high`, written in decimal or hex."""
    ranges = []
    if low is not None:
        ranges.append(st.integers(-(2**70), low - 1))
    if high is not None:
        ranges.append(st.integers(high + 1, 2**70))
    return st.one_of(ranges).flatmap(lambda n: st.sampled_from([str(n), hex(n)]))


def bad_count(low: int, high: int | None = None) -> st.SearchStrategy[str]:
    """What a count option from `low` to `high` refuses."""
    return st.one_of(not_an_integer(), integer_outside(low, high))


def bad_timeout() -> st.SearchStrategy[str]:
    """What `--timeout` refuses."""
    random = _ARGUMENT_TEXT.filter(lambda text: not _parses(float, text))
    return st.one_of(st.sampled_from(BAD_TIMEOUTS), random)


def unknown_flag() -> st.SearchStrategy[str]:
    """An option no subcommand has."""
    letters = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)
    return st.one_of(st.sampled_from(["--frobnicate", "--no-such-option", "-Z", "--jsn", "---"]),
                     letters.map(lambda s: "--zz" + s))


def misspelled(draw: st.DrawFn, names: list[str]) -> str:
    """A real name with one character dropped, doubled or changed: what a typo makes of it."""
    name = draw(st.sampled_from(names))
    at = draw(st.integers(0, len(name) - 1))
    kind = draw(st.sampled_from(["drop", "double", "change"]))
    if kind == "drop":
        return name[:at] + name[at + 1:]
    if kind == "double":
        return name[:at] + name[at] + name[at:]
    return name[:at] + draw(st.sampled_from("xq_.9")) + name[at + 1:]


# =====================================================================================
# The TLB (tests/spec/test_tlb.py): a few processors, VMIDs and pages, so entries collide
# =====================================================================================

#: The processors, VMIDs and IPA pages the TLB tests use: few, so that the entries a maintenance
#: operation should remove and those it should keep both occur.
TLB_PES, TLB_VMIDS, TLB_PAGES = (0, 1, 2), (0, 1, 5), (0x80602, 0x80603, 0x40000)
TLB_OPERATIONS = ("SysReg_TLBIALL", "SysReg_ITLBIALL", "SysReg_DTLBIALL", "SysReg_TLBIALLIS",
                  "SysReg_TLBIALLNSNH", "SysReg_TLBIALLNSNHIS", "SysReg_TLBIMVA", "SysReg_TLBIASIDIS",
                  "SysReg_TLBIALLH", "SysReg_ICIALLU", "SysReg_CP15DSB")


def tlb_key(pe: int, vmid: int, page: int) -> int:
    """Where the TLB chapter keeps an entry: processor, VMID, IPA page (spec/14-tlb.md)."""
    return pe << 36 | vmid << 28 | page


@st.composite
def tlb_states(draw: st.DrawFn) -> dict[str, Any]:
    """Valid entries at colliding keys, and the registers maintenance reads: the VMID, the
    processor's number, HCR.FB and whether the processor is in Hyp mode."""
    keys = st.builds(tlb_key, st.sampled_from(TLB_PES), st.sampled_from(TLB_VMIDS),
                     st.sampled_from(TLB_PAGES))
    entries = draw(st.dictionaries(keys, st.integers(0, 2**94 - 1).map(lambda e: e | 1 << 94), max_size=8))
    mode = draw(st.sampled_from([0b11010, 0b10011]))  # Hyp, Supervisor
    return {
        "TLB_S2": entries, "MPIDR": 0x80000000 | draw(st.sampled_from(TLB_PES)),
        "VTTBR": draw(st.sampled_from(TLB_VMIDS)) << 48, "HCR": draw(st.sampled_from([0, 1 << 9])),
        "CPSR": 0x1C0 | mode,
    }
