"""The on-disk cache of work that depends only on text: the checked spec and its compiled code
(and, to order the next run's work, what each of a model's transitions took to prove:
`hypspec.model.schedule`).

Loading the chapters (parsing and checking about 700 blocks) and compiling them to Python take
most of a short command's time. Both are functions of the chapters' text, of the names the
chapters are shown by (source locations, and so the UNKNOWN oracle, print them), and of the
engine that did the work. An entry's key is a digest of all three, so an edit to a chapter or
to the engine can never be answered from an older entry: it is a miss, and the work is done and
stored again.

The cache lives in `$HYPSPEC_CACHE_DIR`, else `$XDG_CACHE_HOME/hypspec`, else
`~/.cache/hypspec`; `HYPSPEC_CACHE_DIR=off` turns it off. It is an accelerator, never a source
of truth: an entry that cannot be read or decoded is a miss, and a directory that cannot be
written leaves the command to run uncached. Entries are written to a temporary file and renamed
into place, so an interrupted write or a concurrent reader never sees half an entry.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import cache
from pathlib import Path

OFF = "off"
# The modules whose code shapes what is stored: the language front end (a loaded spec) and the
# compiler (its code). A change to any of them is a new engine, so every key changes with it.
_ENGINE = ("lang", "concrete")


def directory() -> Path | None:
    """Where entries live, or None when the cache is turned off."""
    chosen = os.environ.get("HYPSPEC_CACHE_DIR")
    if chosen == OFF:
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hypspec"


@cache
def engine_digest() -> str:
    """A digest of the engine's own source files that shape the cached work."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for part in _ENGINE:
        for path in sorted((package / part).iterdir()):
            if path.suffix in (".py", ".lark"):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def key(kind: str, *parts: str) -> str:
    """An entry's name: what it holds, and a digest of the engine and of `parts`."""
    digest = hashlib.sha256(engine_digest().encode())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return f"{kind}-{digest.hexdigest()[:32]}"


def read(name: str) -> bytes | None:
    """The entry's bytes, or None if there is none (or it cannot be read)."""
    where = directory()
    if where is None:
        return None
    try:
        return (where / name).read_bytes()
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Store an entry atomically; a cache that cannot be written is skipped, not an error."""
    where = directory()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=where, prefix=f".{name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, where / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return
