"""Vector files: JSON Lines validated against the shipped schema, on write and on read.

A file is a `meta` record followed by one vector per line. Writing validates
every record as it comes and replaces the file in one rename once all are
there, so an error never leaves a half-written file. Reading names the line and the failing
field of the first bad record.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import fastjsonschema

from hypspec.files import atomic_file

if TYPE_CHECKING:
    import jsonschema

SCHEMA_PATH = Path(__file__).with_name("schema.json")
FORMAT = "hypspec-vectors/1"


class VectorFileError(ValueError):
    """A vector file (or a record about to be written) does not match the schema."""


@dataclass(frozen=True)
class VectorFile:
    meta: dict[str, Any]
    vectors: list[dict[str, Any]]


def _sub_schema(name: str) -> dict[str, Any]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return {"$defs": schema["$defs"], "$ref": f"#/$defs/{name}"}


@cache
def _fast(name: str) -> Callable[[Any], Any]:
    """A compiled validator: quick on the common case, a valid record."""
    return fastjsonschema.compile(_sub_schema(name))


@cache
def _precise(name: str) -> jsonschema.Draft202012Validator:
    """The reference validator, which names the failing field: needed only once a record has
    failed the fast one, so its import (a quarter of `conform`'s start-up) waits until then."""
    import jsonschema

    return jsonschema.Draft202012Validator(_sub_schema(name))


#: Script steps (schema `script_step`) found valid, by content: the vectors of a script file repeat
#: many steps (the readback of the same registers), and checking one costs more than its key.
_VALID_STEPS: set[tuple[Any, ...]] = set()


def _step_key(step: Any) -> tuple[Any, ...]:
    """A hashable key that two step records share iff they are equal with equal types (True and 1,
    1 and 1.0 differ): every (field, type, value) of the step and of its `expect`. TypeError,
    AttributeError or KeyError for a record of another shape (which is then validated in full)."""
    expect = step["expect"]
    inner = None if expect is None else tuple([(k, v.__class__, v) for k, v in expect.items()])
    key = (tuple([(k, v.__class__, v) for k, v in step.items() if k != "expect"]), inner)
    hash(key)
    return key


def _fast_script_vector(record: Any) -> bool:
    """Whether a script vector (one with `steps`) is valid, checking each distinct step once: the
    record with only its first step (the schema needs one), then every step not seen before
    against `script_step`. The same verdict as validating the whole record, since the schema
    checks each item of `steps` on its own. False: invalid or of another shape; the caller then
    validates it in full, and names the failing field."""
    steps = record.get("steps") if isinstance(record, dict) else None
    if not isinstance(steps, list) or not steps:
        return False
    try:
        keys = [_step_key(step) for step in steps]
        _fast("vector")({**record, "steps": steps[:1]})
        for step, key in zip(steps, keys, strict=True):
            if key not in _VALID_STEPS:
                _fast("script_step")(step)
                if len(_VALID_STEPS) < 1 << 20:
                    _VALID_STEPS.add(key)
    except (TypeError, AttributeError, KeyError, fastjsonschema.JsonSchemaException):
        return False
    return True


def _check(record: Any, is_meta: bool, where: str) -> None:
    name = "meta" if is_meta else "vector"
    if not is_meta and _fast_script_vector(record):
        return
    try:
        _fast(name)(record)
        return
    except fastjsonschema.JsonSchemaException:
        pass
    errors = sorted(_precise(name).iter_errors(record), key=lambda e: list(e.absolute_path))
    if not errors:  # the two validators disagree: trust neither silently
        raise VectorFileError(f"{where}: rejected by the schema")
    if errors:
        first = errors[0]
        field = "/".join(str(p) for p in first.absolute_path) or "(record)"
        raise VectorFileError(f"{where}: field '{field}': {first.message}")


@dataclass
class VectorWriter:
    """A vector file being written as its vectors are made (`hypspec vectors --random N` holds one
    vector at a time, not N); made by `vector_writer`. Each vector is validated and appended to an
    unnamed scratch file as it comes; `finish(meta)` validates the meta record, which counts and
    summarises the vectors and so comes last, puts it first, and renames the whole into place."""

    path: Path
    body: BinaryIO
    count: int = 0
    ids: set[str] = field(default_factory=set)

    def add(self, vector: dict[str, Any]) -> None:
        where = f"{self.path}: vector on line {self.count + 2}"
        _check(vector, False, where)
        if vector["id"] in self.ids:
            raise VectorFileError(f"{where}: duplicate id {vector['id']!r}")
        self.ids.add(vector["id"])
        self.body.write(json.dumps(vector, sort_keys=True).encode("utf-8") + b"\n")
        self.count += 1

    def finish(self, meta: dict[str, Any]) -> None:
        record = {"meta": meta}
        _check(record, True, f"{self.path}: meta")
        with atomic_file(self.path) as out:
            out.write(json.dumps(record, sort_keys=True).encode("utf-8") + b"\n")
            self.body.seek(0)
            shutil.copyfileobj(self.body, out)


@contextmanager
def vector_writer(path: Path) -> Iterator[VectorWriter]:
    """A `VectorWriter` for `path`. Nothing appears at `path` unless `finish` completes, and the
    scratch file (unnamed, beside `path`) goes when the block ends, whatever happens in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=path.parent) as body:
        yield VectorWriter(path, body)


def write_vectors(path: Path, meta: dict[str, Any], vectors: Iterable[dict[str, Any]]) -> None:
    """Write the file atomically, every record validated (a `vector_writer` fed from a list)."""
    with vector_writer(path) as writer:
        for vector in vectors:
            writer.add(vector)
        writer.finish(meta)


def read_vectors(path: Path) -> VectorFile:
    """Parse and validate a vector file; the error names the line and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise VectorFileError(f"{path}: cannot read: {err}") from err
    lines = text.splitlines()
    if not lines:
        raise VectorFileError(f"{path}:1: empty file: expected a meta record")
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise VectorFileError(f"{path}:{number}:{err.colno}: not JSON: {err.msg}") from err
    if not isinstance(records[0], dict) or "meta" not in records[0]:
        raise VectorFileError(f"{path}:1: the first line must be the meta record")
    _check(records[0], True, f"{path}:1")
    seen: set[str] = set()
    for number, record in enumerate(records[1:], start=2):
        _check(record, False, f"{path}:{number}")
        if record["id"] in seen:
            raise VectorFileError(f"{path}:{number}: duplicate id {record['id']!r}")
        seen.add(record["id"])
    meta = records[0]["meta"]
    if meta["count"] != len(records) - 1:
        raise VectorFileError(
            f"{path}:1: field 'meta/count': says {meta['count']} vectors, the file has {len(records) - 1}"
        )
    return VectorFile(meta, records[1:])
