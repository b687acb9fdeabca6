"""The stage2 category (one line of `hypspec.categories.registry`)."""

from __future__ import annotations

from hypspec.categories.category import Category
from hypspec.categories.stage2.conform import HARNESS

CATEGORY = Category("stage2", HARNESS, "hypspec.categories.stage2.generate",
                    operation="Model.Stage2GuestAccess")
