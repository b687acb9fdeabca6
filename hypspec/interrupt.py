"""Ctrl-C: a command stops at once, says what it had done, and records nothing half-done.

`hypspec.cli.main` turns a KeyboardInterrupt into `ExitCode.INTERRUPTED` in one place. What it
needs from the rest of the engine lives here: an exception that carries what a command had done
by then, Z3 calls that Ctrl-C stops without turning into an `unknown` answer, and pools of
workers that stop rather than finish their queue.
"""

from __future__ import annotations

import _thread
import ctypes
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

# How long a terminated worker process may take to go.
_WORKER_EXIT_SECONDS = 5.0


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what the command had done by then (for the message the user reads)."""

    def __init__(self, done: str) -> None:
        super().__init__(done)
        self.done = done


# Set by the watcher thread of `z3_stops_on_interrupt` once Ctrl-C has come: from then on the
# command is stopping, whatever its main thread is doing.
_CTRL_C_CAME = threading.Event()

# A byte the unraisable-exception hook writes to the watcher's pipe: a KeyboardInterrupt was lost
# in a finaliser, trip SIGINT again. Signal numbers are below 65, and 0 tells the watcher to stop.
_LOST_IN_A_FINALISER = 255


@contextmanager
def z3_stops_on_interrupt() -> Iterator[None]:
    """While active, Ctrl-C stops a Z3 call in progress and raises KeyboardInterrupt from it.

    Left to itself, Z3 takes SIGINT over for the length of each check and answers `unknown`
    ("interrupted from keyboard"): Python never sees the interrupt, and a prover records the
    property it was on as unproved and carries on with the next one. Here Z3 leaves SIGINT to
    Python, whose handler only notes it until the call returns; a thread woken through the signal
    wakeup fd cancels the call, so it returns at once, and Python raises KeyboardInterrupt before
    the caller sees the answer. What the main thread does with a cancelled Z3 before that
    KeyboardInterrupt reaches it is `ctrl_c_inside_z3_calls`'s and `unless_interrupted`'s to undo.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread: there is nothing to watch for
        return
    import z3

    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # the signal handler must never block
    previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    z3.set_param("ctrl_c", False)
    _CTRL_C_CAME.clear()
    watcher = threading.Thread(target=_cancel_z3_on_sigint, args=(read_end,), name="hypspec-ctrl-c",
                               daemon=True)
    watcher.start()
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _ctrl_c_in_finalisers(write_end, previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        signal.set_wakeup_fd(previous)
        z3.set_param("ctrl_c", True)
        # 0 is no signal's number: it tells the watcher to stop. Not EOF, since worker processes
        # forked meanwhile may still hold the write end.
        os.write(write_end, b"\0")
        watcher.join()
        _CTRL_C_CAME.clear()  # the command it stopped is over
        os.close(write_end)
        os.close(read_end)


def _ctrl_c_in_finalisers(watcher: int, previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable-exception hook for the length of `z3_stops_on_interrupt`.

    Python raises KeyboardInterrupt between any two bytecodes, and some of those are in a
    finaliser (a Z3 term's `__del__` runs at every dropped reference). Raised there, it cannot
    propagate: Python hands it to this hook and carries on, with Z3 already cancelled. The hook
    asks the watcher thread to trip SIGINT again, to land outside the finaliser. It cannot trip it
    itself: Python would raise it at once, inside the hook, where it would be lost as well. For
    the same reason a trip that lands before the hook has returned (the write lets the watcher
    run) is caught, and asked for again. Once Ctrl-C has come, the hook also says nothing of a Z3
    object's finaliser failing: the interrupt may have landed in that term's constructor, whose
    half-built object then fails as it is collected. Anything else is reported as before."""

    def hook(unraisable: Any) -> object:
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            while True:
                try:
                    os.write(watcher, bytes([_LOST_IN_A_FINALISER]))
                    return None
                except KeyboardInterrupt:
                    continue  # the watcher's trip came too soon: ask again
        if _CTRL_C_CAME.is_set() and getattr(unraisable.object, "__module__", "").startswith("z3"):
            return None
        return previous(unraisable)
    return hook


def _cancel_z3_on_sigint(read_end: int) -> None:
    import z3

    while True:
        received = os.read(read_end, 64)
        if signal.SIGINT in received:
            _CTRL_C_CAME.set()
            z3.main_ctx().interrupt()
        if _LOST_IN_A_FINALISER in received:
            _thread.interrupt_main(signal.SIGINT)
        if not received or 0 in received:
            return


def unless_interrupted(result: T) -> T:
    """`result`, unless Ctrl-C came while it was computed: Z3 may then have answered `unknown`
    because it was cancelled, before the KeyboardInterrupt reached the main thread. A command
    passes each result through this before it records it."""
    if _CTRL_C_CAME.is_set():
        raise KeyboardInterrupt
    return result


# How ctypes reports an exception raised while it converts a call's arguments: Python runs its
# SIGINT handler between bytecodes, and some of those are the conversion of a Z3 call's arguments.
_CONVERTED_CTRL_C = re.compile(r"argument \d+: KeyboardInterrupt\b")


@contextmanager
def ctrl_c_inside_z3_calls() -> Iterator[None]:
    """Inside, Ctrl-C is always a KeyboardInterrupt, and ends the command as one.

    - When it lands while ctypes converts the arguments of a Z3 call, ctypes raises
      `ctypes.ArgumentError` ("argument 1: KeyboardInterrupt: ") in its place.
    - Once it has come, Z3 is cancelled, and a Z3 call the main thread makes before the
      KeyboardInterrupt reaches it fails (`push canceled`), or answers `unknown`, which the
      caller refuses with an error of its own.

    Either would end the command with a traceback or an error message; each is raised again as
    the KeyboardInterrupt it was."""
    try:
        yield
    except ctypes.ArgumentError as err:
        if not _CONVERTED_CTRL_C.match(str(err)):
            raise
        raise KeyboardInterrupt from err
    except Exception as err:
        if not _CTRL_C_CAME.is_set():
            raise
        raise KeyboardInterrupt from err


@contextmanager
def interrupt_after() -> Iterator[None]:
    """Hold Ctrl-C back until the block (a few renames that belong together, say) is done, then
    raise it: the block runs whole or, if Ctrl-C came before it, not at all."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and callable(previous):
        previous(signal.SIGINT, None)  # Python's own handler: raises KeyboardInterrupt


def ignore_interrupts_in_worker() -> None:
    """For a worker process's initializer: Ctrl-C is the parent's to handle.

    A terminal sends SIGINT to every process of the job. A worker that took it would die with a
    traceback of its own, or answer `unknown` for the obligation it was on; instead the parent,
    which knows the run is over, ends its workers (`stop_pool`). A forked worker would also write
    the signal to its parent's wakeup fd (`z3_stops_on_interrupt`), so it lets go of it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if threading.current_thread() is threading.main_thread():
        signal.set_wakeup_fd(-1)


def stop_pool(pool: Executor) -> None:
    """Stop `pool` now: drop the work not yet started and end worker processes in the middle of
    theirs, rather than wait for the queue to drain as leaving a `with` block does."""
    # Python 3.14 has ProcessPoolExecutor.terminate_workers(); before it, the processes are only
    # reachable through the private `_processes`.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(_WORKER_EXIT_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
