"""`clear M[k] where c;` under the prover: a property about a clear is proved or refuted for
any number of keys, and a refutation replays concretely, including a cleared key whose value
before the clear came from the solver's model."""

from __future__ import annotations

from pathlib import Path

from hypspec.api import SPEC_DIR, Spec
from hypspec.concrete.runtime import RecordingMap, clear_where
from hypspec.proof.prover import PROVED, REFUTED, prove

# Clears the words of one 256-byte line of physical memory (word addresses share bits 36:5).
CLEAR_LINE = "    clear PhysMem[k] where k<36:5> == line<36:5>;\n"


def _prove(tmp_path: Path, body: str) -> object:
    path = tmp_path / "extra.md"
    path.write_text(f"# Extra\n\n### `Extra.P`\n\n*Source:* test. *Status:* Model-only.\n\n"
                    f"```spec\nproperty Extra.P(bits(37) line, bits(37) w)\n{body}```\n")
    return prove(Spec.load(SPEC_DIR, path), "Extra.P")


def test_what_a_clear_leaves_is_proved(tmp_path: Path) -> None:
    before = "    old = PhysMem[w];\n"
    result = _prove(tmp_path, before + CLEAR_LINE +
                    "    return PhysMem[w] == (if w<36:5> == line<36:5> then Zeros(64) else old);\n")
    assert result.status == PROVED


def test_a_word_outside_the_line_is_not_cleared(tmp_path: Path) -> None:
    result = _prove(tmp_path, "    assert PhysMem[w] != Zeros(64);\n" + CLEAR_LINE +
                    "    return PhysMem[w] == Zeros(64);\n")
    assert result.status == REFUTED
    cex = result.counterexample
    assert cex is not None and cex.replayed
    assert cex.params["w"] >> 5 != cex.params["line"] >> 5


def test_a_cleared_word_reads_zero_in_the_replay(tmp_path: Path) -> None:
    """The word held something before (the precondition), so the replay's memory supplies it;
    the clear must still win, or the replay would not confirm the refutation."""
    result = _prove(tmp_path, "    assert PhysMem[w] != Zeros(64);\n" + CLEAR_LINE +
                    "    return w<36:5> != line<36:5> || PhysMem[w] != Zeros(64);\n")
    assert result.status == REFUTED
    cex = result.counterexample
    assert cex is not None and cex.replayed
    assert cex.params["w"] >> 5 == cex.params["line"] >> 5


def test_the_replay_binds_what_the_condition_read_when_the_clear_ran(tmp_path: Path) -> None:
    """A local and a register the condition reads change after the clear: the replay must still
    clear by their values at the clear, for the word it supplies afterwards."""
    result = _prove(tmp_path, "    assert PhysMem[w] != Zeros(64);\n"
                    "    assert w<36:5> == line<36:5> && line<36:5> != Zeros(32) && w<4:0> == VTTBR<4:0>;\n"
                    "    l = line;\n"
                    "    clear PhysMem[k] where k<36:5> == l<36:5> && k<4:0> == VTTBR<4:0>;\n"
                    "    l = Zeros(37);\n"
                    "    VTTBR<4:0> = NOT VTTBR<4:0>;\n"
                    "    return PhysMem[w] != Zeros(64);\n")
    assert result.status == REFUTED
    assert result.counterexample is not None and result.counterexample.replayed


def test_a_recording_map_clears_keys_it_has_not_supplied() -> None:
    supplied = RecordingMap({1: 10}, fill=lambda key: 100 + key)
    assert supplied.get(2) == 102  # read before the clear: the state's value, recorded
    clear_where(supplied, lambda key: key % 2 == 0, 0)
    supplied[4] = 7
    assert [supplied.get(k) for k in (1, 2, 3, 4, 6)] == [10, 0, 103, 7, 0]
    assert supplied.read == {1: 10, 2: 102, 3: 103}  # the state before the run, nothing cleared
