"""Output files that are whole or absent: what a command leaves when it fails or is interrupted.

A file is written under a temporary name beside its destination and renamed over it, so a
reader never sees half of one; a directory a command made for its output is removed again if
the command does not finish; a set of files that belong together (images and their manifests)
is built in a scratch directory and moved into place only once all of it exists.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from hypspec.interrupt import interrupt_after


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file written under a temporary name beside `path` and renamed over it when the
    block completes: `path` holds either its old content or everything the block wrote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes the file private; an output is not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write `path` in one rename: it holds either its old content or all of `data`."""
    with atomic_file(path) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextmanager
def output_directory(path: Path) -> Iterator[Path]:
    """Make `path` and its missing parents now, so that a command fails before its work rather
    than after it; if the block raises (Ctrl-C included), remove the directories made here that
    are still empty."""
    made = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        for directory in made:  # deepest first
            try:
                directory.rmdir()
            except OSError:  # not empty: something else put a file there
                break
        raise


@contextmanager
def staged_directory(path: Path) -> Iterator[Path]:
    """A scratch directory whose files move into `path` when the block completes; if it raises,
    the scratch directory goes and `path` is left as it was (or not made, if it did not exist)."""
    with output_directory(path):
        scratch = Path(tempfile.mkdtemp(dir=path, prefix=".staging-"))
        try:
            yield scratch
            with interrupt_after():  # the files move together or not at all
                for item in sorted(scratch.iterdir()):
                    os.replace(item, path / item.name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
