"""What `hypspec conform` does unless told otherwise: QEMU runs at once, cases per bare-metal image
and the file of judged deviations. Its own module, so that the command line can show them without loading the
harness."""

from __future__ import annotations

from pathlib import Path

#: QEMU runs at once: the machines this runs on have two cores.
DEFAULT_JOBS = 2
#: Cases one QEMU run executes: enough to amortise a boot, few enough that a crash loses little.
DEFAULT_BATCH = 500
#: Every judged disagreement with QEMU, with its citation.
DEFAULT_DEVIATIONS = Path(__file__).with_name("known_deviations.toml")
