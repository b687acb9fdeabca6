"""Progress on long work (#13, item 5): a meter (count and rate, one line redrawn in place) on a
terminal, and nothing of it with `-q`, with `--json` or when standard error is not a terminal.

The meter itself is tested with a fake clock; the commands in-process with standard error said to
be a terminal, and `explore` (a Ctrl-C included) in a process whose standard error is a real
pseudo-terminal.
"""

from __future__ import annotations

import argparse
import io
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from hypspec.api import ROOT
from hypspec.cli import main
from hypspec.exitcodes import ExitCode
from hypspec.output import Meter, inform, meters

# What a meter's line looks like, whatever it counts: `label 40/90, 12/s` or `label 40, 0.5/s`.
RATE = r"[\d,.e+-]+/s"


class _Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _draws(stream: io.StringIO) -> list[str]:
    """The texts a meter drew, in order."""
    return [text.rstrip() for text in stream.getvalue().split("\r")[1:]]


# --- the meter -----------------------------------------------------------------------------------


def test_a_meter_redraws_at_most_ten_times_a_second() -> None:
    clock, stream = _Clock(), io.StringIO()
    meter = Meter("made", 32, True, clock=clock, stream=stream)
    for _ in range(32):
        clock.now += 0.0625  # 16 steps a second, exactly: a redraw every other step
        meter.advance()
    assert _draws(stream) == [f"made {n}/32, 16/s" for n in range(2, 33, 2)]


def test_close_draws_the_last_count_and_ends_the_line() -> None:
    clock, stream = _Clock(), io.StringIO()
    with Meter("found", None, True, clock=clock, stream=stream) as meter:
        clock.now = 0.5
        meter.advance(3)
        clock.now = 0.55
        meter.advance()  # too soon to redraw
        clock.now = 8.0
    assert stream.getvalue() == "\rfound 3, 6/s\rfound 4, 0.5/s\n"


def test_a_shorter_line_covers_the_longer_one_it_replaces() -> None:
    clock, stream = _Clock(), io.StringIO()
    with Meter("made", None, True, clock=clock, stream=stream) as meter:
        clock.now = 0.125
        meter.advance(1250)  # 10,000/s
        clock.now = 1250.0
    first, last = stream.getvalue().rstrip("\n").split("\r")[1:]
    assert first == "made 1,250, 10,000/s" and last == "made 1,250, 1/s".ljust(len(first))


def test_a_meter_closes_when_its_block_is_interrupted() -> None:
    """So that Ctrl-C's message starts on a line of its own."""
    clock, stream = _Clock(), io.StringIO()
    with pytest.raises(KeyboardInterrupt), Meter("run", 5, True, clock=clock, stream=stream) as meter:
        clock.now = 1.0
        meter.advance()
        raise KeyboardInterrupt
    assert stream.getvalue().endswith("run 1/5, 1/s\n")


def test_a_meter_not_enabled_or_with_nothing_counted_prints_nothing() -> None:
    clock, stream = _Clock(), io.StringIO()
    with Meter("made", 10, False, clock=clock, stream=stream) as meter:
        for _ in range(10):
            clock.now += 1.0
            meter.advance()
    with Meter("made", 10, True, clock=clock, stream=stream):
        clock.now += 1.0
    assert stream.getvalue() == ""
    assert meter.done == 10  # it still counts: a Ctrl-C's message says how far the work got


