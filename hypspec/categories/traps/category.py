"""The traps category (one line of `hypspec.categories.registry`)."""

from __future__ import annotations

from hypspec.categories.category import Category
from hypspec.categories.traps.conform import HARNESS

CATEGORY = Category("traps", HARNESS, "hypspec.categories.traps.generate", operation="Model.TrapDecision")
