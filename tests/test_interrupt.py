"""Ctrl-C: every subcommand stops at once with exit 130, says what it had done, records nothing
that was in progress, leaves no file half-written and no process behind.

The end-to-end tests run `hypspec` in a process group of its own and send SIGINT to the group, as
a terminal does; the rest test the pieces (`hypspec.interrupt`, `hypspec.files`, the QEMU runner)
in-process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import pytest

from hypspec.api import ROOT
from hypspec.conformance import image_runner
from hypspec.conformance.errors import HarnessRunError
from hypspec.exitcodes import ExitCode
from hypspec.files import output_directory, staged_directory, write_atomically
from hypspec.interrupt import (
    ctrl_c_inside_z3_calls,
    ignore_interrupts_in_worker,
    interrupt_after,
    stop_pool,
    unless_interrupted,
    z3_stops_on_interrupt,
)

# How long a stopped command may take to exit: it has nothing left to do but print.
PROMPT = 5.0


@dataclass(frozen=True)
class Stopped:
    run: subprocess.CompletedProcess[str]
    seconds: float  # from SIGINT to exit
    left: list[str]  # processes of the group still alive after the exit

    @property
    def out(self) -> str:
        return self.run.stdout

    @property
    def err(self) -> str:
        return self.run.stderr


def _group_members(group: int) -> list[str]:
    """The processes of process group `group`, from /proc (the command line of each)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        # the fields after the command name, which is in parentheses and may hold spaces
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(command)
    return found


