"""The command line from a user's point of view: `hypspec run` and `check`, the exit codes, and
the conventions every subcommand keeps (`--version`, `list`, suggestions for unknown names,
defaults in `--help`)."""

from __future__ import annotations

import argparse
import json
import re
import signal
import tomllib
from importlib import metadata

import pytest

from hypspec.api import ROOT
from hypspec.cli import build_parser, main
from hypspec.concrete.runtime import SpecAssertionError
from hypspec.exitcodes import ExitCode
from hypspec.names import did_you_mean


def test_run_evaluates_a_spec_function_with_registers_and_memory(capsys) -> None:
    # A level-1 table at 0x48000000 whose entry 2 is a table at 0x48001000, whose entry 3
    # is a read-only 2MB block at 0x50600000: a write faults with a permission fault at level 2.
    status = main(["run", "AArch32.SecondStageTranslate", "0x80612344", "AccType_NORMAL", "TRUE",
                   "--set", "VTCR.SL0=1", "--set", "VTTBR=0x48000000",
                   "--mem", "0x48000010=0x48001003", "--mem", "0x48001018=0x50600441", "--json"])
    assert status == 0
    output = json.loads(capsys.readouterr().out)
    assert output["result"]["fault"]["statuscode"] == "Fault_Permission"
    assert output["result"]["fault"]["level"] == 2
    assert output["result"]["paddress"] == 0x50612344


def _run_json(capsys, *argv: str) -> dict:
    assert main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_shows_what_the_walk_read(capsys) -> None:
    """The walk reads the two configuration registers and one descriptor per level, the level 1
    entry at 0x48000000 + 8 * 2 and the level 2 entry at 0x48001000 + 8 * 3, and writes nothing."""
    output = _run_json(capsys, "AArch32.SecondStageTranslate", "0x80612344", "AccType_NORMAL", "FALSE",
                       "--set", "VTCR.SL0=1", "--set", "VTTBR=0x48000000",
                       "--mem", "0x48000010=0x48001003", "--mem", "0x48001018=0x50600441")
    assert set(output["read"]) == {"VTCR", "VTTBR"}
    assert output["read"]["VTTBR"] == 0x48000000
    words = {e["key"]: e["value"] for e in output["entries_read"]}  # physical memory by byte address
    assert words == {0x48000010: 0x48001003, 0x48001018: 0x50600441}
    assert output["changed"] == {} and output["entries_changed"] == [] and output["unknowns"] == {}


def test_run_shows_a_memory_word_before_and_after(capsys) -> None:
    """A word store to the low half of a doubleword keeps its high half (little-endian)."""
    output = _run_json(capsys, "MemWrite", "0x48000010", "4", "0x11223344",
                       "--mem", "0x48000010=0xAAAABBBBCCCCDDDD")
    assert output["entries_changed"] == [{"map": "PhysMem", "key": 0x48000010,
                                          "before": 0xAAAABBBBCCCCDDDD, "after": 0xAAAABBBB11223344}]


def test_run_shows_a_register_changed_to_an_unknown(capsys) -> None:
    """An address translation operation writes an UNKNOWN value to PAR (spec/13)."""
    output = _run_json(capsys, "Model.SysOpWrite", "SysReg_ATS1CPR", "0", "--set", "PAR=5")
    (chosen,) = output["unknowns"].values()
    assert output["changed"] == {"PAR": {"before": 5, "after": chosen}}


def test_a_traced_call_that_stops_leaves_plain_maps(spec) -> None:
    """Rmode asserts its register number is at most 14: the call stops, the state stays usable."""
    state = spec.state(PhysMem={0x10: 5})
    with pytest.raises(SpecAssertionError):
        spec.trace("Rmode", 15, 0x10, state=state)
    assert type(state.PhysMem) is dict and spec.memory(state) == {0x10: 5}


