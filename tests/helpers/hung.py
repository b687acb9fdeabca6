"""What a conformance run that QEMU never finishes must say: which image, which case, and where
the image was kept to be run again."""

from __future__ import annotations

import re
import shutil
from pathlib import Path


def assert_hung_image_kept(message: str, case: str) -> None:
    assert f"in case {case!r}" in message and "after 0 of" in message, message
    found = re.search(r"the image is kept at (\S+)$", message)
    assert found is not None, message
    image = Path(found.group(1))
    assert image.is_file() and image.read_bytes()[:4] == b"\x7fELF", image
    shutil.rmtree(image.parent)  # the test's own leftover
