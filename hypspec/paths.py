"""Where the repository keeps what the engine loads: the architecture, the models and the
properties. A module of its own, free of the engine, so that the command line can name them
without loading anything.

In a checkout (an editable install, or the source tree on the path) the tree is the checkout's
top level, beside the package: `spec/`, `models/`, `proofs/`. An installed wheel has no checkout
beside it; it carries a copy of the tree in `hypspec/_tree/`, which setup.py makes at build time.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# The directory a checkout keeps the package in, and the copy a wheel ships.
CHECKOUT_ROOT = _PACKAGE.parent
PACKAGED_ROOT = _PACKAGE / "_tree"


def is_checkout(root: Path) -> bool:
    """Whether `root` is a hypspec checkout. Both marks are asked for: an installed package's
    parent is site-packages, which holds neither, and a stray `spec/` there is not ours."""
    return (root / "pyproject.toml").is_file() and (root / "spec" / "manifest.toml").is_file()


# The checkout wins when there is one, so an edit to a chapter is what the next command loads.
IN_CHECKOUT = is_checkout(CHECKOUT_ROOT)
ROOT = CHECKOUT_ROOT if IN_CHECKOUT else PACKAGED_ROOT
SPEC_DIR = ROOT / "spec"
MODELS_DIR = ROOT / "models"
PROOFS_DIR = ROOT / "proofs"
# The model the properties in proofs/ speak of, besides the architecture.
MODEL_DIR = MODELS_DIR / "kvm_arm"
# What commands build by default (the reader's site): the checkout's build/, and for an installed
# package build/ in the working directory, never a directory inside site-packages.
BUILD_DIR = ROOT / "build" if IN_CHECKOUT else Path("build")


def proof_tree(root: Path = ROOT, model: Path | None = None) -> list[Path]:
    """What `hypspec prove` loads: the architecture, the KVM/ARM model and the properties."""
    return [root / "spec", model or root / "models" / "kvm_arm", root / "proofs"]