def test_run_prints_reads_and_changes_as_text(capsys) -> None:
    assert main(["run", "Model.SysRegWrite32", "SysReg_HCR", "0xFFFFFFFF"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines() == ["Model.SysRegWrite32: done", "changed:", "  HCR: 0 -> 0xfffffff"]


# `hypspec run` arguments that must be refused, and what the message must say.
RUN_REJECTIONS = [
    (["CurrentPL", "--set", "NOPE=1"], ["unknown register or global 'NOPE'"]),
    (["CurrentPL", "--set", "CPSR.X=1"], ["CPSR has no field 'X'"]),
    (["CurrentPL", "--set", "CPSR.M=0x20"], ["does not fit in 5 bits"]),
    (["AArch32.SecondStageTranslate", "0", "AccType_BOGUS", "FALSE"],
     ["expected one of AccType_NORMAL, AccType_IFETCH"]),
    (["CurrentPL", "--set", "VTCR.SL0=abc"], ["--set VTCR.SL0: 'abc'"]),
    (["CurrentPL", "--set", "VTTBR=1x"], ["--set VTTBR"]),
    (["CurrentPL", "--mem", "zz=1"], ["--mem address: 'zz'"]),
    (["CurrentPL", "--mem", "0x10=ten"], ["--mem 0x10: 'ten'"]),
    (["CurrentPL", "--mem", "0x10"], ["--mem takes ADDRESS=WORD, not '0x10'"]),
    (["CurrentPL", "--mem", "0x14=1"], ["a multiple of 8"]),
    (["CurrentPL", "--set", "PhysMem=1"], ["PhysMem is a map"]),
    (["CurrentPL", "--set", "CPSR=0x13", "--set", "CPSR.M=0x10"], ["CPSR is set both whole and by field"]),
    (["CurrentPL", "--set", "CPSR.M=0x10", "--set", "CPSR=0x13"], ["CPSR is set both whole and by field"]),
    # Rmode asserts its register number is at most 14
    (["Rmode", "15", "0x10"], ["the spec's assert does not hold", "spec/02-processor-state.md:"]),
]


@pytest.mark.parametrize("arguments, messages", RUN_REJECTIONS, ids=[" ".join(a) for a, _ in RUN_REJECTIONS])
def test_run_rejects_bad_input_with_a_message(capsys, arguments: list[str], messages: list[str]) -> None:
    """Exit 2 and a message naming what is wrong, never a traceback."""
    assert main(["run", *arguments]) == 2
    err = capsys.readouterr().err
    for message in messages:
        assert message in err


def test_check_reports_the_spec(capsys) -> None:
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_check_of_a_path_that_does_not_exist_is_a_usage_error(capsys) -> None:
    """A mistyped path is a mistake in the call (2), not an error in the spec (1)."""
    assert main(["check", "no/such/chapter.md"]) == ExitCode.USAGE
    assert "no such file or directory: no/such/chapter.md" in capsys.readouterr().err


# --- The exit codes: one table, in the module, `hypspec --help` and docs/cli.md ------------------


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _epilog_table() -> dict[int, str]:
    """The codes `hypspec --help` lists, with their meanings (unwrapped)."""
    help_text = build_parser().format_help()
    table = help_text.split("exit codes:", 1)[1]
    entries = re.split(r"^  (\d+) +", table, flags=re.MULTILINE)[1:]
    pairs = zip(entries[::2], entries[1::2], strict=True)
    return {int(code): _normalised(meaning) for code, meaning in pairs}


def _docs_table() -> dict[int, str]:
    """The codes docs/cli.md lists under "Exit codes", with their meanings."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.MULTILINE)
    return {int(code): _normalised(meaning) for code, meaning in rows}


def test_help_and_docs_list_exactly_the_exit_codes_of_the_module() -> None:
    defined = {code.value: _normalised(code.meaning) for code in ExitCode}
    assert _epilog_table() == defined
    assert _docs_table() == defined


def test_the_exit_codes_keep_the_values_scripts_rely_on() -> None:
    """argparse exits 2 on a usage error, and a shell reports 128 + SIGINT for Ctrl-C: the table
    must agree with both, whatever else changes in it."""
    assert ExitCode.USAGE == 2
    assert ExitCode.INTERRUPTED == 128 + signal.SIGINT
    assert ExitCode.OK == 0 and len({int(c) for c in ExitCode}) == len(ExitCode)
    with pytest.raises(SystemExit) as usage:
        main(["prove", "--jobs", "none"])
    assert usage.value.code == ExitCode.USAGE


# --- Conventions: --version, list, suggestions, defaults -----------------------------------------


def test_version_is_the_package_version(capsys) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"hypspec {declared}"
    assert metadata.version("hypspec") == declared


def _listed(capsys, what: str) -> list[str]:
    assert main(["list", what]) == ExitCode.OK
    return capsys.readouterr().out.splitlines()


def test_list_categories_are_what_vectors_takes(capsys, tmp_path) -> None:
    listed = _listed(capsys, "categories")
    assert listed == sorted(listed) == ["gic", "stage2", "timers", "tlb", "traps"]
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    for category in listed:
        # argparse takes the category, and the command stops at --out, which is a file, before
        # any search
        assert main(["vectors", category, "--out", str(not_a_directory)]) == ExitCode.USAGE
        assert "File exists" in capsys.readouterr().err


def test_vectors_help_and_docs_name_every_category(capsys) -> None:
    """`hypspec vectors --help` and the subcommand table of docs/cli.md name the categories `list
    categories` gives, and no other."""
    listed = _listed(capsys, "categories")
    with pytest.raises(SystemExit):
        main(["vectors", "--help"])
    usage = _normalised(capsys.readouterr().out)
    named = re.search(r"category what the vectors exercise: ([a-z0-9, ]+?) options:", usage)
    assert named is not None and named.group(1).split(", ") == listed
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `vectors CATEGORY"))
    documented = re.findall(r"`([a-z0-9]+)`", row.split("|")[2])
    assert documented == listed


def test_list_registers_are_registers_run_can_set(capsys, spec) -> None:
    listed = _listed(capsys, "registers")
    assert listed == sorted(set(listed))
    assert {"CPSR", "HCR", "VTCR", "VTTBR", "HSR", "SCTLR"} <= set(listed)
    assert "PhysMem" not in listed  # memory is a map, set with --mem
    for name in listed:
        spec.state(**{name: 0})  # a register the API (and so `run --set`) takes


# Declarations as the chapters write them (file, line), which `hypspec list functions` must print
# as they are.
DECLARATIONS = [
    ("spec/02-processor-state.md", "bits(32) Rmode(integer n, bits(5) mode)"),
    ("spec/02-processor-state.md", "SetRmode(integer n, bits(5) mode, bits(32) value)"),
    ("models/kvm_arm/03-highvisor.md", "transition KVM.BootPE(PE pe)"),
    ("proofs/kvm-world-switch.md", "invariant KVM.Inv.PEState(PE pe)"),
    ("proofs/kvm-world-switch.md",
     "observation bits(225) KVM.NoLeak.VcpuData(KVM.VMId a, KVM.VcpuId w)"),
    ("proofs/stage2.md", "property Stage2.Containment(bits(40) ipa, AccType acctype, boolean iswrite, "
                         "bits(40) regionbase, bits(40) regionlast)"),
]


def test_list_functions_prints_each_signature_as_declared(capsys) -> None:
    listed = _listed(capsys, "functions")
    # the name is what stands before the parameter list, the last parenthesis of the line (a
    # result or parameter type may hold one of its own: bits(32))
    names = [re.fullmatch(r".*?([\w.]+)\((?:[^()]|\(\w+\))*\)", line).group(1) for line in listed]
    assert names == sorted(set(names))
    for path, declaration in DECLARATIONS:
        assert declaration in (ROOT / path).read_text(encoding="utf-8").splitlines()
        assert declaration in listed


def test_list_properties_are_every_property_invariant_and_observation_of_the_sources(capsys) -> None:
    """Compared with the declarations in the chapters' text, not with the loader's view of them."""
    declared = set()
    for path in [*(ROOT / "proofs").glob("*.md"), *(ROOT / "models" / "kvm_arm").glob("*.md")]:
        text = path.read_text(encoding="utf-8")
        declared |= set(re.findall(r"^(?:property|invariant) ([\w.]+)\(", text, flags=re.MULTILINE))
        declared |= set(re.findall(r"^observation \S+ ([\w.]+)\(", text, flags=re.MULTILINE))
    listed = _listed(capsys, "properties")
    assert listed == sorted(listed)
    assert set(listed) == declared


@pytest.mark.parametrize("arguments, suggestion", [
    (["run", "CurrentPl"], "unknown spec function 'CurrentPl' (did you mean 'CurrentPL'"),
    (["run", "CurrentPL", "--set", "CPSRR=1"], "unknown register or global 'CPSRR' (did you mean 'CPSR'"),
    (["run", "CurrentPL", "--set", "CPSR.MM=1"], "CPSR has no field 'MM' (did you mean 'M'?)"),
    (["prove", "Stage2.Containmen"],
     "unknown property 'Stage2.Containmen' (did you mean 'Stage2.Containment'?)"),
    (["prove", "Containment"], "(did you mean 'Stage2.Containment'?)"),
    (["prove", "--variant", "linux-3.1"], "unknown model variant 'linux-3.1' (did you mean 'linux-3.10'?)"),
    (["vectors", "gicc", "--out", "x"], "invalid choice: 'gicc' (did you mean 'gic'?)"),
    (["list", "function"], "invalid choice: 'function' (did you mean 'functions'?)"),
])
def test_an_unknown_name_is_refused_with_the_closest_names(capsys, arguments: list[str],
                                                           suggestion: str) -> None:
    try:
        code = main(arguments)
    except SystemExit as exit_:  # the names argparse checks
        code = exit_.code
    assert code == ExitCode.USAGE
    assert suggestion in capsys.readouterr().err


def test_no_suggestion_when_no_name_is_close() -> None:
    assert did_you_mean("Zzzzzz", ["CPSR", "HCR"]) == ""
    assert did_you_mean("hcr", ["CPSR", "HCR"]) == " (did you mean 'HCR'?)"


@pytest.mark.parametrize("arguments", [["prove", "--variant", ""], ["table1", "--variant", ""]])
def test_an_empty_variant_is_unknown_not_none(capsys, arguments: list[str]) -> None:
    """`--variant ""` (an unset shell variable) once proved, or counted, the model itself."""
    assert main(arguments) == ExitCode.USAGE
    assert "unknown model variant ''" in capsys.readouterr().err


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"hypspec": parser, **action.choices}


@pytest.mark.parametrize("name, parser", list(_subcommands().items()))
def test_every_help_explains_every_option_and_shows_its_default(name: str,
                                                                parser: argparse.ArgumentParser) -> None:
    squeezed = "".join(parser.format_help().split())  # help lines wrap anywhere, a long path included
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help, f"{name} {action.dest}: no help text"
        default = action.default
        if default in (None, False, [], argparse.SUPPRESS):
            continue  # off or unset by default: nothing to show
        assert f"(default:{''.join(str(default).split())})" in squeezed, f"{name} {action.dest}"
