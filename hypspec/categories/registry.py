"""Every vector category, one line each: adding a category is its package and a line here.

The registry holds names only, so that the command line can offer them without importing any
category.  Its order is the order in which `hypspec conform` runs the harnesses (and lists their
images and the fields a deviation may name): a harness's place is that of its first category.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypspec.categories.category import Category, Harness

#: Category name -> the module defining it (its ``CATEGORY``).
CATEGORIES = {
    "stage2": "hypspec.categories.stage2.category",
    "traps": "hypspec.categories.traps.category",
    "gic": "hypspec.categories.gic.category",
    "timers": "hypspec.categories.timers.category",
    "tlb": "hypspec.categories.tlb.category",
}

#: What a file of an unregistered category is: a user's label for a file of Stage 2 vectors,
#: run and compared as stage2's, and reported under its own label.
DEFAULT = "stage2"


def category(name: str) -> Category:
    """The category ``name``, or, for a label no category has, `DEFAULT`'s."""
    module = importlib.import_module(CATEGORIES.get(name, CATEGORIES[DEFAULT]))
    return module.CATEGORY  # type: ignore[no-any-return]


def categories() -> list[Category]:
    """Every category, in the registry's order."""
    return [category(name) for name in CATEGORIES]


def harnesses() -> list[Harness]:
    """Every harness, once, in the order of its first category."""
    found: list[Harness] = []
    for each in categories():
        if all(each.harness is not seen for seen in found):
            found.append(each.harness)
    return found
