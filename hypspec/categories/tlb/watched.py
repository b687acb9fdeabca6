"""Remembering what a deterministic spec operation did, under what it read (the tlb vectors'
:class:`hypspec.categories.tlb.generate.Explorer`).

An exploration keeps a state as a *base* (every global but a few maps, :class:`Bases`) and the
values of those maps (:class:`MapValues`), each under a small id. While the spec runs an operation,
the maps are watched (:class:`WatchedMap`): they log every entry read, in order, with the value seen;
a :class:`ReadNode` tree keeps what the operation did under the values it read. The compiled spec
is deterministic given the state, so from the same base, maps whose entries hold those values
lead to the same reads, the same writes, the same result and the same paths: the tree's leaf.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypspec.api import State
from hypspec.categories.script.steps import fork_state

#: A read of a map, in the order the spec made them: (map, key, default, value). A use of the map's
#: keys only (a `clear ... where` visits every key) has key :data:`KEYS` and the map's keys before
#: the operation; any other use of the whole map, key :data:`WHOLE` and the map's id.
Read = tuple[int, Any, Any, Any]
KEYS, WHOLE = "the map's keys", "the whole map"


class WatchedMap(dict):  # type: ignore[type-arg]
    """A map while the spec runs an operation: each entry read (as the compiled spec reads a map,
    `get(key, default)`) before the operation wrote it, with the value seen, logged in order with
    the other maps'; and the keys written. A use of the keys alone (iterating, `in`, `len`) is
    logged as one read of :data:`KEYS`, any other use as one of :data:`WHOLE`. Removing an entry
    is refused: the compiled spec never does."""

    def __init__(self, items: dict[Any, Any], index: int, ident: int, keys: frozenset[Any],
                 log: list[Read]) -> None:
        super().__init__(items)
        self.index, self.ident, self.initial_keys, self.log = index, ident, keys, log
        self.written: set[Any] = set()
        self.whole = self.keys_read = False

    def fork(self) -> WatchedMap:
        """A copy whose reads are logged too (those of entries this map wrote are not reads of the
        state), and whose writes are its own."""
        # dict.items(), not self.copy(): a dict subclass's copy would read the keys through ours
        copied = WatchedMap(dict(dict.items(self)), self.index, self.ident, self.initial_keys, self.log)
        copied.written = set(self.written)
        copied.whole, copied.keys_read = self.whole, self.keys_read
        return copied

    def get(self, key: Any, default: Any = None) -> Any:
        value = super().get(key, default)
        if not self.whole and key not in self.written:
            self.log.append((self.index, key, default, value))
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self.written.add(key)
        super().__setitem__(key, value)

    def _keys(self) -> None:
        if not (self.whole or self.keys_read):
            self.keys_read = True
            self.log.append((self.index, KEYS, None, self.initial_keys))

    def _everything(self) -> None:
        if not self.whole:
            self.whole = True
            self.log.append((self.index, WHOLE, None, self.ident))

    def __iter__(self) -> Any:
        self._keys()
        return super().__iter__()

    def __contains__(self, key: object) -> bool:
        self._keys()
        return super().__contains__(key)

    def __getitem__(self, key: Any) -> Any:
        self._everything()
        return super().__getitem__(key)

    def __len__(self) -> int:
        self._keys()
        return super().__len__()

    def keys(self) -> Any:
        self._keys()
        return super().keys()

    def items(self) -> Any:
        self._everything()
        return super().items()

    def values(self) -> Any:
        self._everything()
        return super().values()

    def _refused(self, *_: Any) -> Any:
        raise TypeError("the compiled spec changes a map only by writing an entry")

    __delitem__ = pop = popitem = clear = update = setdefault = _refused

    def writes(self) -> tuple[tuple[Any, Any], ...]:
        return tuple((key, dict.__getitem__(self, key)) for key in sorted(self.written))


def fork_watched(state: State, names: Sequence[str]) -> State:
    """:func:`fork_state`, with the watched maps among ``names`` copied as watched maps (a copy by
    `dict()` would read every entry)."""
    tables = {name: getattr(state, name) for name in names}
    for name in names:
        setattr(state, name, {})
    fork = fork_state(state)
    for name, table in tables.items():
        setattr(state, name, table)
        setattr(fork, name, table.fork() if isinstance(table, WatchedMap) else dict(table))
    return fork


class MapValues:
    """Every distinct value of one map the exploration reaches, kept once under a small id (never
    changed), with the id of its non-zero entries: runs are merged on those."""

    def __init__(self) -> None:
        self.tables: list[dict[Any, Any]] = []
        self.keys: list[frozenset[Any]] = []
        self.nonzero: list[int] = []
        self._ids: dict[frozenset[tuple[Any, Any]], int] = {}
        self._nonzero_ids: dict[frozenset[tuple[Any, Any]], int] = {}
        self._updated: dict[tuple[int, tuple[tuple[Any, Any], ...]], int] = {}

    def add(self, table: dict[Any, Any]) -> int:
        key = frozenset(table.items())
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.tables)
            self.tables.append(dict(table))
            self.keys.append(frozenset(table))
            nonzero = frozenset((k, v) for k, v in table.items() if v)
            self.nonzero.append(self._nonzero_ids.setdefault(nonzero, len(self._nonzero_ids)))
        return found

    def updated(self, ident: int, writes: tuple[tuple[Any, Any], ...]) -> int:
        """The id of table ``ident`` with ``writes`` made."""
        if not writes:
            return ident
        found = self._updated.get((ident, writes))
        if found is None:
            table = dict(self.tables[ident])
            table.update(writes)
            found = self._updated[ident, writes] = self.add(table)
        return found


class Bases:
    """Every distinct base (a state without the maps named ``apart``) an exploration reaches, kept
    once under a small id (never changed), with its key: every other global (a map as its
    entries) and the oracle's seed and pinned choices; not the oracle's record of what it chose,
    which the spec only writes."""

    def __init__(self, apart: Sequence[str]) -> None:
        self.apart = tuple(apart)
        self.states: list[State] = []
        self.keys: list[tuple[Any, ...]] = []
        self._ids: dict[tuple[Any, ...], int] = {}

    @staticmethod
    def _frozen(value: Any) -> Any:
        return frozenset(value.items()) if isinstance(value, dict) else value

    def add(self, state: State) -> int:
        """The id of ``state``'s base (``state`` is kept: the caller hands it over)."""
        oracle = state.oracle
        key = (type(oracle), oracle.seed, frozenset(oracle.overrides.items()),
               *((name, self._frozen(value)) for name, value in vars(state).items()
                 if name != "oracle" and name not in self.apart))
        return self._keep(state, key)

    def after(self, base: int, state: State) -> int:
        """The id of the base of ``state``, the result of an operation on base ``base``: the same
        id when no global changed; else the key of ``base`` with the changed globals replaced
        (most of a state is untouched, and freezing memory is the slow part of a key)."""
        before = self.states[base]
        old = vars(before)
        key = list(self.keys[base])
        changed = False
        position = 3
        for name, value in vars(state).items():
            if name == "oracle" or name in self.apart:
                continue
            previous = old[name]
            if value is not previous and value != previous:
                key[position] = (name, self._frozen(value))
                changed = True
            position += 1
        if state.oracle.overrides != before.oracle.overrides:
            key[2] = frozenset(state.oracle.overrides.items())
            changed = True
        return self._keep(state, tuple(key)) if changed else base

    def _keep(self, state: State, key: tuple[Any, ...]) -> int:
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.states)
            for name in self.apart:
                setattr(state, name, {})
            self.states.append(state)
            self.keys.append(key)
        return found


class ReadNode:
    """What an operation on one base did, as a tree of the reads it made: at an inner node the
    spec read ``read`` (map, key, default), and the branch is the value it saw; a leaf holds
    the effect. The spec is deterministic, so the same values read lead to the same reads next."""

    __slots__ = ("branches", "effect", "read")

    def __init__(self) -> None:
        self.read: tuple[int, Any, Any] | None = None
        self.branches: dict[Any, ReadNode] = {}
        self.effect: Any = None
