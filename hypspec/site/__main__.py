"""`python -m hypspec.site`: build the reader's site (what `make docs` runs)."""

from __future__ import annotations

from hypspec.site.cli import main

raise SystemExit(main())
