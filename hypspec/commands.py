"""The subcommands `check`, `run`, `prove` and `list`: their arguments and what they do.

The other subcommands register themselves from their own packages (`hypspec.model.cli`,
`hypspec.vectors.generate`, `hypspec.conformance.cli`); `hypspec.cli` puts them together.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypspec.arguments import (
    DEFAULT_TIMEOUT_S,
    job_count,
    one_of,
    output_file,
    path_argument,
    positive_seconds,
)
from hypspec.categories.registry import CATEGORIES
from hypspec.exitcodes import ExitCode, UsageError

if TYPE_CHECKING:
    from hypspec.effects import Effects
    from hypspec.lang.syntax import FuncDecl

# The engine (the spec loader, the compiler, Z3 for `prove`) is imported by the command that
# uses it: every command line registers every subcommand, and `run` needs only the concrete side.


def add_check_parser(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser("check", help="parse and type-check spec chapters")
    check.add_argument("paths", nargs="*", type=path_argument,
                       help="chapters, or directories with a manifest.toml "
                            "(default: spec/, the KVM/ARM model and proofs/)")
    check.add_argument("--json", action="store_true",
                       help="print what was checked, or every error with its file, line and column, as JSON")
    check.set_defaults(run=cmd_check)


def add_run_parser(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="evaluate a spec function concretely")
    run.add_argument("function", help="the spec function (`hypspec list functions`)")
    run.add_argument("args", nargs="*", help="its arguments: numbers, TRUE/FALSE, enum members")
    run.add_argument("--set", action="append", metavar="REG[.FIELD]=VALUE",
                     help="a register, or one field of it, before the call (repeatable)")
    run.add_argument("--mem", action="append", metavar="ADDRESS=WORD",
                     help="a 64-bit word of physical memory at an 8-byte aligned address (repeatable)")
    run.add_argument("--spec", action="append", type=path_argument, metavar="PATH",
                     help="spec chapters or directories to load (repeatable; default: spec/)")
    run.add_argument("--json", action="store_true", help="print the result and the registers as JSON")
    run.set_defaults(run=cmd_run)


def add_prove_parser(sub: argparse._SubParsersAction) -> None:
    prove = sub.add_parser("prove", help="prove properties with Z3")
    prove.add_argument("properties", nargs="*",
                       help="properties, invariants or observations "
                            "(`hypspec list properties`; default: all)")
    prove.add_argument("--json", action="store_true", help="print the results as JSON")
    prove.add_argument("--junit", type=output_file, metavar="FILE",
                       help="also write the results as JUnit XML: a test per property, invariant or "
                            "observation (and per mutant with --mutants)")
    prove.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                       help="solver time per property and per obligation (default: "
                            f"{DEFAULT_TIMEOUT_S:g} s for a property, and for the model's obligations "
                            "what its manifest budgets, `obligation_timeout_s`)")
    prove.add_argument("--mutants", action="store_true",
                       help="also check that mutants are caught: those whose caught_by names a "
                            "property named (or an obligation of one), or, with none named, every "
                            "mutant of the spec and of the model")
    prove.add_argument("--jobs", type=job_count, default=min(2, os.cpu_count() or 1),
                       help="processes for the model's obligations")
    prove.add_argument("--variant", metavar="NAME",
                       help="prove a variant of the model (models/kvm_arm/variants.toml), e.g. linux-3.10")
    prove.set_defaults(run=cmd_prove, solver=True)


#: What `hypspec list` lists.
LISTS = ("categories", "functions", "properties", "registers")


def add_list_parser(sub: argparse._SubParsersAction) -> None:
    listing = sub.add_parser("list", help="list the names the other subcommands take",
                             description="Print, sorted, the names of the spec, the KVM/ARM model and "
                                         "proofs/: functions with their signatures, registers, the "
                                         "properties, invariants and observations `hypspec prove` "
                                         "takes, or the vector categories `hypspec vectors` takes.")
    listing.add_argument("what", type=one_of("list", LISTS), help=f"what to list: {', '.join(LISTS)}")
    listing.set_defaults(run=cmd_list)


def existing_paths(given: Sequence[Path] | None, default: list[Path]) -> list[Path]:
    """The paths a user named (each must exist), or `default` when none was named."""
    paths = list(given) if given else default
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    return paths


def cmd_prove(args: argparse.Namespace) -> int:
    from hypspec.proof.report import run_proofs

    return run_proofs(args)


def cmd_check(args: argparse.Namespace) -> int:
    from hypspec.api import Spec, proof_tree, spec_hash
    from hypspec.lang.diagnostics import SpecError

    paths = existing_paths(args.paths, proof_tree())
    if args.json:
        try:
            print(json.dumps(_checked_json(Spec.load(*paths)), indent=2))
        except SpecError as err:  # still a failed check (1), told as JSON on standard output
            print(json.dumps(_diagnostics_json(err), indent=2))
            return ExitCode.FAILED
        return ExitCode.OK
    spec = Spec.load(*paths)
    program = spec.program
    print(
        f"ok: {len(spec.loaded.files)} chapter(s), {len(program.functions)} function(s) "
        f"({len(program.properties)} propert{'y' if len(program.properties) == 1 else 'ies'}), "
        f"{sum(1 for g in program.globals.values() if g.is_register)} register(s); "
        f"spec hash {spec_hash()[:16]}, tree hash {spec.digest[:16]}"
    )
    return ExitCode.OK


def _checked_json(spec: Any) -> dict[str, Any]:
    """`check --json` of a spec that checks: what it holds, by name."""
    from hypspec.api import spec_hash
    from hypspec.lang.load import display_name

    program = spec.program
    return {
        "ok": True,
        "spec_hash": spec_hash(),
        "tree_hash": spec.digest,
        "chapters": [display_name(path) for path in spec.loaded.files],
        "functions": sorted(program.functions),
        "properties": sorted(program.properties),
        "registers": sorted(n for n, g in program.globals.items() if g.is_register),
    }


def _diagnostics_json(err: Any) -> dict[str, Any]:
    """`check --json` of a spec with errors: each one where the text output puts it."""
    found = [{"file": d.loc.file, "line": d.loc.line, "col": d.loc.col, "message": d.message}
             for d in err.diagnostics]
    return {"ok": False, "errors": len(found), "diagnostics": found}


def cmd_list(args: argparse.Namespace) -> int:
    if args.what == "categories":
        names = sorted(CATEGORIES)
    else:
        from hypspec.api import Spec, proof_tree
        from hypspec.proof.report import proof_names

        spec = Spec.load(*proof_tree())
        if args.what == "functions":
            names = [signature(f) for _, f in sorted(spec.program.functions.items())]
        elif args.what == "registers":
            names = sorted(n for n, g in spec.program.globals.items() if g.is_register)
        else:
            names = sorted(proof_names(spec))
    for name in names:
        print(name)
    return ExitCode.OK


# Roles whose result type the declaration does not write: properties, invariants and secrets are
# boolean, transitions return nothing.
_IMPLICIT_RESULT = {"property", "invariant", "secret", "transition"}


def signature(func: FuncDecl) -> str:
    """A function as its declaration heads it: `bits(40) F(bits(40) ipa, boolean iswrite)`,
    `property P(...)`, `observation bits(32) O(...)`."""
    role = "property" if func.is_property else func.role
    words = [role] if role else []
    if func.result_ty is not None and role not in _IMPLICIT_RESULT:
        words.append(str(func.result_ty))
    params = ", ".join(f"{p.ty} {p.name}" for p in func.params)
    return " ".join([*words, f"{func.name}({params})"])


def _parse_value(text: str) -> object:
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return int(text, 0)
    except ValueError:
        return text  # an enumeration member, checked by the API


def _number(text: str, what: str) -> int:
    """A number as a user writes it on the command line (decimal, 0x, 0b, 0o)."""
    try:
        return int(text, 0)
    except ValueError:
        message = f"{what}: '{text}' is not a number (write it in decimal, or with 0x, 0b or 0o)"
        raise _state_error(message) from None


def _registers(assignments: Sequence[str]) -> dict[str, object]:
    """The registers `--set` gives, whole or by field."""
    registers: dict[str, object] = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        if not value:
            raise _state_error(f"--set takes NAME=VALUE or REG.FIELD=VALUE, not '{assignment}'")
        if "." in name:
            reg, field_name = name.split(".", 1)
            fields = registers.setdefault(reg, {})
            if not isinstance(fields, dict):
                raise _state_error(f"{reg} is set both whole and by field")
            fields[field_name] = _number(value, f"--set {name}")
        elif isinstance(registers.get(name), dict):
            raise _state_error(f"{name} is set both whole and by field")
        else:
            registers[name] = _number(value, f"--set {name}")
    return registers


def _memory(words: Sequence[str]) -> dict[int, int]:
    """The physical memory words `--mem` gives, by byte address (the API refuses one that is not a
    word's)."""
    memory = {}
    for word in words:
        address, _, value = word.partition("=")
        if not value:
            raise _state_error(f"--mem takes ADDRESS=WORD, not '{word}'")
        memory[_number(address, "--mem address")] = _number(value, f"--mem {address}")
    return memory


def _state_error(message: str) -> Exception:
    """The API's error for a bad register or memory value, which `run`'s options are."""
    from hypspec.api import StateError

    return StateError(message)


def cmd_run(args: argparse.Namespace) -> int:
    from hypspec.api import SPEC_DIR, Spec

    # the command line is checked before the spec is loaded, which takes a second
    registers = _registers(args.set or [])
    memory = _memory(args.mem or [])
    spec = Spec.load(*existing_paths(args.spec, [SPEC_DIR]))
    if memory:
        registers["PhysMem"] = memory
    state = spec.state(**registers)
    effects = spec.trace(args.function, *(_parse_value(a) for a in args.args), state=state)
    if args.json:
        print(json.dumps(effects.as_json(), indent=2, sort_keys=True))
    else:
        returns = spec.program.functions[args.function].result_ty is not None
        print(f"{args.function} = {_pretty(effects.result)}" if returns else f"{args.function}: done")
        for line in _effects_lines(effects):
            print(line)
    return ExitCode.OK


def _entry(name: str, key: int) -> str:
    return f"{name}[{key:#x}]"  # physical memory by byte address, as `--mem` takes it


def _effects_lines(effects: Effects) -> list[str]:
    """What the call did, one line a global, map entry or UNKNOWN, in four groups."""
    lines: list[str] = []
    read = [f"  {name} = {_pretty(value, 1)}" for name, value in effects.read.items()]
    read += [f"  {_entry(name, key)} = {_pretty(value, 1)}"
             for (name, key), value in effects.entries_read.items()]
    changed = [f"  {name}: {_pretty(before, 1)} -> {_pretty(after, 1)}"
               for name, (before, after) in effects.changed.items()]
    changed += [f"  {_entry(name, key)}: {_pretty(before, 1)} -> {_pretty(after, 1)}"
                for (name, key), (before, after) in effects.entries_changed.items()]
    unknowns = [f"  {loc} = {value:#x}" for loc, value in effects.unknowns.items()]
    for title, group in (("read", read), ("changed", changed), ("UNKNOWN chosen", unknowns)):
        if group:
            lines += [f"{title}:", *group]
    return lines


def _pretty(value: object, indent: int = 0) -> str:
    if isinstance(value, dict):
        pad = "  " * (indent + 1)
        inner = "\n".join(f"{pad}{k}: {_pretty(v, indent + 1)}" for k, v in value.items())
        return "\n" + inner
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:#x}" if value > 9 else str(value)
    return str(value)
