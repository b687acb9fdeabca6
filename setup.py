"""Build hook: a wheel of hypspec carries the text the engine loads.

The chapters, the model and the properties (with their mutants, variants and scenarios) live at
the top of the checkout, beside the package, and stay there: readers and editors find them at
`spec/`, `models/`, `proofs/`. An installed package has no checkout beside it, so when setuptools
builds the package (a wheel, or `pip install .`) this hook copies those directories, and `docs/`
for `hypspec docs`, into `hypspec/_tree/` of the build. `hypspec.paths` looks for the checkout
first and for that copy second.

Why a build step rather than package-data: package-data only takes files under a package's own
directory, and mapping `spec/` and the rest into a subpackage with `package-dir` would mean listing
every package (and every subdirectory of the tree) by hand instead of finding them. A copy at build
time keeps the repository's layout, needs no list, and leaves editable installs alone: there the
package is the checkout's, and so is the tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CHECKOUT = Path(__file__).resolve().parent
# The directories of the checkout an installed package needs, and where the build puts them.
TREES = ("spec", "models", "proofs", "docs")
PACKAGED = Path("hypspec", "_tree")


class BuildWithTree(build_py):
    """Build the package as usual, then copy the tree into it (not for an editable install)."""

    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):
            copy_tree(Path(self.build_lib) / PACKAGED)


def copy_tree(target: Path) -> None:
    """A fresh copy of TREES under `target`: a rebuild must not keep a chapter since deleted."""
    shutil.rmtree(target, ignore_errors=True)
    for tree in TREES:
        shutil.copytree(CHECKOUT / tree, target / tree,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithTree})
