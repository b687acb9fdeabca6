"""Where the repository keeps what the engine loads: the architecture, the models and the
properties. A module of its own, free of the engine, so that the command line can name them
without loading anything."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
MODELS_DIR = ROOT / "models"
PROOFS_DIR = ROOT / "proofs"
# The model the properties in proofs/ speak of, besides the architecture.
MODEL_DIR = MODELS_DIR / "kvm_arm"


def proof_tree(root: Path = ROOT, model: Path | None = None) -> list[Path]:
    """What `hypspec prove` loads: the architecture, the KVM/ARM model and the properties."""
    return [root / "spec", model or root / "models" / "kvm_arm", root / "proofs"]
