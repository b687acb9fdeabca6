"""The small interface between a vector category and the commands that use it.

`hypspec vectors` needs a category's generator; `hypspec conform` needs its harness: how a
file's vectors become cases, how the cases run on QEMU, how an observation is compared with its
vector, and how the cases are written as images for a board.  Several categories may share one
harness (the script harness runs gic, timers and tlb vectors together, in the same images), so
the harness is an object of its own that categories point to.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypspec.conformance.compare import Disagreement

if TYPE_CHECKING:
    from hypspec.vectors.generated import Generated


@dataclass(frozen=True)
class LoadedVector:
    """A vector of a run, with the case its harness made of it."""

    file: Path
    category: str  # the file's meta.category: the report's row
    vector: dict[str, Any]
    case: Any  # the harness's case (`Stage2Case`, `TrapCase`, `ScriptCase`); its id is the vector's
    window: tuple[int, int] | None = None  # script files: meta.count_window (lo, hi)


#: Makes the `LoadedVector` of one vector of a file; raises `ConformanceInputError` when the
#: harness cannot run it (conform gathers these and reports them all before anything runs).
VectorLoader = Callable[[dict[str, Any]], LoadedVector]
#: ``loader(path, category, meta)``: the `VectorLoader` of the file ``path`` (its ``meta``,
#: labelled ``category``); raises `ConformanceInputError` when the file's meta is unusable.
FileLoader = Callable[[Path, str, dict[str, Any]], VectorLoader]
#: ``compare(items, observations, batch)``: the disagreements of each item with its observation,
#: in a run made with ``batch`` cases to an image.
Comparison = Callable[[Sequence[LoadedVector], Sequence[Any], int], list[list[Disagreement]]]


@dataclass(frozen=True)
class Harness:
    """A bare-metal harness: what `hypspec conform` does with the cases of the categories on it."""

    #: The fields its disagreements name (``memory`` for ``memory[<pa>]``, ``read`` for
    #: ``read[<step>]``): what a deviation entry may name.
    fields: tuple[str, ...]
    #: How the vectors of a file become cases.
    loader: FileLoader
    #: ``run(cases, batch=, jobs=)``: run the cases on QEMU, ``batch`` to an image, ``jobs`` at
    #: once; one observation each (with the case's id), in order.
    run: Callable[..., Sequence[Any]]
    #: Where each observation differs from its vector.
    compare: Comparison
    #: ``emit(items, out_dir, batch)``: write the images of the items to ``out_dir``, each with a
    #: manifest of what a board run must show; return the ELFs.
    emit: Callable[[Sequence[LoadedVector], Path, int], list[Path]]


def vector_loader(
    to_case: Callable[[dict[str, Any]], Any],
    validate: Callable[[Any], None],
    checks: Callable[[dict[str, Any]], object],
) -> FileLoader:
    """The loader of a harness whose vectors need nothing from their file: ``to_case(vector)`` is
    each vector's case, which ``validate`` refuses if the harness cannot run it, and ``checks``
    refuses the vector if the harness cannot observe what it expects."""

    def loader(path: Path, category: str, meta: dict[str, Any]) -> VectorLoader:
        def load(vector: dict[str, Any]) -> LoadedVector:
            case = to_case(vector)
            validate(case)
            checks(vector)
            return LoadedVector(path, category, vector, case)

        return load

    return loader


def each_item(compare: Callable[[LoadedVector, Any], list[Disagreement]]) -> Comparison:
    """The comparison of a harness that compares each item with its observation alone."""

    def compare_all(
        items: Sequence[LoadedVector], observations: Sequence[Any], batch: int
    ) -> list[list[Disagreement]]:
        return [compare(item, seen) for item, seen in zip(items, observations, strict=True)]

    return compare_all


@dataclass(frozen=True)
class Category:
    """A vector category: what `hypspec vectors CATEGORY` makes and `hypspec conform` runs."""

    name: str
    harness: Harness
    #: The module whose ``generate(spec, seed, random, writer, progress, *, meter)`` makes the
    #: vectors.  Named, not imported: generators need the solver, which conform does not.
    generator: str
    #: The spec operation each vector describes (``vector.operation.name``); None for scripts.
    operation: str | None = None

    def generate(self) -> Callable[..., Generated]:
        module = importlib.import_module(self.generator)
        return module.generate  # type: ignore[no-any-return]
