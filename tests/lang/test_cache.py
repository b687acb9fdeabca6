"""The on-disk cache of loaded and compiled specs (`hypspec.cache`): it answers only for the same
text, names and engine; damage, an unwritable directory or `off` fall back to doing the work."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from hypspec import cache
from hypspec.api import Spec
from hypspec.lang import load as load_module
from hypspec.lang.diagnostics import SpecError
from tests.lang.conftest import chapter

DOUBLE = ("Double()", "bits(8) Double(bits(8) x)\n    return x + x;")
TRIPLE = ("Double()", "bits(8) Double(bits(8) x)\n    return x + x + x;")
BROKEN = ("Double()", "bits(8) Double(bits(8) x)\n    return y;")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("HYPSPEC_CACHE_DIR", str(where))
    return where


def _write(tmp_path: Path, definition: tuple[str, str]) -> Path:
    path = tmp_path / "double.md"
    path.write_text(chapter(definition))
    return path


def _entries(store: Path, kind: str) -> list[Path]:
    return sorted(store.glob(f"{kind}-*")) if store.exists() else []


def _no_parsing(*_: object) -> None:
    raise AssertionError("the chapters were parsed although the cache holds them")


def test_a_second_load_is_served_from_the_cache(tmp_path: Path, store: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, DOUBLE)
    first = Spec.load(path)
    assert len(_entries(store, "spec")) == 1
    monkeypatch.setattr(load_module, "_parse_and_check", _no_parsing)
    second = Spec.load(path)
    assert second.digest == first.digest
    assert sorted(second.program.functions) == sorted(first.program.functions)
    assert second.call("Double", 0x41) == first.call("Double", 0x41) == 0x82


def test_compiled_code_is_cached_per_load(tmp_path: Path, store: Path) -> None:
    path = _write(tmp_path, DOUBLE)
    assert Spec.load(path).call("Double", 3) == 6
    assert len(_entries(store, "code")) == 1
    traced = Spec.load(path).traced  # a traced build is other code: its own entry
    assert traced.function("Double") is not None
    assert len(_entries(store, "code")) == 2


def test_an_edited_chapter_is_loaded_again(tmp_path: Path, store: Path) -> None:
    path = _write(tmp_path, DOUBLE)
    assert Spec.load(path).call("Double", 3) == 6
    path.write_text(chapter(TRIPLE))
    assert Spec.load(path).call("Double", 3) == 9
    assert len(_entries(store, "spec")) == 2


def test_a_spec_with_errors_is_never_stored(tmp_path: Path, store: Path) -> None:
    path = _write(tmp_path, BROKEN)
    for _ in range(2):  # reported in full each time, with its location
        with pytest.raises(SpecError) as raised:
            Spec.load(path)
        assert "double.md:9:12: error: unknown name" in str(raised.value)
    assert _entries(store, "spec") == []


def test_the_names_locations_print_are_part_of_the_key(tmp_path: Path, store: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, DOUBLE)
    monkeypatch.chdir(tmp_path)
    near = Spec.load(Path("double.md"))
    monkeypatch.chdir(store.parent.parent)
    far = Spec.load(path)
    assert near.loaded.cache_key != far.loaded.cache_key
    assert {loc.file for loc in _locations(near)} != {loc.file for loc in _locations(far)}


def _locations(spec: Spec) -> list:
    return [f.loc for f in spec.program.functions.values()]


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05garbage"])
def test_a_damaged_entry_is_a_miss(tmp_path: Path, store: Path, damage: bytes) -> None:
    path = _write(tmp_path, DOUBLE)
    Spec.load(path)
    for entry in _entries(store, "spec") + _entries(store, "code"):
        entry.write_bytes(damage)
    assert Spec.load(path).call("Double", 5) == 10
    (entry,) = _entries(store, "spec")
    assert pickle.loads(entry.read_bytes()).cache_key == Spec.load(path).loaded.cache_key


def test_an_entry_of_another_load_is_not_taken(tmp_path: Path, store: Path) -> None:
    path = _write(tmp_path, DOUBLE)
    Spec.load(path)
    (entry,) = _entries(store, "spec")
    path.write_text(chapter(TRIPLE))
    other = Spec.load(path)
    # the new load's entry now holds the old load: it must be refused, not trusted
    (new_entry,) = [e for e in _entries(store, "spec") if e != entry]
    new_entry.write_bytes(entry.read_bytes())
    assert Spec.load(path).call("Double", 3) == 9 == other.call("Double", 3)


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("HYPSPEC_CACHE_DIR", str(blocker))
    assert Spec.load(_write(tmp_path, DOUBLE)).call("Double", 2) == 4


def test_off_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPSPEC_CACHE_DIR", cache.OFF)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Spec.load(_write(tmp_path, DOUBLE)).call("Double", 2) == 4
    assert not (tmp_path / "xdg").exists()


def test_the_default_place_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HYPSPEC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    Spec.load(_write(tmp_path, DOUBLE))
    assert len(_entries(tmp_path / "xdg" / "hypspec", "spec")) == 1


def test_the_engine_is_part_of_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache.key("spec", "text")
    monkeypatch.setattr(cache, "engine_digest", lambda: "another engine")
    assert cache.key("spec", "text") != before