def interrupt(argv: Sequence[str], cwd: Path, *, after: str | None = None, seconds: float = 2.0) -> Stopped:
    """Run `hypspec ARGV`, and send its process group SIGINT `seconds` after `after` appears on its
    standard error (or after it starts)."""
    process = subprocess.Popen([sys.executable, "-m", "hypspec.cli", *argv], cwd=cwd, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    err = ""
    try:
        while after is not None and after not in err:
            line = process.stderr.readline()  # type: ignore[union-attr]
            assert line, f"the command ended before {after!r}: {err}"
            err += line
        time.sleep(seconds)
        assert process.poll() is None, "the command ended before it was interrupted"
        sent = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        out, rest = process.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    run = subprocess.CompletedProcess(process.args, process.returncode, out, err + rest)
    return Stopped(run, took, _group_members(process.pid))


def assert_stopped_cleanly(stopped: Stopped) -> None:
    assert stopped.run.returncode == ExitCode.INTERRUPTED, stopped.err
    assert "hypspec: interrupted" in stopped.err
    assert "Traceback" not in stopped.err
    assert stopped.seconds < PROMPT, f"took {stopped.seconds:.1f} s to stop"
    assert stopped.left == []


def test_prove_stops_inside_z3_and_records_nothing_it_was_proving(tmp_path: Path) -> None:
    """KVM.Inv.HypIntegrity spends nearly all its time in Z3, so two seconds in, Ctrl-C lands in
    a solver call. Left to itself Z3 would catch it and answer `unknown`, and the invariant would
    be reported as unproved after its remaining obligations ran. Instead the property that
    finished is reported, the invariant is not, and the command exits 130 at once."""
    stopped = interrupt(["prove", "Stage2.Containment", "KVM.Inv.HypIntegrity"], tmp_path,
                        after="proving KVM.Inv.HypIntegrity")
    assert_stopped_cleanly(stopped)
    assert "Stage2.Containment" in stopped.out and "proved" in stopped.out
    assert "KVM.Inv.HypIntegrity" not in stopped.out
    assert "unknown" not in stopped.out
    assert "1 proof(s) finished (1 proved); the one in progress is not recorded" in stopped.err
    assert list(tmp_path.iterdir()) == []


def test_vectors_stops_and_leaves_no_file_and_no_directory(tmp_path: Path) -> None:
    stopped = interrupt(["vectors", "traps", "--out", "out/traps"], tmp_path, after="traps:", seconds=1.0)
    assert_stopped_cleanly(stopped)
    assert "no vectors written" in stopped.err
    assert list(tmp_path.iterdir()) == []  # neither out/traps/traps.jsonl nor the directories made for it


def test_explore_stops_and_says_how_far_it_got(tmp_path: Path) -> None:
    stopped = interrupt(["explore", "--steps", "100", "--examples", "100000"], tmp_path, after="exploring:",
                        seconds=1.0)
    assert_stopped_cleanly(stopped)
    assert "transitions run (seed 0) before the interrupt; no verdict" in stopped.err
    assert "OK" not in stopped.out and "VIOLATION" not in stopped.out


# --- The pieces --------------------------------------------------------------------------------


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_a_stopped_pool_ends_its_workers_instead_of_draining_its_queue() -> None:
    """What `prove --jobs` needs: workers that leave Ctrl-C to the parent (a terminal sends it to
    them too) and a pool that, once the run is over, ends them mid-task and drops the queue."""
    pool = ProcessPoolExecutor(2, initializer=ignore_interrupts_in_worker)
    futures = [pool.submit(_sleep, 30) for _ in range(6)]
    time.sleep(1.0)  # the workers are up and in their first task
    workers = list(pool._processes.values())
    assert len(workers) == 2
    for worker in workers:
        os.kill(worker.pid, signal.SIGINT)  # what a terminal's Ctrl-C does to them
    time.sleep(0.3)
    assert all(worker.is_alive() for worker in workers), "a worker died of the SIGINT meant for its parent"
    start = time.monotonic()
    stop_pool(pool)
    # the pool's own thread may reap a worker a moment after stop_pool has, and until it has,
    # is_alive() still says yes
    while any(worker.is_alive() for worker in workers) and time.monotonic() - start < PROMPT:
        time.sleep(0.01)
    assert time.monotonic() - start < PROMPT, "the workers outlived the pool"
    # no task ran to its end: each was dropped or ended with the pool. Which of the two is up to the
    # pool's manager thread, which may get to the queue only after stop_pool has returned (on a
    # loaded machine, the last tasks then end broken rather than cancelled).
    deadline = time.monotonic() + PROMPT
    while not all(future.done() for future in futures) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(future.done() for future in futures), "a task outlived its pool"
    for future in futures:
        assert future.cancelled() or isinstance(future.exception(), BrokenProcessPool)


@dataclass(frozen=True)
class _Case:
    id: str


def test_a_failed_batch_ends_the_qemu_runs_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C or an error in one batch of `conform` ends the run: the QEMU processes of the other
    batches are killed and the batches not started are dropped, rather than waited for."""
    started: list[str] = []

    def run_chunk(chunk: Sequence[_Case], tools: object) -> list[str]:
        started.append(chunk[0].id)
        if chunk[0].id == "0":
            time.sleep(0.5)
            raise HarnessRunError("batch 0 failed")
        image_runner.run_qemu(["sleep", "30"], timeout=60)  # stands for a long QEMU run
        return [case.id for case in chunk]

    monkeypatch.setattr(image_runner, "find_toolchain", lambda: None)
    start = time.monotonic()
    with pytest.raises(HarnessRunError, match="batch 0 failed"):
        image_runner.run_batches([_Case(str(n)) for n in range(4)], batch=1, jobs=2,
                                 validate=lambda case: None, what="test", run_chunk=run_chunk)
    assert time.monotonic() - start < PROMPT
    time.sleep(0.2)  # the killed run's thread returns
    # the thread of batch 0 may take batch 2 before the run is stopped (its QEMU is killed as it
    # starts); batch 3 never starts
    assert "3" not in started
    assert image_runner._RUNNING.processes == set()


def test_interrupt_after_holds_ctrl_c_until_the_block_is_done() -> None:
    finished = False
    with pytest.raises(KeyboardInterrupt), interrupt_after():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # the signal is handled here, and held
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "v.jsonl"
    write_atomically(target, "old\n")

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["v.jsonl"]  # no temporary file left


def test_an_output_directory_goes_again_if_the_command_does_not_finish(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), output_directory(tmp_path / "a" / "b" / "c"):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()
    with output_directory(tmp_path / "kept" / "new") as made:
        (made / "f").write_text("x")
    assert (tmp_path / "kept" / "new" / "f").read_text() == "x"


def test_staged_files_appear_together_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "images"
    with pytest.raises(KeyboardInterrupt), staged_directory(out) as scratch:
        (scratch / "one.elf").write_text("1")
        raise KeyboardInterrupt
    assert not out.exists()
    out.mkdir()
    (out / "other").write_text("kept")
    with staged_directory(out) as scratch:
        (scratch / "one.elf").write_text("1")
        (scratch / "one.json").write_text("{}")
        assert not (out / "one.elf").exists()  # not before the block is done
    assert sorted(p.name for p in out.iterdir()) == ["one.elf", "one.json", "other"]


def test_ctrl_c_met_while_ctypes_converts_a_z3_calls_arguments_is_still_ctrl_c() -> None:
    """Python runs its SIGINT handler between bytecodes, some of them inside ctypes' conversion of
    a Z3 call's arguments, and ctypes then raises ArgumentError in the interrupt's place (seen in
    CI: `hypspec prove` ended with that traceback). Inside `ctrl_c_inside_z3_calls` it is the
    KeyboardInterrupt it was; any other ArgumentError is left alone."""
    import ctypes

    def convert_interrupted() -> None:
        class Interrupting:
            @classmethod
            def from_param(cls, value: object) -> object:
                raise KeyboardInterrupt

        function = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda pointer: None)
        function.argtypes = [Interrupting]
        function(None)

    with pytest.raises(ctypes.ArgumentError, match="KeyboardInterrupt"):
        convert_interrupted()
    with pytest.raises(KeyboardInterrupt), ctrl_c_inside_z3_calls():
        convert_interrupted()
    with pytest.raises(ctypes.ArgumentError, match="wrong type"), ctrl_c_inside_z3_calls():
        ctypes.CFUNCTYPE(None, ctypes.c_int)(lambda value: None)("a string")


def test_after_ctrl_c_a_half_built_z3_term_is_collected_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C may land in a Z3 term's constructor; the half-built term's `__del__` then fails as
    it is collected, and Python would print that with a traceback (seen in CI). Once Ctrl-C has
    come, `z3_stops_on_interrupt` says nothing of it; before it, and after the block, the failure
    is reported as always."""
    import gc

    import z3

    reported: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: reported.append(unraisable.object))

    def collect_a_half_built_term() -> None:
        z3.AstRef.__new__(z3.AstRef)  # never initialised: no ctx for __del__ to use
        gc.collect()

    with z3_stops_on_interrupt():
        collect_a_half_built_term()
        assert len(reported) == 1  # no Ctrl-C yet
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # until the watcher thread has seen the signal
            reported.clear()
            collect_a_half_built_term()
            if not reported:
                break
        assert reported == []
    collect_a_half_built_term()
    assert len(reported) == 1