def test_a_line_printed_under_a_meter_goes_above_it(monkeypatch: pytest.MonkeyPatch) -> None:
    clock, stream = _Clock(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with Meter("made", 2, True, clock=clock, stream=stream) as meter:
        clock.now = 1.0
        meter.advance()
        inform(argparse.Namespace(), "next phase")
        clock.now = 2.0
        meter.advance()
    drawn = "\rmade 1/2, 1/s"
    wiped = "\r" + " " * (len(drawn) - 1) + "\r"
    # drawn again below the line, then at 2.0 s by the advance and by the close
    assert stream.getvalue() == drawn + wiped + "next phase\n" + drawn + "\rmade 2/2, 1/s" * 2 + "\n"


@pytest.mark.parametrize(("options", "terminal", "shown"), [
    ({}, True, True),
    ({}, False, False),
    ({"quiet": True}, True, False),
    ({"json": True}, True, False),
])
def test_meters_are_shown_only_to_a_terminal_when_informing(
        monkeypatch: pytest.MonkeyPatch, options: dict[str, bool], terminal: bool, shown: bool) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    assert meters(argparse.Namespace(**options))("work", None).enabled is shown


# --- the commands, in-process ---------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, terminal: bool,
         *argv: str) -> tuple[str, str]:
    """`hypspec ARGV` in-process, standard error a terminal or not: its stdout and stderr."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    assert main(list(argv)) == ExitCode.OK
    return capsys.readouterr()


def test_vectors_shows_the_paths_found_and_the_vectors_made(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    command = ["vectors", "stage2", "--random", "5", "--out", str(tmp_path)]
    _, err = _run(capsys, monkeypatch, True, *command)
    witnesses = int(re.search(r"stage2: (\d+) witnesses", err)[1])  # type: ignore[index]
    assert re.search(rf"\rstage2: feasible paths found {witnesses}, {RATE} *\n", err)
    assert re.search(rf"\rstage2: vectors made {witnesses + 5}/{witnesses + 5}, {RATE} *\n", err)
    _, plain_err = _run(capsys, monkeypatch, False, *command)
    assert "\r" not in plain_err and "/s" not in plain_err  # the phase lines only
    assert plain_err == re.sub(r"\r[^\n]*\n", "", err)


def test_prove_shows_the_properties_done(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    command = ["prove", "Stage2.Containment", "Stage2.OffsetPreserved"]
    _, err = _run(capsys, monkeypatch, True, *command)
    assert re.search(rf"\rprove: properties done 2/2, {RATE} *\n", err)
    for options, terminal in ((["-q"], True), ([], False)):
        _, quiet_err = _run(capsys, monkeypatch, terminal, *options, *command)
        assert "properties done" not in quiet_err
    _, json_err = _run(capsys, monkeypatch, True, *command, "--json")
    assert json_err == ""


def test_explore_json_is_the_same_on_a_terminal(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The meter writes nothing to standard output, and nothing at all with --json."""
    command = ["explore", "--examples", "2", "--steps", "20", "--json"]
    out, err = _run(capsys, monkeypatch, True, *command)
    assert err == ""
    assert _run(capsys, monkeypatch, False, *command) == (out, "")


# --- explore on a pseudo-terminal ---------------------------------------------------------------


def _on_terminal(argv: Sequence[str], cwd: Path,
                 interrupt_after: float | None = None) -> tuple[int, str, str]:
    """`hypspec ARGV` in a process whose standard error is a pseudo-terminal (standard output is
    not): its exit code, stdout and what the terminal received. With `interrupt_after`, its
    process group gets SIGINT that many seconds after it starts, as Ctrl-C sends it."""
    controller, terminal = pty.openpty()
    out = cwd / "stdout"
    with out.open("w") as stdout:
        process = subprocess.Popen([sys.executable, "-m", "hypspec.cli", *argv], cwd=cwd, stdout=stdout,
                                   stderr=terminal, start_new_session=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(terminal)
    received = b""
    deadline = None if interrupt_after is None else time.monotonic() + interrupt_after
    try:
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                os.killpg(process.pid, signal.SIGINT)
                deadline = None
            ready, _, _ = select.select([controller], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the process and its terminal are gone
                break
            if not chunk:
                break
            received += chunk
        code = process.wait(timeout=60)
    finally:
        os.close(controller)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    # the terminal turns each newline into a carriage return and a newline
    return code, out.read_text(), received.decode().replace("\r\n", "\n")


def test_explore_on_a_terminal_shows_the_transitions_and_their_rate(tmp_path: Path) -> None:
    code, out, err = _on_terminal(["explore", "--examples", "2", "--steps", "20"], tmp_path)
    assert code == ExitCode.OK and "OK: every invariant held" in out
    steps = int(re.search(r"^(\d+) transitions", out)[1])  # type: ignore[index]
    assert re.search(rf"\rexplore: transitions {steps:,}, {RATE} *\n", err), err  # the meter groups digits
    assert "\r" not in out
    code, _, quiet_err = _on_terminal(["-q", "explore", "--examples", "2", "--steps", "20"], tmp_path)
    assert code == ExitCode.OK and quiet_err == ""


def test_ctrl_c_ends_the_meter_line_before_its_message(tmp_path: Path) -> None:
    code, _, err = _on_terminal(["explore", "--examples", "100000", "--steps", "100"], tmp_path,
                                interrupt_after=4.0)
    assert code == ExitCode.INTERRUPTED, err
    ended = rf"\rexplore: transitions [\d,]+, {RATE} *\nhypspec: interrupted: \d+ transitions run"
    assert re.search(ended, err), err
    assert "Traceback" not in err
