"""The noninterference engine on a small model written for the purpose: two copies of the state in
one query, proved when no step moves the secret box's data into another, refuted (with both runs
replayed) when one does, and the declarations' rules enforced."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypspec.api import Spec
from hypspec.lang.diagnostics import SpecError
from hypspec.model.noninterference import prove_observation
from hypspec.model.program import Model, ModelError
from hypspec.proof.prover import PROVED, REFUTED

BOXES = """# Boxes, one of them secret

### `PE`
*Source:* test.
```spec
type PE is bits(1) { 0:0 Aff0 };
```

### `Data`
*Source:* test.
```spec
shared var map bits(2) of bits(8) Data;
```

### `Write()`
*Source:* test.
```spec
transition Write(PE pe, bits(2) box, bits(8) value)
    Data[box] = value;
```

### `Sees()`
*Source:* test.
```spec
observation bits(8) Sees(bits(2) secret, bits(2) box)
    return if box == secret then Zeros(8) else Data[box];
```
"""

COPY = """
### `Copy()`
*Source:* test.
```spec
transition Copy(PE pe, bits(2) source, bits(2) target)
    Data[target] = Data[source];
```
"""


def model_of(tmp_path: Path, *parts: str) -> Model:
    chapter = tmp_path / "boxes.md"
    chapter.write_text(BOXES + "".join(parts), encoding="utf-8")
    return Model(Spec.load(chapter))


def test_steps_that_keep_boxes_apart_leak_nothing(tmp_path: Path) -> None:
    result = prove_observation(model_of(tmp_path), "Sees")
    assert result.status == PROVED, result.detail
    assert [o.name for o in result.obligations] == ["Sees after Write"]


def test_a_step_that_copies_the_secret_out_is_refuted_with_both_runs_replayed(tmp_path: Path) -> None:
    result = prove_observation(model_of(tmp_path, COPY), "Sees")
    assert result.status == REFUTED
    cex = result.counterexample
    assert cex is not None and cex.replayed
    assert cex.params["Copy.source"] == cex.params["Sees.secret"]
    assert cex.params["Copy.target"] == cex.params["Sees.box"] != cex.params["Sees.secret"]
    assert cex.observed[0] != cex.observed[1]
    assert "Sees is different in the two runs after Copy" in cex.render()


def test_a_copy_between_public_boxes_only_leaks_nothing(tmp_path: Path) -> None:
    guarded = COPY.replace("    Data[target] = Data[source];",
                           "    if source == 0 then\n        return;\n    Data[target] = Data[source];")
    fixed = BOXES.replace("if box == secret then", "if box == secret || secret != 0 then")
    chapter = tmp_path / "boxes.md"
    chapter.write_text(fixed + guarded, encoding="utf-8")
    result = prove_observation(Model(Spec.load(chapter)), "Sees")
    assert result.status == PROVED, result.detail


def test_an_observation_cannot_be_called(tmp_path: Path) -> None:
    caller = """
### `Peek()`
*Source:* test.
```spec
bits(8) Peek()
    return Sees(0, 1);
```
"""
    with pytest.raises(SpecError, match="Sees is an observation and cannot be called"):
        model_of(tmp_path, caller)


def test_the_secret_comes_first_and_is_not_a_pe(tmp_path: Path) -> None:
    wrong = BOXES.replace("observation bits(8) Sees(bits(2) secret, bits(2) box)",
                          "observation bits(8) Sees(PE secret, bits(2) box)").replace(
                          "if box == secret then", "if box == ZeroExtend(secret, 2) then")
    chapter = tmp_path / "boxes.md"
    chapter.write_text(wrong, encoding="utf-8")
    with pytest.raises(ModelError, match="the first parameter names the secret"):
        Model(Spec.load(chapter))