def test_ctrl_c_that_lands_in_a_finaliser_is_raised_again_outside_it() -> None:
    """Python cannot raise an exception out of `__del__`; a KeyboardInterrupt that lands in one (a
    Z3 term's finaliser runs at every dropped reference) would be lost while the watcher thread
    has already cancelled Z3, and `prove` then failed its next Z3 call with `push canceled` or
    went on proving (both seen under load). Inside `z3_stops_on_interrupt` it is raised again at
    the next bytecode outside the finaliser."""

    class InterruptedInItsFinaliser:
        def __del__(self) -> None:
            raise KeyboardInterrupt

    slept = 0
    with z3_stops_on_interrupt(), pytest.raises(KeyboardInterrupt):
        InterruptedInItsFinaliser()  # dropped at once
        while slept < 1000:
            time.sleep(0.001)
            slept += 1
    assert slept < 1000


def test_once_ctrl_c_has_come_an_error_or_a_result_is_the_interrupt() -> None:
    """Between the watcher thread's cancelling Z3 and the KeyboardInterrupt's reaching the main
    thread, a Z3 call fails or answers `unknown`. What that leads to, an error or a result, is
    not the command's to report: it is the interrupt again. Before Ctrl-C, and after the command,
    both are what they are."""
    with z3_stops_on_interrupt():
        assert unless_interrupted("proved") == "proved"
        with pytest.raises(RuntimeError), ctrl_c_inside_z3_calls():
            raise RuntimeError("the solver answered unknown")
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        deadline = time.monotonic() + PROMPT
        while time.monotonic() < deadline:  # until the watcher thread has seen the signal
            try:
                unless_interrupted("proved")
            except KeyboardInterrupt:
                break
            time.sleep(0.01)
        with pytest.raises(KeyboardInterrupt):
            unless_interrupted("unknown")
        with pytest.raises(KeyboardInterrupt), ctrl_c_inside_z3_calls():
            raise RuntimeError("the solver answered unknown")
    assert unless_interrupted("proved") == "proved"
