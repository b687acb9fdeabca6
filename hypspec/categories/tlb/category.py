"""The tlb category (one line of `hypspec.categories.registry`): scripts on the script harness."""

from __future__ import annotations

from hypspec.categories.category import Category
from hypspec.categories.script.conform import HARNESS

CATEGORY = Category("tlb", HARNESS, "hypspec.categories.tlb.generate")
