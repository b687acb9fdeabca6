"""The agreement check has teeth: fed the symbolic terms of one function and the compiled code of a
deliberately different one, it names exactly the outputs that differ, and nothing where the two
happen to coincide.

Each divergent pair is `constructs.md` and a copy with one line of `Test.State` changed, so that
one kind of output differs: the result, a register written field by field, or a map entry. The
symbolic call comes from the original, the compiled run from the copy, as if one semantics had a
bug the other did not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hypspec.api import Spec
from hypspec.symbolic.instantiate import disagreements
from tests.semantics.test_constructs import CHAPTER

ORIGINAL = CHAPTER.read_text(encoding="utf-8")
#: (what changes, the line, its replacement, an input where the outputs differ, one where not)
DIVERGENCES = [
    ("result", "    return old;", "    return old + 1;", (5, 0x1234), None),
    ("REG", "    REG.E = if IsOnes(key) then '1' else '0';", "    REG.E = '0';", (63, 0x1234), (5, 0x1234)),
    (
        "Table",
        "    Table[key EOR '000001']<7:0> = value<15:8>;",
        "    Table[key EOR '000001']<7:0> = value<7:0>;",
        (5, 0x1234),
        (5, 0x3434),
    ),
]


@pytest.fixture(scope="module")
def original() -> Spec:
    return Spec.load(CHAPTER)


def _divergent(tmp_path: Path, line: str, replacement: str) -> Spec:
    assert ORIGINAL.count(line) == 1, line
    chapter = tmp_path / "constructs.md"
    chapter.write_text(ORIGINAL.replace(line, replacement), encoding="utf-8")
    return Spec.load(chapter)


@pytest.mark.parametrize("divergence", DIVERGENCES, ids=[d[0] for d in DIVERGENCES])
def test_a_divergent_pair_is_caught_on_the_output_that_differs(
    original: Spec, tmp_path: Path, divergence: tuple
) -> None:
    output, line, replacement, differ, same = divergence
    changed = _divergent(tmp_path, line, replacement)
    call = original.symbolic("Test.State")

    def found(args: tuple) -> list[str]:
        return disagreements(changed, call, list(args), lambda: changed.state(Table={4: 0x00FF, 5: 0x0F0F}))

    assert found(differ) == [output]
    if same is not None:
        assert found(same) == []


def test_the_pair_agrees_with_itself(original: Spec) -> None:
    call = original.symbolic("Test.State")
    for args in ([5, 0x1234], [63, 0xFFFF], [0, 0]):
        assert disagreements(original, call, args, lambda: original.state(Table={4: 0x00FF})) == []
